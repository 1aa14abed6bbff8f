//! The C library's services database (/etc/services through NSS): one name looked up, or every entry read.

use std::ffi::{CStr, CString};
use std::sync::Mutex;

/// getservbyname and getservent share static buffers inside libc: one caller at a time.
static SERVICES_DB: Mutex<()> = Mutex::new(());

/// One entry of the services database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The official name (`ssh`).
    pub name: String,
    /// The protocol (`tcp`, `udp`, `sctp`, ...).
    pub proto: String,
    /// The port.
    pub port: u16,
}

/// The port of a service name for a protocol (`"tcp"`), or for any protocol when `proto` is None.
pub fn port_by_name(name: &str, proto: Option<&CStr>) -> Option<u16> {
    let cname = CString::new(name).ok()?;
    let _guard = SERVICES_DB.lock().unwrap_or_else(|e| e.into_inner());
    let p_ptr = proto.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: both strings are NUL-terminated and live across the call; the lock serialises the
    // static result buffer, which is read before the lock is released.
    let ent = unsafe { libc::getservbyname(cname.as_ptr(), p_ptr) };
    if ent.is_null() {
        return None;
    }
    // SAFETY: a non-null servent from getservbyname is valid until the next call, which the lock prevents.
    let raw = unsafe { (*ent).s_port };
    Some(u16::from_be(raw as u16))
}

/// Every entry of the services database, in its order (entries without a name or protocol are skipped).
pub fn entries() -> Vec<Entry> {
    let mut all = Vec::new();
    let _guard = SERVICES_DB.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: setservent/getservent/endservent use libc's static state, serialised by the lock; each
    // servent and its strings are valid until the next call and are copied out before it.
    unsafe {
        libc::setservent(0);
        loop {
            let ent = libc::getservent();
            if ent.is_null() {
                break;
            }
            let ent = &*ent;
            if ent.s_name.is_null() || ent.s_proto.is_null() {
                continue;
            }
            all.push(Entry {
                name: CStr::from_ptr(ent.s_name).to_string_lossy().into_owned(),
                proto: CStr::from_ptr(ent.s_proto).to_string_lossy().into_owned(),
                port: u16::from_be(ent.s_port as u16),
            });
        }
        libc::endservent();
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_the_whole_table() {
        // netbase's /etc/services lists these on every Debian system.
        assert_eq!(port_by_name("ssh", Some(c"tcp")), Some(22));
        assert_eq!(port_by_name("bad\0name", None), None);
        let all = entries();
        assert!(
            all.iter()
                .any(|e| e.name == "domain" && e.proto == "udp" && e.port == 53)
        );
    }
}
