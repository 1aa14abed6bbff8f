//! What names one host (resolve's NAME, trace's HOST): a host name or an IP address. A port, a CIDR block, a range
//! or text that is neither is refused, saying which it is, before anything is looked up.

use std::net::IpAddr;

use crate::error::{Error, Result};
use crate::target::{HOST_ACCEPTED, parse_ip_literal, validate_host_name};

/// How a command words what it does with one host, for the messages.
#[derive(Debug, Clone, Copy)]
pub struct OneHost {
    /// What the command does with one host, e.g. "resolve looks up one host at a time".
    pub takes: &'static str,
    /// Where a port goes instead, with `{port}` for the port given, e.g. "give it with --service {port}".
    pub port_advice: &'static str,
}

/// resolve's wording.
pub const RESOLVE: OneHost = OneHost {
    takes: "resolve looks up one host at a time",
    port_advice: "give it with --service {port}",
};

/// trace's wording.
pub const TRACE: OneHost = OneHost {
    takes: "trace follows the path to one host",
    port_advice: "trace sends ICMP echo, which has no port",
};

/// probe's wording (a target's port is parsed before this check, so only the block and range words apply).
pub const PROBE: OneHost = OneHost {
    takes: "probe takes one host per target for now",
    port_advice: "write it as HOST:PORT or after the targets",
};

/// Checks that `text` names one host: an IP literal (IPv6 with an optional %scope), the root `.`, or a host
/// name of letters, digits, `-`, `_` and `*` (and non-ASCII, which IDN names carry) in well-formed labels.
pub fn check_host(text: &str, rules: OneHost) -> Result<()> {
    if parse_ip_literal(text)?.is_some() || text == "." {
        return Ok(());
    }
    if let Some(why) = not_one_host(text, rules) {
        return Err(Error::usage(format!(
            "bad name '{}': {why}; accepted: {HOST_ACCEPTED}",
            text
        )));
    }
    validate_host_name(text)
}

/// Why `text` (not an IP literal) is not one host: a CIDR block, a range, a port, stray punctuation.
pub fn not_one_host(text: &str, rules: OneHost) -> Option<String> {
    if let Some(why) = block_or_range(text, rules) {
        return Some(why);
    }
    if text.contains('/') {
        return Some("a '/' belongs only in a CIDR block, and this is not one".into());
    }
    if let Some(why) = with_port(text, rules) {
        return Some(why);
    }
    if text.starts_with('[') && text.ends_with(']') {
        return Some("write an IPv6 address without brackets".into());
    }
    if text.contains(':') {
        return Some("not an IPv6 address, and a ':' cannot be in a host name".into());
    }
    let stray = text
        .chars()
        .find(|c| c.is_ascii() && !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*')));
    stray.map(|c| format!("'{c}' cannot be in a host name"))
}

/// A CIDR block (`198.51.100.0/24`) or an address range (`198.51.100.1-20`, `2001:db8::1-2001:db8::9`):
/// more than one host, or a prefix length its family does not have.
fn block_or_range(text: &str, rules: OneHost) -> Option<String> {
    if let Some((addr, len)) = text.split_once('/')
        && let Ok(ip) = addr.parse::<IpAddr>()
    {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return Some(match len.parse::<u8>() {
            Ok(n) if n <= max => format!("a CIDR block; {} (e.g. {ip})", rules.takes),
            _ => format!(
                "'/{len}' is not a prefix length of an {} address (0-{max})",
                if ip.is_ipv4() { "IPv4" } else { "IPv6" }
            ),
        });
    }
    let (first, last) = text.rsplit_once('-')?;
    let first: IpAddr = first.parse().ok()?;
    let end_is_number = !last.is_empty() && last.chars().all(|c| c.is_ascii_hexdigit());
    (end_is_number || last.parse::<IpAddr>().is_ok())
        .then(|| format!("an address range; {} (e.g. {first})", rules.takes))
}

/// `host:port` or `[v6]:port`: the port belongs in `--service`.
fn with_port(text: &str, rules: OneHost) -> Option<String> {
    let (host, port) = text.rsplit_once(':')?;
    let bracketed = host.starts_with('[') && host.ends_with(']');
    let numeric = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
    (numeric && (bracketed || !host.contains(':'))).then(|| {
        format!(
            "a port is not part of a name; {}",
            rules.port_advice.replace("{port}", port)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(text: &str) -> String {
        let err = check_host(text, RESOLVE).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{text}");
        err.to_string()
    }

    #[test]
    fn hosts_and_addresses_pass() {
        for ok in [
            "host.lab.test",
            "_lab._tcp.lab.test",
            "*.lab.test",
            "xn--bcher-kva.example",
            "bücher.example",
            "198.51.100.7",
            "2001:db8::1",
            "fe80::1%1",
            "absolute.lab.test.",
            ".",
            "localhost",
        ] {
            assert!(check_host(ok, RESOLVE).is_ok(), "{ok}");
        }
    }

    #[test]
    fn blocks_and_ranges_say_so() {
        assert!(why("203.0.113.0/24").contains("a CIDR block; resolve looks up one host"));
        assert!(why("2001:db8::/32").contains("a CIDR block"));
        assert!(why("203.0.113.0/33").contains("'/33' is not a prefix length of an IPv4 address (0-32)"));
        assert!(why("2001:db8::/129").contains("(0-128)"));
        assert!(why("198.51.100.1-20").contains("an address range"));
        assert!(why("198.51.100.1-198.51.100.9").contains("an address range"));
        assert!(why("2001:db8::1-ff").contains("an address range"));
    }

    #[test]
    fn what_cannot_be_a_host_is_named() {
        let e = why("::1x");
        assert!(e.starts_with("bad name '::1x': not an IPv6 address"), "{e}");
        assert!(e.contains("accepted: a host name"), "{e}");
        assert!(why("a/b").contains("a '/' belongs only in a CIDR block"));
        assert!(why("host.lab.test:443").contains("give it with --service 443"));
        assert!(why("[2001:db8::1]:53").contains("--service 53"));
        assert!(why("[2001:db8::1]").contains("without brackets"));
        assert!(why("a!b").contains("'!' cannot be in a host name"));
        assert!(why("a..b").contains("empty label"));
        // A hyphenated name is not a range.
        assert!(check_host("web-1.lab.test", RESOLVE).is_ok());
        let trace = check_host("203.0.113.0/24", TRACE).unwrap_err().to_string();
        assert!(trace.contains("trace follows the path to one host"), "{trace}");
    }
}
