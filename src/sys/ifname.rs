//! Network interface names and indexes (if_nametoindex, if_indextoname), for IPv6 scope ids.

use std::ffi::{CStr, CString};

/// The index of the interface with this name; None when there is none.
pub fn index(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (index != 0).then_some(index)
}

/// The name of the interface with this index; None when there is none.
pub fn name(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has the IF_NAMESIZE bytes if_indextoname may write.
    let ptr = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: on success if_indextoname wrote a NUL-terminated name into buf.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_both_ways_and_unknown_is_none() {
        let lo = index("lo").expect("every host has lo");
        assert_eq!(name(lo).as_deref(), Some("lo"));
        assert_eq!(index("no-such-if0"), None);
        assert_eq!(index("bad\0name"), None);
        assert_eq!(name(0), None);
    }
}
