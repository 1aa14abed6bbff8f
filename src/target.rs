//! Parsing and validation of what the user names: host names and IP literals (with IPv6 scopes),
//! targets with ports (`host:port`, `[v6]:port`), port lists and source addresses.

use std::net::IpAddr;

use serde::Serialize;

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
    // Not a name either: the system resolver would ask DNS for "127.0.0.1%lo".
    if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(Error::usage(format!(
            "bad address '{text}': a %scope goes only with an IPv6 address (e.g. fe80::1%eth0)"
        )));
    }
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
        // An index no interface has would fail only at connect time, as a puzzling EINVAL or ENODEV.
        return crate::sys::ifname::name(n).map(|_| n);
    }
    crate::sys::ifname::index(scope)
}

/// The name of an interface index, or the number itself when it has none.
pub fn interface_name(index: u32) -> String {
    crate::sys::ifname::name(index).unwrap_or_else(|| index.to_string())
}

/// Checks that a host name is well formed before any resolver sees it.
pub fn validate_host_name(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::usage(format!(
            "bad name '{}': {why}; accepted: {HOST_ACCEPTED}",
            name
        )))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return bad(&format!("contains '{c}'"));
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

/// A transport protocol to probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// The lowercase name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// What a port list accepts, for error messages.
pub const PORTS_ACCEPTED: &str = "comma-separated ports 1-65535, ranges (8000-8100; -1024, 60000- and - are open-ended), \
     and service names from the services database (http, ssh, domain), each optionally prefixed t: (TCP) or u: (UDP)";

/// What a target accepts, for error messages.
pub const TARGET_ACCEPTED: &str = "host, host:port, IPv4, IPv4:port, IPv6, [IPv6]:port or IPv6%scope (e.g. db.example:5432, [2001:db8::1]:443)";

/// One element of a port list: an inclusive range, with the protocol its `t:`/`u:` prefix chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortItem {
    /// The protocol of a `t:` or `u:` prefix; None means the command's protocols.
    pub proto: Option<Proto>,
    /// First port.
    pub first: u16,
    /// Last port (equal to `first` for a single port).
    pub last: u16,
}

/// Looks a service name up for a protocol (None: any protocol).
pub type ServiceLookup<'a> = &'a dyn Fn(&str, Option<Proto>) -> Option<u16>;

/// Parses a port list: `22,80,8000-8100,http,u:53,t:https`.
pub fn parse_port_list(text: &str, services: ServiceLookup) -> Result<Vec<PortItem>> {
    let bad = |what: String| Err(Error::usage(format!("{what}; accepted: {PORTS_ACCEPTED}")));
    if text.trim().is_empty() {
        return bad("empty port list".to_string());
    }
    let mut items = Vec::new();
    for raw in text.split(',') {
        let item = raw.trim();
        if item.is_empty() {
            return bad(format!("empty item in port list '{}'", text));
        }
        let (proto, body) = match item.split_once(':') {
            Some((p, rest)) if p.eq_ignore_ascii_case("t") || p.eq_ignore_ascii_case("tcp") => {
                (Some(Proto::Tcp), rest)
            }
            Some((p, rest)) if p.eq_ignore_ascii_case("u") || p.eq_ignore_ascii_case("udp") => {
                (Some(Proto::Udp), rest)
            }
            Some((p, _)) => {
                return bad(format!(
                    "unknown protocol prefix '{}:' in '{}' (t: is TCP, u: is UDP)",
                    p, item
                ));
            }
            None => (None, item),
        };
        if body.is_empty() {
            return bad(format!("no port after the prefix in '{}'", item));
        }
        let (first, last) = if body.bytes().all(|b| b.is_ascii_digit() || b == b'-') && body.contains('-') {
            let (a, b) = body.split_once('-').unwrap_or((body, body));
            let first = if a.is_empty() { 1 } else { port_number(a, item)? };
            let last = if b.is_empty() {
                u16::MAX
            } else {
                port_number(b, item)?
            };
            if first > last {
                return bad(format!(
                    "reversed range '{}': write the low port first ({last}-{first})",
                    item
                ));
            }
            (first, last)
        } else if body.bytes().all(|b| b.is_ascii_digit()) {
            let port = port_number(body, item)?;
            (port, port)
        } else {
            let port = services(body, proto)
                .or_else(|| services(body, None))
                .ok_or_else(|| {
                    Error::usage(format!(
                        "unknown service '{}': not in the services database; accepted: {PORTS_ACCEPTED}",
                        body
                    ))
                })?;
            if port == 0 {
                return bad(format!("service '{}' has port 0, which cannot be probed", body));
            }
            (port, port)
        };
        items.push(PortItem { proto, first, last });
    }
    Ok(items)
}

/// A port number 1-65535 inside a list item.
fn port_number(text: &str, item: &str) -> Result<u16> {
    match text.parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        _ => Err(Error::usage(format!(
            "bad port '{}' in '{}': ports are 1-65535; accepted: {PORTS_ACCEPTED}",
            text, item
        ))),
    }
}

/// The host part of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An IP literal: probed as is, no resolver involved.
    Literal(IpLiteral),
    /// A host name, for getaddrinfo.
    Name(String),
}

/// A parsed target: the host and the ports written with it (`host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// The text as the user gave it.
    pub text: String,
    /// The host, without port or brackets.
    pub host_text: String,
    /// The host.
    pub host: Host,
    /// Ports given with the host, if any.
    pub ports: Option<Vec<PortItem>>,
}

/// Parses a target: `host`, `host:port`, `[v6]:port`, `[v6]`, `v6%scope` or an IP literal.
pub fn parse_target(text: &str, services: ServiceLookup) -> Result<TargetSpec> {
    let bad = |why: String| {
        Error::usage(format!(
            "unparsable target '{}': {why}; accepted: {TARGET_ACCEPTED}",
            text
        ))
    };
    let (host_text, port_text) = if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("'[' without ']'".to_string()))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| bad("after ']' only ':port' may follow".to_string()))?,
            ),
        };
        match parse_ip_literal(inner)? {
            Some(IpLiteral {
                addr: IpAddr::V6(_), ..
            }) => {}
            _ => return Err(bad("brackets hold an IPv6 address".to_string())),
        }
        (inner, port)
    } else if parse_ip_literal(text)?.is_some() {
        (text, None)
    } else {
        match text.split_once(':') {
            None => (text, None),
            Some((_, "")) => return Err(bad("nothing after ':'".to_string())),
            // The port list may hold colons only in t:/u: prefixes; anything else was meant as IPv6.
            Some((h, p)) if !p.split(',').all(prefix_colon_only) => {
                let why = if h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    "an IPv6 address with a port is written [2001:db8::1]:80"
                } else {
                    "more than one ':' outside a t:/u: port prefix"
                };
                return Err(bad(why.to_string()));
            }
            Some((h, p)) => (h, Some(p)),
        }
    };
    let host = match parse_ip_literal(host_text)? {
        Some(lit) => Host::Literal(lit),
        None => {
            if host_text.is_empty() {
                return Err(bad("no host".to_string()));
            }
            if host_text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                // getaddrinfo would read "22" as 0.0.0.22 and "10.1" as 10.0.0.1: surely not what was meant.
                return Err(bad(
                    "neither an IPv4 address nor a host name (ports go after the host)".to_string(),
                ));
            }
            if host_text.starts_with('-') {
                return Err(bad("a host name cannot start with '-'".to_string()));
            }
            validate_host_name(host_text)
                .map_err(|e| Error::usage(format!("unparsable target '{}': {e}", text)))?;
            Host::Name(host_text.to_string())
        }
    };
    let ports = port_text.map(|p| parse_port_list(p, services)).transpose()?;
    Ok(TargetSpec {
        text: text.to_string(),
        host_text: host_text.to_string(),
        host,
        ports,
    })
}

/// Whether a port-list item has no colon, or one only after a protocol prefix.
fn prefix_colon_only(item: &str) -> bool {
    match item.split_once(':') {
        None => true,
        Some((p, rest)) => {
            !rest.contains(':')
                && ["t", "u", "tcp", "udp"]
                    .iter()
                    .any(|x| p.trim().eq_ignore_ascii_case(x))
        }
    }
}

/// What `--source` accepts, for error messages.
pub const SOURCE_ACCEPTED: &str = "a local IP address, optionally with a port: 192.0.2.1, 192.0.2.1:4000, \
     2001:db8::1, [2001:db8::1]:4000, fe80::1%eth0";

/// Parses a local address to bind: `ADDR`, `ADDR:PORT`, `[V6]:PORT`; port 0 means any.
pub fn parse_source(text: &str) -> Result<(IpLiteral, u16)> {
    let bad = |why: &str| {
        Error::usage(format!(
            "bad source '{}': {why}; accepted: {SOURCE_ACCEPTED}",
            text
        ))
    };
    let port_of = |p: &str| p.parse::<u16>().map_err(|_| bad("the port must be 0-65535"));
    if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest.split_once(']').ok_or_else(|| bad("'[' without ']'"))?;
        let lit = parse_ip_literal(inner)?
            .filter(|l| l.addr.is_ipv6())
            .ok_or_else(|| bad("brackets hold an IPv6 address"))?;
        let port = match after {
            "" => 0,
            _ => port_of(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| bad("after ']' only ':port' may follow"))?,
            )?,
        };
        return Ok((lit, port));
    }
    if let Some(lit) = parse_ip_literal(text)? {
        return Ok((lit, 0));
    }
    let (addr, port) = text.rsplit_once(':').ok_or_else(|| bad("not an IP address"))?;
    let lit = parse_ip_literal(addr)?
        .filter(|l| l.addr.is_ipv4())
        .ok_or_else(|| bad("not an IP address (IPv6 with a port goes in brackets)"))?;
    Ok((lit, port_of(port)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(name: &str, proto: Option<Proto>) -> Option<u16> {
        match (name, proto) {
            ("http", _) => Some(80),
            ("https", _) => Some(443),
            ("domain", _) => Some(53),
            ("ntp", Some(Proto::Udp) | None) => Some(123),
            ("http-alt", _) => Some(8080),
            _ => None,
        }
    }

    fn ports(text: &str) -> Vec<(Option<Proto>, u16, u16)> {
        parse_port_list(text, &services)
            .unwrap()
            .into_iter()
            .map(|i| (i.proto, i.first, i.last))
            .collect()
    }

    #[test]
    fn port_lists_with_ranges_names_and_prefixes() {
        assert_eq!(
            ports("22,80,8000-8100,http,https"),
            [
                (None, 22, 22),
                (None, 80, 80),
                (None, 8000, 8100),
                (None, 80, 80),
                (None, 443, 443)
            ]
        );
        assert_eq!(
            ports("u:53, t:443,U:ntp,T:1-3"),
            [
                (Some(Proto::Udp), 53, 53),
                (Some(Proto::Tcp), 443, 443),
                (Some(Proto::Udp), 123, 123),
                (Some(Proto::Tcp), 1, 3)
            ]
        );
        assert_eq!(ports("-"), [(None, 1, 65535)]);
        assert_eq!(ports("-1024,60000-"), [(None, 1, 1024), (None, 60000, 65535)]);
        assert_eq!(
            ports("http-alt,65535"),
            [(None, 8080, 8080), (None, 65535, 65535)]
        );
        // A name only known for TCP still gives its port for UDP, as nmap does.
        assert_eq!(ports("u:http"), [(Some(Proto::Udp), 80, 80)]);
    }

    #[test]
    fn malformed_port_lists_say_what_is_wrong_and_accepted() {
        for (text, why) in [
            ("", "empty port list"),
            ("22,,80", "empty item"),
            ("22,", "empty item"),
            ("0", "bad port '0'"),
            ("65536", "bad port '65536'"),
            ("99999999999", "bad port"),
            (
                "100-10",
                "reversed range '100-10': write the low port first (10-100)",
            ),
            ("1-70000", "bad port '70000'"),
            ("htp", "unknown service 'htp'"),
            ("x:22", "unknown protocol prefix 'x:'"),
            ("u:", "no port after the prefix"),
            ("1--2", "bad port '-2'"),
        ] {
            let err = parse_port_list(text, &services).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(why), "{text}: {msg}");
            assert!(msg.contains("accepted:"), "{text}: {msg}");
            assert_eq!(err.exit_code(), crate::error::exit::USAGE, "{text}");
        }
    }

    #[test]
    fn targets_in_every_form() {
        let t = parse_target("example.test:http", &services).unwrap();
        assert_eq!(t.host, Host::Name("example.test".into()));
        assert_eq!(t.ports.unwrap()[0].first, 80);
        let t = parse_target("[2001:db8::1]:443", &services).unwrap();
        assert_eq!(t.host_text, "2001:db8::1");
        assert!(matches!(t.host, Host::Literal(l) if l.addr.is_ipv6()));
        assert_eq!(t.ports.unwrap()[0].first, 443);
        let t = parse_target("2001:db8::1", &services).unwrap();
        assert!(t.ports.is_none());
        let t = parse_target("[2001:db8::1]", &services).unwrap();
        assert!(t.ports.is_none());
        let t = parse_target("fe80::1%lo", &services).unwrap();
        assert!(matches!(t.host, Host::Literal(l) if l.scope_id == 1));
        let t = parse_target("[fe80::1%lo]:22", &services).unwrap();
        assert!(matches!(t.host, Host::Literal(l) if l.scope_id == 1));
        let t = parse_target("198.51.100.7:22,u:53", &services).unwrap();
        assert_eq!(t.host_text, "198.51.100.7");
        assert_eq!(t.ports.unwrap().len(), 2);
        let t = parse_target("localhost", &services).unwrap();
        assert_eq!(t.host, Host::Name("localhost".into()));
    }

    #[test]
    fn unparsable_targets_are_usage_errors() {
        for (text, why) in [
            ("", "no host"),
            (":80", "no host"),
            ("host:", "nothing after ':'"),
            ("2001:db8::1:80:x", "written [2001:db8::1]:80"),
            ("host:1:2", "more than one ':'"),
            ("[2001:db8::1", "without ']'"),
            ("[198.51.100.1]:80", "brackets hold an IPv6"),
            ("[2001:db8::1]80", "only ':port'"),
            ("22", "neither an IPv4 address nor a host name"),
            ("10.1", "neither"),
            ("-p", "cannot start with '-'"),
            ("a..b", "empty label"),
            ("host:0", "bad port '0'"),
            ("host:nosuch", "unknown service"),
        ] {
            let err = parse_target(text, &services).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(why), "{text}: {msg}");
            assert_eq!(err.exit_code(), crate::error::exit::USAGE, "{text}");
        }
    }

    #[test]
    fn source_addresses_with_optional_port() {
        let (lit, port) = parse_source("198.51.100.1").unwrap();
        assert_eq!((lit.addr.to_string(), port), ("198.51.100.1".into(), 0));
        let (lit, port) = parse_source("198.51.100.1:4000").unwrap();
        assert_eq!((lit.addr.to_string(), port), ("198.51.100.1".into(), 4000));
        let (lit, port) = parse_source("[2001:db8::2]:53").unwrap();
        assert_eq!((lit.addr.to_string(), port), ("2001:db8::2".into(), 53));
        let (lit, port) = parse_source("2001:db8::2").unwrap();
        assert_eq!((lit.addr.to_string(), port), ("2001:db8::2".into(), 0));
        for bad in [
            "host",
            "198.51.100.1:x",
            "198.51.100.1:70000",
            "[198.51.100.1]:1",
            "2001:db8::1:80x",
        ] {
            let msg = parse_source(bad).unwrap_err().to_string();
            assert!(msg.starts_with("bad source"), "{bad}: {msg}");
        }
    }

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
        let err = parse_ip_literal("127.0.0.1%lo").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("only with an IPv6 address"), "{err}");
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
