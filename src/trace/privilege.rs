//! Dropping privilege once the ICMP sockets are open: every capability, and under sudo the invoking user.
//!
//! Runs before any DNS lookup or output, so neither a resolver nor a terminal ever talks to a process
//! that could open raw sockets. A failure to drop is an error, never a silent carry-on as root.

use std::io;

use serde::Serialize;

use crate::error::{Error, Result};

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit capability sets in two 32-bit words.
const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

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
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let target = sudo_target(
        euid,
        std::env::var("SUDO_UID").ok().as_deref(),
        std::env::var("SUDO_GID").ok().as_deref(),
    );
    // The bounding set can only shrink while CAP_SETPCAP is still held, i.e. before the user switch.
    drop_bounding_set();
    // SAFETY: prctl with these arguments only clears the ambient set / sets a process flag.
    unsafe {
        libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    }
    if let Some((uid, gid)) = target {
        switch_user(uid, gid)
            .map_err(|e| Error::io(format!("switching to the sudo user (uid {uid}, gid {gid})"), e))?;
    }
    set_capabilities(CapData::default()).map_err(|e| Error::io("dropping capabilities", e))?;
    let capabilities = effective_capabilities().map_err(|e| Error::io("reading capabilities", e))?;
    if capabilities != 0 {
        return Err(Error::System(format!(
            "capabilities still held after dropping them (effective set {capabilities:#x})"
        )));
    }
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    Ok(Privilege {
        uid,
        gid,
        capabilities,
        sudo_user: target.is_some(),
    })
}

fn switch_user(uid: u32, gid: u32) -> io::Result<()> {
    // Order matters: groups and gid need privilege, so they go before the uid.
    // SAFETY: plain syscalls with valid arguments; results are checked.
    unsafe {
        check(libc::setgroups(1, &gid))?;
        check(libc::setresgid(gid, gid, gid))?;
        check(libc::setresuid(uid, uid, uid))?;
        let (mut r, mut e, mut s) = (0, 0, 0);
        check(libc::getresuid(&mut r, &mut e, &mut s))?;
        if r != uid || e != uid || s != uid {
            return Err(io::Error::other("user ids did not change"));
        }
    }
    Ok(())
}

fn drop_bounding_set() {
    for cap in 0..64 {
        // SAFETY: PR_CAPBSET_DROP takes a capability number; unknown numbers fail with EINVAL.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
            break;
        }
    }
}

fn set_capabilities(data: CapData) -> io::Result<()> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let sets = [data, data];
    // SAFETY: capset reads a v3 header and two data structs.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut header, sets.as_ptr()) } as libc::c_int)
}

/// The effective capability set of this process.
pub fn effective_capabilities() -> io::Result<u64> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut sets = [CapData::default(); 2];
    // SAFETY: capget writes two data structs for a v3 header.
    check(unsafe { libc::syscall(libc::SYS_capget, &mut header, sets.as_mut_ptr()) } as libc::c_int)?;
    Ok(u64::from(sets[0].effective) | (u64::from(sets[1].effective) << 32))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
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
