//! The system's services database (/etc/services through NSS): names to ports and back, never DNS.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::Mutex;

use crate::target::Proto;

/// getservbyname and getservent share static buffers inside libc: one caller at a time.
static SERVICES_DB: Mutex<()> = Mutex::new(());

fn proto_name(proto: Proto) -> &'static CStr {
    match proto {
        Proto::Tcp => c"tcp",
        Proto::Udp => c"udp",
    }
}

/// The port of a service name for a protocol (`http` -> 80), or for any protocol when `proto` is None.
pub fn port_by_name(name: &str, proto: Option<Proto>) -> Option<u16> {
    let cname = CString::new(name).ok()?;
    let _guard = SERVICES_DB.lock().unwrap_or_else(|e| e.into_inner());
    let p_ptr = proto.map_or(std::ptr::null(), |p| proto_name(p).as_ptr());
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

/// The services database as a port -> name table, read once for reports.
#[derive(Debug, Default)]
pub struct ServiceNames {
    names: HashMap<(Proto, u16), String>,
}

impl ServiceNames {
    /// Reads every entry of the services database (the first name listed for a port wins, as getservbyport does).
    pub fn load() -> Self {
        let mut names = HashMap::new();
        let _guard = SERVICES_DB.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: setservent/getservent/endservent use libc's static state, serialised by the lock; each
        // servent is copied out before the next call.
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
                let proto = match CStr::from_ptr(ent.s_proto).to_bytes() {
                    b"tcp" => Proto::Tcp,
                    b"udp" => Proto::Udp,
                    _ => continue,
                };
                let port = u16::from_be(ent.s_port as u16);
                let name = CStr::from_ptr(ent.s_name).to_string_lossy().into_owned();
                names.entry((proto, port)).or_insert(name);
            }
            libc::endservent();
        }
        ServiceNames { names }
    }

    /// The name of a port for a protocol, if the database has one.
    pub fn name(&self, proto: Proto, port: u16) -> Option<&str> {
        self.names.get(&(proto, port)).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_names_both_ways() {
        // netbase's /etc/services lists these on every Debian system.
        assert_eq!(port_by_name("ssh", Some(Proto::Tcp)), Some(22));
        assert_eq!(port_by_name("domain", Some(Proto::Udp)), Some(53));
        assert_eq!(port_by_name("http", None), Some(80));
        assert_eq!(port_by_name("no-such-service-xyz", None), None);
        assert_eq!(port_by_name("bad\0name", None), None);
        let names = ServiceNames::load();
        assert_eq!(names.name(Proto::Tcp, 22), Some("ssh"));
        assert_eq!(names.name(Proto::Udp, 123), Some("ntp"));
        assert_eq!(names.name(Proto::Tcp, 1), Some("tcpmux"));
        assert_eq!(names.name(Proto::Tcp, 65000), None);
    }
}
