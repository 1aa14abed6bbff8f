//! The system resolver: getaddrinfo and getnameinfo with explicit hints, and plain EAI_* messages.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use dns_lookup::{AddrInfoHints, LookupError};
use serde::Serialize;

use crate::cli::{ProtocolArg, SockTypeArg};
use crate::error::{Error, Result};
use crate::target::{IpLiteral, interface_name};

/// The hints passed to getaddrinfo, as the user chose them.
#[derive(Debug, Clone)]
pub struct Hints {
    /// AF_INET, AF_INET6 or AF_UNSPEC.
    pub family: Family,
    /// Socket type restriction.
    pub socktype: SockTypeArg,
    /// Protocol restriction.
    pub protocol: Option<ProtocolArg>,
    /// AI_CANONNAME.
    pub canonname: bool,
    /// AI_PASSIVE.
    pub passive: bool,
    /// AI_ADDRCONFIG.
    pub addrconfig: bool,
    /// AI_V4MAPPED.
    pub v4mapped: bool,
    /// AI_ALL.
    pub all: bool,
    /// AI_NUMERICHOST.
    pub numeric_host: bool,
}

/// An address family restriction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// AF_UNSPEC.
    Any,
    /// AF_INET.
    Inet,
    /// AF_INET6.
    Inet6,
}

impl Family {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Family::Any => "any",
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
        }
    }
}

impl Hints {
    /// An address lookup for connecting to a host: one family and socket type, no AI_* flags.
    pub fn addresses(family: Family, socktype: SockTypeArg) -> Hints {
        Hints {
            family,
            socktype,
            protocol: None,
            canonname: false,
            passive: false,
            addrconfig: false,
            v4mapped: false,
            all: false,
            numeric_host: false,
        }
    }

    /// The AI_* flag names that are set, in the order the C headers list them.
    pub fn flag_names(&self) -> Vec<&'static str> {
        [
            (self.passive, "AI_PASSIVE"),
            (self.canonname, "AI_CANONNAME"),
            (self.numeric_host, "AI_NUMERICHOST"),
            (self.v4mapped, "AI_V4MAPPED"),
            (self.all, "AI_ALL"),
            (self.addrconfig, "AI_ADDRCONFIG"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    fn flags(&self) -> i32 {
        [
            (self.passive, libc::AI_PASSIVE),
            (self.canonname, libc::AI_CANONNAME),
            (self.numeric_host, libc::AI_NUMERICHOST),
            (self.v4mapped, libc::AI_V4MAPPED),
            (self.all, libc::AI_ALL),
            (self.addrconfig, libc::AI_ADDRCONFIG),
        ]
        .into_iter()
        .filter_map(|(on, flag)| on.then_some(flag))
        .fold(0, |acc, f| acc | f)
    }

    fn to_c(&self) -> AddrInfoHints {
        AddrInfoHints {
            flags: self.flags(),
            address: match self.family {
                Family::Any => libc::AF_UNSPEC,
                Family::Inet => libc::AF_INET,
                Family::Inet6 => libc::AF_INET6,
            },
            socktype: match self.socktype {
                SockTypeArg::Stream => libc::SOCK_STREAM,
                SockTypeArg::Dgram => libc::SOCK_DGRAM,
                SockTypeArg::Raw => libc::SOCK_RAW,
                SockTypeArg::Any => 0,
            },
            protocol: match self.protocol {
                Some(ProtocolArg::Tcp) => libc::IPPROTO_TCP,
                Some(ProtocolArg::Udp) => libc::IPPROTO_UDP,
                None => 0,
            },
        }
    }

    /// Rejects socket type and protocol pairs getaddrinfo cannot satisfy, before asking it.
    pub fn validate(&self) -> Result<()> {
        match (self.socktype, self.protocol) {
            (SockTypeArg::Dgram | SockTypeArg::Raw, Some(ProtocolArg::Tcp)) => Err(Error::usage(
                "--protocol tcp goes with --socktype stream or any, not dgram or raw",
            )),
            (SockTypeArg::Stream | SockTypeArg::Raw, Some(ProtocolArg::Udp)) => Err(Error::usage(
                "--protocol udp goes with --socktype dgram or any, not stream or raw",
            )),
            _ => Ok(()),
        }
    }
}

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

/// A getaddrinfo or getnameinfo failure in plain words.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GaiFailure {
    /// The EAI_* constant's name.
    pub code: &'static str,
    /// What it means for the user.
    pub message: String,
    /// How serious it is.
    #[serde(skip)]
    pub class: FailureClass,
}

/// glibc's value, defined only under _GNU_SOURCE and so missing from the libc crate.
const EAI_ADDRFAMILY: i32 = -9;

/// How a lookup failure maps onto the exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The name or address is unknown or has no data: a negative answer.
    Negative,
    /// The hints or service were unacceptable.
    Usage,
    /// Memory or a system call failed.
    System,
}

impl GaiFailure {
    fn from_lookup(err: &LookupError, reverse: bool) -> Self {
        use FailureClass::*;
        let (code, message, class) = match err.error_num() {
            libc::EAI_NONAME if reverse => ("EAI_NONAME", "no name for this address".to_string(), Negative),
            libc::EAI_NONAME => (
                "EAI_NONAME",
                "no such name (or it has no address)".to_string(),
                Negative,
            ),
            libc::EAI_NODATA => (
                "EAI_NODATA",
                "the name exists but has no address".to_string(),
                Negative,
            ),
            EAI_ADDRFAMILY => (
                "EAI_ADDRFAMILY",
                "the name has no address of the requested family".to_string(),
                Negative,
            ),
            libc::EAI_AGAIN => (
                "EAI_AGAIN",
                "temporary failure in name resolution: the DNS server did not answer or failed (SERVFAIL)"
                    .to_string(),
                Negative,
            ),
            libc::EAI_FAIL => (
                "EAI_FAIL",
                "non-recoverable failure in name resolution (the server refused or the answer was bad)"
                    .to_string(),
                Negative,
            ),
            libc::EAI_SERVICE => (
                "EAI_SERVICE",
                "the service is not known for this socket type".to_string(),
                Usage,
            ),
            libc::EAI_SOCKTYPE => ("EAI_SOCKTYPE", "socket type not supported".to_string(), Usage),
            libc::EAI_FAMILY => ("EAI_FAMILY", "address family not supported".to_string(), Usage),
            libc::EAI_BADFLAGS => (
                "EAI_BADFLAGS",
                "invalid combination of AI_* flags".to_string(),
                Usage,
            ),
            libc::EAI_MEMORY => ("EAI_MEMORY", "out of memory".to_string(), System),
            libc::EAI_OVERFLOW => (
                "EAI_OVERFLOW",
                "result too long for the buffer".to_string(),
                System,
            ),
            libc::EAI_SYSTEM => (
                "EAI_SYSTEM",
                format!("system error: {}", std::io::Error::last_os_error()),
                System,
            ),
            n => ("EAI_UNKNOWN", format!("unknown resolver error {n}"), System),
        };
        GaiFailure { code, message, class }
    }
}

/// What getaddrinfo returned for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The canonical name (on the first result, with AI_CANONNAME).
    pub canonical_name: Option<String>,
    /// Every result, in the order getaddrinfo returned them.
    pub rows: Vec<AddrRow>,
}

/// Calls getaddrinfo for a name (None: the wildcard or loopback address) and a service.
pub fn getaddrinfo(
    name: Option<&str>,
    service: Option<&str>,
    hints: &Hints,
) -> std::result::Result<Forward, GaiFailure> {
    let iter = dns_lookup::getaddrinfo(name, service, Some(hints.to_c()))
        .map_err(|e| GaiFailure::from_lookup(&e, false))?;
    let mut forward = Forward {
        canonical_name: None,
        rows: Vec::new(),
    };
    for info in iter {
        let info = info.map_err(|e| GaiFailure {
            code: "EAI_FAMILY",
            message: format!("unreadable result: {e}"),
            class: FailureClass::System,
        })?;
        if forward.canonical_name.is_none() {
            forward.canonical_name = info.canonname.clone();
        }
        forward.rows.push(row(&info));
    }
    Ok(forward)
}

fn row(info: &dns_lookup::AddrInfo) -> AddrRow {
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
    let (host, service) =
        dns_lookup::getnameinfo(&sockaddr, flags).map_err(|e| GaiFailure::from_lookup(&e, true))?;
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
    let mut probe = hints.clone();
    probe.passive = true;
    probe.canonname = false;
    probe.addrconfig = false;
    probe.v4mapped = false;
    probe.all = false;
    probe.numeric_host = false;
    // With no host getaddrinfo only consults the services database, so nothing goes to DNS.
    match getaddrinfo(None, Some(service), &probe) {
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

    fn hints() -> Hints {
        Hints {
            family: Family::Any,
            socktype: SockTypeArg::Any,
            protocol: None,
            canonname: true,
            passive: false,
            addrconfig: false,
            v4mapped: false,
            all: false,
            numeric_host: false,
        }
    }

    #[test]
    fn flag_names_match_flags() {
        let mut h = hints();
        h.passive = true;
        h.addrconfig = true;
        assert_eq!(h.flag_names(), ["AI_PASSIVE", "AI_CANONNAME", "AI_ADDRCONFIG"]);
        assert_eq!(
            h.flags(),
            libc::AI_PASSIVE | libc::AI_CANONNAME | libc::AI_ADDRCONFIG
        );
    }

    #[test]
    fn contradictory_socktype_and_protocol_are_usage_errors() {
        let mut h = hints();
        h.socktype = SockTypeArg::Dgram;
        h.protocol = Some(ProtocolArg::Tcp);
        assert_eq!(h.validate().unwrap_err().exit_code(), 2);
        h.protocol = Some(ProtocolArg::Udp);
        assert!(h.validate().is_ok());
    }

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
        h.socktype = SockTypeArg::Stream;
        let fwd = getaddrinfo(Some("127.0.0.1"), Some("80"), &h).unwrap();
        assert_eq!(fwd.rows.len(), 1);
        assert_eq!(fwd.rows[0].port, 80);
        assert_eq!(fwd.rows[0].protocol, "tcp");
        let err = getaddrinfo(Some("not-numeric"), None, &h).unwrap_err();
        assert_eq!(err.code, "EAI_NONAME");
    }
}
