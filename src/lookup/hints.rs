//! What a getaddrinfo call is asked for: family, socket type, protocol and AI_* flags.

use std::net::IpAddr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::sys::gai::RawHints;

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
    /// The family `-4` / `-6` choose (neither: any).
    pub fn from_flags(ipv4: bool, ipv6: bool) -> Family {
        match (ipv4, ipv6) {
            (true, _) => Family::Inet,
            (_, true) => Family::Inet6,
            _ => Family::Any,
        }
    }

    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        if addr.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        }
    }

    /// The name used in reports and JSON: "any", "inet" or "inet6".
    pub fn name(self) -> &'static str {
        match self {
            Family::Any => "any",
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
        }
    }

    /// The name used in sentences: "IPv4", "IPv6" (or "any").
    pub fn label(self) -> &'static str {
        match self {
            Family::Any => "any",
            Family::Inet => "IPv4",
            Family::Inet6 => "IPv6",
        }
    }

    /// Whether an address belongs to this family (every address belongs to `Any`).
    pub fn admits(self, addr: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::Inet => addr.is_ipv4(),
            Family::Inet6 => addr.is_ipv6(),
        }
    }
}

/// A socket type restriction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockType {
    /// SOCK_STREAM.
    Stream,
    /// SOCK_DGRAM.
    Dgram,
    /// SOCK_RAW.
    Raw,
    /// No restriction.
    Any,
}

impl SockType {
    /// "stream", "dgram", "raw" or "any".
    pub fn name(self) -> &'static str {
        match self {
            SockType::Stream => "stream",
            SockType::Dgram => "dgram",
            SockType::Raw => "raw",
            SockType::Any => "any",
        }
    }
}

/// A protocol restriction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// IPPROTO_TCP.
    Tcp,
    /// IPPROTO_UDP.
    Udp,
}

/// The hints passed to getaddrinfo, as the user chose them.
#[derive(Debug, Clone)]
pub struct Hints {
    /// AF_INET, AF_INET6 or AF_UNSPEC.
    pub family: Family,
    /// Socket type restriction.
    pub socktype: SockType,
    /// Protocol restriction.
    pub protocol: Option<Protocol>,
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

impl Hints {
    /// An address lookup for connecting to a host: one family and socket type, no AI_* flags.
    pub fn addresses(family: Family, socktype: SockType) -> Hints {
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

    /// The AI_* flags with their names, in the order the C headers list them.
    fn flag_table(&self) -> [(bool, i32, &'static str); 6] {
        [
            (self.passive, libc::AI_PASSIVE, "AI_PASSIVE"),
            (self.canonname, libc::AI_CANONNAME, "AI_CANONNAME"),
            (self.numeric_host, libc::AI_NUMERICHOST, "AI_NUMERICHOST"),
            (self.v4mapped, libc::AI_V4MAPPED, "AI_V4MAPPED"),
            (self.all, libc::AI_ALL, "AI_ALL"),
            (self.addrconfig, libc::AI_ADDRCONFIG, "AI_ADDRCONFIG"),
        ]
    }

    /// The AI_* flag names that are set, in the order the C headers list them.
    pub fn flag_names(&self) -> Vec<&'static str> {
        self.flag_table()
            .into_iter()
            .filter_map(|(on, _, name)| on.then_some(name))
            .collect()
    }

    fn flags(&self) -> i32 {
        self.flag_table()
            .into_iter()
            .filter_map(|(on, flag, _)| on.then_some(flag))
            .fold(0, |acc, f| acc | f)
    }

    /// The hints in the C library's numbers.
    pub(super) fn to_raw(&self) -> RawHints {
        RawHints {
            flags: self.flags(),
            family: match self.family {
                Family::Any => libc::AF_UNSPEC,
                Family::Inet => libc::AF_INET,
                Family::Inet6 => libc::AF_INET6,
            },
            socktype: match self.socktype {
                SockType::Stream => libc::SOCK_STREAM,
                SockType::Dgram => libc::SOCK_DGRAM,
                SockType::Raw => libc::SOCK_RAW,
                SockType::Any => 0,
            },
            protocol: match self.protocol {
                Some(Protocol::Tcp) => libc::IPPROTO_TCP,
                Some(Protocol::Udp) => libc::IPPROTO_UDP,
                None => 0,
            },
        }
    }

    /// Rejects socket type and protocol pairs getaddrinfo cannot satisfy, before asking it.
    pub fn validate(&self) -> Result<()> {
        match (self.socktype, self.protocol) {
            (SockType::Dgram | SockType::Raw, Some(Protocol::Tcp)) => Err(Error::usage(
                "--protocol tcp goes with --socket-type stream or any, not dgram or raw",
            )),
            (SockType::Stream | SockType::Raw, Some(Protocol::Udp)) => Err(Error::usage(
                "--protocol udp goes with --socket-type dgram or any, not stream or raw",
            )),
            _ => Ok(()),
        }
    }
}

/// The hints the lookup tests start from: any family and socket type, canonical name asked.
#[cfg(test)]
pub(crate) fn test_hints() -> Hints {
    Hints {
        canonname: true,
        ..Hints::addresses(Family::Any, SockType::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_hints as hints;

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
        h.socktype = SockType::Dgram;
        h.protocol = Some(Protocol::Tcp);
        assert_eq!(h.validate().unwrap_err().exit_code(), 2);
        h.protocol = Some(Protocol::Udp);
        assert!(h.validate().is_ok());
    }

    #[test]
    fn flags_choose_one_family() {
        assert_eq!(Family::from_flags(true, false), Family::Inet);
        assert_eq!(Family::from_flags(false, true), Family::Inet6);
        assert_eq!(Family::from_flags(false, false), Family::Any);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(Family::of(&v6), Family::Inet6);
        assert!(Family::Any.admits(&v6) && !Family::Inet.admits(&v6));
    }
}
