//! getaddrinfo and getnameinfo in the C library's numbers (AI_*, AF_*, SOCK_*, NI_*, EAI_*).
//!
//! The dns-lookup crate owns the unsafe calls (it copies each result and frees the list); this module keeps its
//! types out of the rest of the program and captures the OS error behind EAI_SYSTEM while it is still current.

use std::io;
use std::net::SocketAddr;

/// The hints of a getaddrinfo call, as the C library takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHints {
    /// AI_* flags or-ed together.
    pub flags: i32,
    /// AF_INET, AF_INET6 or AF_UNSPEC.
    pub family: i32,
    /// SOCK_STREAM, SOCK_DGRAM, SOCK_RAW or 0 for any.
    pub socktype: i32,
    /// IPPROTO_TCP, IPPROTO_UDP or 0 for any.
    pub protocol: i32,
}

/// One getaddrinfo result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAddrInfo {
    /// SOCK_* of the result.
    pub socktype: i32,
    /// IPPROTO_* of the result.
    pub protocol: i32,
    /// Address and port (and the IPv6 scope id).
    pub sockaddr: SocketAddr,
    /// ai_canonname, set on the first result with AI_CANONNAME.
    pub canonname: Option<String>,
}

/// Why a getaddrinfo or getnameinfo call failed.
#[derive(Debug)]
pub enum GaiError {
    /// The call returned an EAI_* code; with EAI_SYSTEM, `os` is the errno behind it.
    Code {
        /// The EAI_* number.
        code: i32,
        /// The OS error the C library reported alongside.
        os: io::Error,
    },
    /// The call succeeded but a result could not be read (an unknown address family).
    Unreadable(io::Error),
}

/// Calls getaddrinfo; every result in the order the C library returned them.
pub fn getaddrinfo(
    host: Option<&str>,
    service: Option<&str>,
    hints: RawHints,
) -> Result<Vec<RawAddrInfo>, GaiError> {
    let c_hints = dns_lookup::AddrInfoHints {
        flags: hints.flags,
        address: hints.family,
        socktype: hints.socktype,
        protocol: hints.protocol,
    };
    let list = dns_lookup::getaddrinfo(host, service, Some(c_hints)).map_err(code_error)?;
    list.map(|item| {
        let info = item.map_err(GaiError::Unreadable)?;
        Ok(RawAddrInfo {
            socktype: info.socktype,
            protocol: info.protocol,
            sockaddr: info.sockaddr,
            canonname: info.canonname,
        })
    })
    .collect()
}

/// Calls getnameinfo with NI_* flags; returns the host and the service text.
pub fn getnameinfo(sockaddr: &SocketAddr, flags: i32) -> Result<(String, String), GaiError> {
    dns_lookup::getnameinfo(sockaddr, flags).map_err(code_error)
}

fn code_error(e: dns_lookup::LookupError) -> GaiError {
    GaiError::Code {
        code: e.error_num(),
        // For EAI_SYSTEM this is the errno read right after the call.
        os: io::Error::from(e),
    }
}
