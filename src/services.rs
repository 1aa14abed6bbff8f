//! The system's services database (/etc/services through NSS): names to ports and back, never DNS.

use std::collections::HashMap;
use std::ffi::CStr;

use crate::sys;
use crate::target::Proto;

fn proto_name(proto: Proto) -> &'static CStr {
    match proto {
        Proto::Tcp => c"tcp",
        Proto::Udp => c"udp",
    }
}

/// The port of a service name for a protocol (`http` -> 80), or for any protocol when `proto` is None.
pub fn port_by_name(name: &str, proto: Option<Proto>) -> Option<u16> {
    sys::services::port_by_name(name, proto.map(proto_name))
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
        for entry in sys::services::entries() {
            let proto = match entry.proto.as_str() {
                "tcp" => Proto::Tcp,
                "udp" => Proto::Udp,
                _ => continue,
            };
            names.entry((proto, entry.port)).or_insert(entry.name);
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
