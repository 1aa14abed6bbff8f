//! The shared name-to-address step: getaddrinfo and getnameinfo with explicit hints, their results as rows, and
//! their failures in plain words. resolve, probe and trace all look names up through here.

mod failure;
mod hints;

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::sys::gai::{self, RawAddrInfo};
use crate::target::{IpLiteral, interface_name};

pub use failure::{FailureClass, GaiFailure};
pub use hints::{Family, Hints, Protocol, SockType};

/// One addrinfo result.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AddrRow {
    /// "inet" or "inet6".
    pub family: &'static str,
    /// "stream", "dgram", "raw" or the number.
    pub socktype: String,
    /// "tcp", "udp", "0" (any) or the number.
    pub protocol: String,
    /// The address.
    pub address: IpAddr,
    /// The port (0 without a service).
    pub port: u16,
    /// The IPv6 scope id of a link-local address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<u32>,
    /// The interface that scope id names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// What getaddrinfo returned for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The canonical name (on the first result, with AI_CANONNAME).
    pub canonical_name: Option<String>,
    /// Every result, in the order getaddrinfo returned them.
    pub rows: Vec<AddrRow>,
}

impl Forward {
    /// The distinct addresses, in the order getaddrinfo returned them.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut addresses: Vec<IpAddr> = Vec::new();
        for row in &self.rows {
            if !addresses.contains(&row.address) {
                addresses.push(row.address);
            }
        }
        addresses
    }
}

/// Calls getaddrinfo for a name (None: the wildcard or loopback address) and a service.
pub fn getaddrinfo(
    name: Option<&str>,
    service: Option<&str>,
    hints: &Hints,
) -> std::result::Result<Forward, GaiFailure> {
    let results =
        gai::getaddrinfo(name, service, hints.to_raw()).map_err(|e| GaiFailure::from_gai(&e, false))?;
    Ok(Forward {
        canonical_name: results.iter().find_map(|info| info.canonname.clone()),
        rows: results.iter().map(row).collect(),
    })
}

fn row(info: &RawAddrInfo) -> AddrRow {
    let (scope_id, scope) = match info.sockaddr {
        SocketAddr::V6(v6) if v6.scope_id() != 0 => {
            (Some(v6.scope_id()), Some(interface_name(v6.scope_id())))
        }
        _ => (None, None),
    };
    AddrRow {
        family: if info.sockaddr.is_ipv4() { "inet" } else { "inet6" },
        socktype: match info.socktype {
            libc::SOCK_STREAM => "stream".into(),
            libc::SOCK_DGRAM => "dgram".into(),
            libc::SOCK_RAW => "raw".into(),
            n => n.to_string(),
        },
        protocol: protocol_name(info.protocol),
        address: info.sockaddr.ip(),
        port: info.sockaddr.port(),
        scope_id,
        scope,
    }
}

fn protocol_name(proto: i32) -> String {
    match proto {
        libc::IPPROTO_TCP => "tcp".into(),
        libc::IPPROTO_UDP => "udp".into(),
        libc::IPPROTO_SCTP => "sctp".into(),
        libc::IPPROTO_DCCP => "dccp".into(),
        libc::IPPROTO_UDPLITE => "udplite".into(),
        n => n.to_string(),
    }
}

/// What getnameinfo returned for an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reverse {
    /// The host name.
    pub host: String,
    /// The service name for the port, when a port was given.
    pub service: Option<String>,
}

/// Calls getnameinfo for an address (and port, when given); a name is required (NI_NAMEREQD).
pub fn getnameinfo(
    lit: IpLiteral,
    port: Option<u16>,
    dgram: bool,
) -> std::result::Result<Reverse, GaiFailure> {
    let sockaddr = match lit.addr {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), port.unwrap_or(0)),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port.unwrap_or(0), 0, lit.scope_id)),
    };
    let mut flags = libc::NI_NAMEREQD;
    if dgram {
        flags |= libc::NI_DGRAM;
    }
    let (host, service) = gai::getnameinfo(&sockaddr, flags).map_err(|e| GaiFailure::from_gai(&e, true))?;
    Ok(Reverse {
        host,
        service: port.map(|_| service),
    })
}

/// Resolves a service (number or name) to a port for the given socket type, without any host lookup.
pub fn service_port(service: &str, hints: &Hints) -> Result<u16> {
    if let Ok(port) = service.parse::<u16>() {
        return Ok(port);
    }
    if service.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::usage(format!(
            "bad service '{service}': port numbers go from 0 to 65535"
        )));
    }
    let services_only = Hints {
        passive: true,
        protocol: hints.protocol,
        ..Hints::addresses(hints.family, hints.socktype)
    };
    // With no host getaddrinfo only consults the services database, so nothing goes to DNS. Any failure
    // means the same thing to the user, whatever its EAI_* code: the service is not known.
    match getaddrinfo(None, Some(service), &services_only) {
        Ok(fwd) => fwd
            .rows
            .first()
            .map(|r| r.port)
            .ok_or_else(|| unknown_service(service)),
        Err(_) => Err(unknown_service(service)),
    }
}

fn unknown_service(service: &str) -> Error {
    Error::usage(format!(
        "unknown service '{service}': accepted is a port number (0-65535) or a name from /etc/services for the socket type (http, ssh, domain, ...)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::hints::test_hints as hints;

    #[test]
    fn services_resolve_from_the_database_or_number() {
        assert_eq!(service_port("8080", &hints()).unwrap(), 8080);
        assert!(service_port("70000", &hints()).is_err());
        assert!(service_port("no-such-service-xyz", &hints()).is_err());
    }

    #[test]
    fn numeric_lookups_need_no_resolver() {
        let mut h = hints();
        h.numeric_host = true;
        h.socktype = SockType::Stream;
        let fwd = getaddrinfo(Some("127.0.0.1"), Some("80"), &h).unwrap();
        assert_eq!(fwd.rows.len(), 1);
        assert_eq!(fwd.rows[0].port, 80);
        assert_eq!(fwd.rows[0].protocol, "tcp");
        let err = getaddrinfo(Some("not-numeric"), None, &h).unwrap_err();
        assert_eq!(err.code, "EAI_NONAME");
    }
}
