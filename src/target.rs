//! Parsing and validation of what the user names: host names and IP literals (with IPv6 scopes).

use std::ffi::CString;
use std::net::IpAddr;

use crate::error::{Error, Result};

/// What a host names accepts, for error messages.
pub const HOST_ACCEPTED: &str =
    "a host name (dot-separated labels of 1-63 characters, at most 253 in all) or an IP address";

/// An IP address literal with the IPv6 scope it may carry (`fe80::1%eth0`, `fe80::1%2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpLiteral {
    /// The address.
    pub addr: IpAddr,
    /// The interface index of a `%scope` suffix, 0 when absent.
    pub scope_id: u32,
}

/// Parses an IP literal, IPv6 optionally with `%interface` or `%index`.
/// Returns Ok(None) when the text is not an IP literal at all.
pub fn parse_ip_literal(text: &str) -> Result<Option<IpLiteral>> {
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Ok(Some(IpLiteral { addr, scope_id: 0 }));
    }
    let Some((addr, scope)) = text.split_once('%') else {
        return Ok(None);
    };
    let Ok(addr) = addr.parse::<std::net::Ipv6Addr>() else {
        return Ok(None);
    };
    let scope_id = interface_index(scope).ok_or_else(|| {
        Error::usage(format!(
            "unknown scope '{scope}' in '{text}': accepted is an interface name or index on this host (e.g. fe80::1%eth0)"
        ))
    })?;
    Ok(Some(IpLiteral {
        addr: IpAddr::V6(addr),
        scope_id,
    }))
}

/// The index of an interface given by name or number.
fn interface_index(scope: &str) -> Option<u32> {
    if let Ok(n) = scope.parse::<u32>() {
        return Some(n);
    }
    let name = CString::new(scope).ok()?;
    // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (index != 0).then_some(index)
}

/// The name of an interface index, or the number itself when it has none.
pub fn interface_name(index: u32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has IF_NAMESIZE bytes as if_indextoname requires.
    let ptr = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if ptr.is_null() {
        return index.to_string();
    }
    // SAFETY: on success if_indextoname wrote a NUL-terminated name into buf.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Checks that a host name is well formed before any resolver sees it.
pub fn validate_host_name(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::usage(format!(
            "bad name '{}': {why}; accepted: {HOST_ACCEPTED}",
            name.escape_debug()
        )))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return bad(&format!("contains {:?}", c));
    }
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.len() > 253 {
        return bad(&format!("{} characters long", trimmed.len()));
    }
    for label in trimmed.split('.') {
        if label.is_empty() {
            return bad("empty label");
        }
        if label.len() > 63 {
            return bad(&format!("label of {} characters", label.len()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_with_and_without_scope() {
        let lit = parse_ip_literal("192.0.2.1").unwrap().unwrap();
        assert_eq!(lit.addr.to_string(), "192.0.2.1");
        let lit = parse_ip_literal("fe80::1%1").unwrap().unwrap();
        assert_eq!(lit.scope_id, 1);
        let lit = parse_ip_literal("fe80::1%lo").unwrap().unwrap();
        assert_eq!(lit.scope_id, 1);
        assert!(parse_ip_literal("example.com").unwrap().is_none());
        assert!(parse_ip_literal("fe80::1%nosuchif0").is_err());
    }

    #[test]
    fn host_name_rules() {
        assert!(validate_host_name("localhost").is_ok());
        assert!(validate_host_name("a.example.").is_ok());
        assert!(validate_host_name("_srv._tcp.example").is_ok());
        for bad in [
            "",
            "a..b",
            ".a",
            "a b",
            "a\tb",
            &"x".repeat(64),
            &["abc"; 70].join("."),
        ] {
            let err = validate_host_name(bad).unwrap_err().to_string();
            assert!(err.starts_with("bad name"), "{err}");
            assert!(err.contains("accepted"), "{err}");
        }
    }
}
