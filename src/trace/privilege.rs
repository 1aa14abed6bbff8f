//! Dropping privilege once the ICMP sockets are open: every capability, and under sudo the invoking user.
//!
//! Runs before any DNS lookup or output, so neither a resolver nor a terminal ever talks to a process
//! that could open raw sockets. A failure to drop is an error, never a silent carry-on as root.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::sys::{caps, ids};

/// Who the process is after dropping privilege (shown in the JSON report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Privilege {
    /// Real and effective user id.
    pub uid: u32,
    /// Real and effective group id.
    pub gid: u32,
    /// Effective capability set, as a bit mask (0 once dropped).
    pub capabilities: u64,
    /// Whether the process switched to the user who ran sudo.
    pub sudo_user: bool,
}

/// The user to switch to when started through sudo: SUDO_UID/SUDO_GID, only when running as root and
/// when they name someone other than root.
pub fn sudo_target(euid: u32, sudo_uid: Option<&str>, sudo_gid: Option<&str>) -> Option<(u32, u32)> {
    if euid != 0 {
        return None;
    }
    let uid = sudo_uid?.trim().parse::<u32>().ok()?;
    let gid = sudo_gid?.trim().parse::<u32>().ok()?;
    (uid != 0).then_some((uid, gid))
}

/// Drops every capability and, under sudo, becomes the invoking user. Call after the sockets are open.
pub fn drop_privileges() -> Result<Privilege> {
    let euid = ids::euid();
    let target = sudo_target(
        euid,
        std::env::var("SUDO_UID").ok().as_deref(),
        std::env::var("SUDO_GID").ok().as_deref(),
    );
    // The bounding set can only shrink while CAP_SETPCAP is still held, i.e. before the user switch.
    caps::drop_bounding_set();
    caps::forbid_new_privileges();
    if let Some((uid, gid)) = target {
        ids::switch_user(uid, gid)
            .map_err(|e| Error::io(format!("switching to the sudo user (uid {uid}, gid {gid})"), e))?;
    }
    caps::clear().map_err(|e| Error::io("dropping capabilities", e))?;
    let capabilities = caps::effective().map_err(|e| Error::io("reading capabilities", e))?;
    if capabilities != 0 {
        return Err(Error::System(format!(
            "capabilities still held after dropping them (effective set {capabilities:#x})"
        )));
    }
    let (uid, gid) = (ids::uid(), ids::gid());
    Ok(Privilege {
        uid,
        gid,
        capabilities,
        sudo_user: target.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sudo_target_only_for_root_and_a_real_user() {
        assert_eq!(sudo_target(0, Some("1000"), Some("1000")), Some((1000, 1000)));
        assert_eq!(
            sudo_target(0, Some(" 65534 "), Some("65534")),
            Some((65534, 65534))
        );
        // Not root: nothing to switch (and no way to).
        assert_eq!(sudo_target(1000, Some("1000"), Some("1000")), None);
        // sudo from root, or garbage, or a missing variable: stay, only capabilities go.
        assert_eq!(sudo_target(0, Some("0"), Some("0")), None);
        assert_eq!(sudo_target(0, Some("x"), Some("1")), None);
        assert_eq!(sudo_target(0, Some("1000"), None), None);
        assert_eq!(sudo_target(0, None, Some("1000")), None);
    }
}
