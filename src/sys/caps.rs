//! Process capabilities: dropping every one (bounding, ambient, effective, permitted, inheritable) and
//! reading the effective set back.

use std::io;

use rustix::io::Errno;
use rustix::thread::{
    CapabilitySet, CapabilitySets, capabilities, clear_ambient_capability_set,
    remove_capability_from_bounding_set, set_capabilities, set_no_new_privs,
};

/// Empties the bounding set, so no later exec can gain a capability. Works only while CAP_SETPCAP is held;
/// stops at the first capability number the kernel does not know.
pub fn drop_bounding_set() {
    for cap in 0..64 {
        if remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(1 << cap)) == Err(Errno::INVAL)
        {
            break;
        }
    }
}

/// Clears the ambient set and sets no_new_privs. Best effort, as neither can grant anything: a kernel
/// without them has nothing to clear.
pub fn forbid_new_privileges() {
    let _ = clear_ambient_capability_set();
    let _ = set_no_new_privs(true);
}

/// Empties the effective, permitted and inheritable sets of this thread.
pub fn clear() -> io::Result<()> {
    let none = CapabilitySet::empty();
    set_capabilities(
        None,
        CapabilitySets {
            effective: none,
            permitted: none,
            inheritable: none,
        },
    )?;
    Ok(())
}

/// The effective capability set of this thread, as a bit mask.
pub fn effective() -> io::Result<u64> {
    Ok(capabilities(None)?.effective.bits())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_set_is_what_proc_shows() {
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let line = status.lines().find_map(|l| l.strip_prefix("CapEff:")).unwrap();
        let shown = u64::from_str_radix(line.trim(), 16).unwrap();
        assert_eq!(effective().unwrap(), shown);
    }
}
