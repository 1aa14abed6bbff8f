//! Targets as nmap takes them: CIDR blocks with host bits allowed (`198.51.100.7/30` is the /30), octet ranges
//! (`198.51.100.1-20`, `198.51.100-101.1-5`), IPv6 blocks bounded unless `--allow-large`, and exclusions.
//! Pure parsing and expansion; reading target files is the caller's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::error::{Error, Result};

/// A block of more addresses than this needs `--allow-large`.
pub const LARGE: u128 = 65_536;
/// No run holds more addresses than this, whatever is allowed (each address has at least one result row).
pub const MOST: u128 = 1_000_000;

/// What a block accepts, for error messages.
pub const BLOCK_ACCEPTED: &str = "a CIDR block (198.51.100.0/24, host bits allowed; 2001:db8::/120) or octet ranges \
     (198.51.100.1-20, 198.51.100-101.1-5)";

/// The addresses of a CIDR block or an octet range; None when `text` is neither (a host name or one address).
pub fn parse_block(text: &str, allow_large: bool) -> Result<Option<Vec<IpAddr>>> {
    let bad = |why: String| {
        Error::usage(format!(
            "bad target '{}': {why}; accepted: {BLOCK_ACCEPTED}",
            text.escape_debug()
        ))
    };
    let span = if let Some((addr, len)) = text.split_once('/') {
        let Ok(ip) = addr.parse::<IpAddr>() else {
            return Ok(None);
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len: u8 = match len.parse() {
            Ok(n) if n <= max => n,
            _ => {
                return Err(bad(format!(
                    "'/{len}' is not a prefix length of this address (0-{max})"
                )));
            }
        };
        let net = IpNet::new(ip, len).map_err(|e| bad(e.to_string()))?.trunc();
        Span::Net(net)
    } else if let Some(octets) = octet_ranges(text) {
        Span::Octets(octets.map_err(bad)?)
    } else {
        return Ok(None);
    };
    let size = span.size();
    if size > MOST || (size > LARGE && !allow_large) {
        let limit = if allow_large {
            format!("more than any run probes ({MOST})")
        } else {
            format!("more than {LARGE}, which needs --allow-large (up to {MOST})")
        };
        return Err(bad(format!("{size} addresses is {limit}")));
    }
    Ok(Some(span.addresses()))
}

/// A parsed block.
enum Span {
    Net(IpNet),
    Octets([(u8, u8); 4]),
}

impl Span {
    fn size(&self) -> u128 {
        match self {
            Span::Net(IpNet::V4(n)) => 1u128 << (32 - n.prefix_len()),
            Span::Net(IpNet::V6(n)) => 1u128
                .checked_shl(128 - u32::from(n.prefix_len()))
                .unwrap_or(u128::MAX),
            Span::Octets(o) => o.iter().map(|(a, b)| u128::from(b - a) + 1).product(),
        }
    }

    /// Every address, network and broadcast addresses included (as nmap probes them).
    fn addresses(&self) -> Vec<IpAddr> {
        match self {
            Span::Net(IpNet::V4(n)) => v4_range(n).map(IpAddr::V4).collect(),
            Span::Net(IpNet::V6(n)) => v6_range(n).map(IpAddr::V6).collect(),
            Span::Octets(o) => {
                let mut out = Vec::new();
                for a in o[0].0..=o[0].1 {
                    for b in o[1].0..=o[1].1 {
                        for c in o[2].0..=o[2].1 {
                            for d in o[3].0..=o[3].1 {
                                out.push(IpAddr::V4(Ipv4Addr::new(a, b, c, d)));
                            }
                        }
                    }
                }
                out
            }
        }
    }
}

fn v4_range(n: &Ipv4Net) -> impl Iterator<Item = Ipv4Addr> {
    (u32::from(n.network())..=u32::from(n.broadcast())).map(Ipv4Addr::from)
}

fn v6_range(n: &Ipv6Net) -> impl Iterator<Item = Ipv6Addr> {
    (u128::from(n.network())..=u128::from(n.broadcast())).map(Ipv6Addr::from)
}

/// `a.b.c.d` where some octet is a range `N-M`: the four (first, last) pairs. None when this is not that form
/// (no range, or not four dotted parts of digits and dashes).
fn octet_ranges(text: &str) -> Option<std::result::Result<[(u8, u8); 4], String>> {
    let parts: Vec<&str> = text.split('.').collect();
    let shaped = parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
    if !shaped || !text.contains('-') {
        return None;
    }
    let mut out = [(0u8, 0u8); 4];
    for (slot, part) in out.iter_mut().zip(&parts) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (Ok(a), Ok(b)) = (a.parse::<u8>(), b.parse::<u8>()) else {
            return Some(Err(format!(
                "'{part}' is not an octet or a range of octets (0-255)"
            )));
        };
        if a > b {
            return Some(Err(format!("reversed range '{part}'")));
        }
        *slot = (a, b);
    }
    Some(Ok(out))
}

/// Addresses `--exclude` and `--exclude-file` take out of the run.
#[derive(Debug, Default, Clone)]
pub struct Exclusions {
    /// Inclusive ranges, IPv4 mapped into the IPv4-mapped IPv6 space so one comparison serves both.
    ranges: Vec<(u128, u128)>,
}

impl Exclusions {
    /// Adds each comma- or whitespace-separated item: an address, a CIDR block or an octet range.
    pub fn add(&mut self, list: &str) -> Result<()> {
        for item in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|i| !i.is_empty())
        {
            if let Ok(ip) = item.parse::<IpAddr>() {
                let k = key(ip);
                self.ranges.push((k, k));
                continue;
            }
            // A block is one range, however large (excluding a /8 costs nothing).
            if let Ok(net) = item.parse::<IpNet>() {
                let net = net.trunc();
                self.ranges.push((key(net.network()), key(net.broadcast())));
                continue;
            }
            let addrs = parse_block(item, true)?.ok_or_else(|| {
                Error::usage(format!(
                    "bad exclusion '{}': accepted: an IP address, {BLOCK_ACCEPTED}",
                    item.escape_debug()
                ))
            })?;
            self.ranges.extend(addrs.into_iter().map(|a| (key(a), key(a))));
        }
        Ok(())
    }

    /// Whether `ip` is excluded.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let k = key(ip);
        self.ranges.iter().any(|&(a, b)| (a..=b).contains(&k))
    }

    /// Whether nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The words of a target file: whitespace-separated, `#` to the end of a line a comment.
pub fn file_words(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_once('#').map_or(l, |(before, _)| before))
        .flat_map(str::split_whitespace)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str) -> Vec<String> {
        parse_block(text, false)
            .unwrap()
            .unwrap()
            .iter()
            .map(IpAddr::to_string)
            .collect()
    }

    fn err(text: &str, allow_large: bool) -> String {
        let e = parse_block(text, allow_large).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        e.to_string()
    }

    #[test]
    fn cidr_blocks_with_host_bits_are_the_whole_block() {
        assert_eq!(
            block("198.51.100.7/30"),
            ["198.51.100.4", "198.51.100.5", "198.51.100.6", "198.51.100.7"]
        );
        assert_eq!(block("198.51.100.7/32"), ["198.51.100.7"]);
        assert_eq!(
            block("2001:db8::5/126"),
            ["2001:db8::4", "2001:db8::5", "2001:db8::6", "2001:db8::7"]
        );
        assert_eq!(block("198.51.100.0/16").len(), 65_536);
        assert!(err("198.51.100.0/33", false).contains("'/33' is not a prefix length"));
        assert!(err("2001:db8::/129", false).contains("(0-128)"));
    }

    #[test]
    fn large_blocks_need_allow_large_and_huge_ones_are_refused() {
        assert!(err("2001:db8::/64", false).contains("needs --allow-large"));
        assert!(err("198.51.100.0/15", false).contains("needs --allow-large"));
        assert_eq!(
            parse_block("2001:db8::/109", true).unwrap().unwrap().len(),
            524_288
        );
        assert!(err("2001:db8::/64", true).contains("more than any run probes"));
        assert!(err("2001:db8::/64", false).contains("18446744073709551616 addresses is more than 65536"));
        assert!(err("10.0.0.0/8", true).contains("more than any run probes"));
    }

    #[test]
    fn octet_ranges_expand_in_order() {
        assert_eq!(
            block("198.51.100.1-3"),
            ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        );
        assert_eq!(
            block("198.51.100-101.1-2"),
            ["198.51.100.1", "198.51.100.2", "198.51.101.1", "198.51.101.2"]
        );
        assert!(err("198.51.100.5-2", false).contains("reversed range '5-2'"));
        assert!(err("198.51.100.1-300", false).contains("'1-300' is not an octet"));
        assert!(parse_block("198.51.100.1", false).unwrap().is_none());
        assert!(parse_block("web-1.example", false).unwrap().is_none());
        assert!(parse_block("1-2.3.4", false).unwrap().is_none());
    }

    #[test]
    fn exclusions_take_addresses_blocks_and_ranges() {
        let mut x = Exclusions::default();
        x.add("198.51.100.3, 198.51.100.8/30 2001:db8::1,198.51.100.20-21,10.0.0.0/8")
            .unwrap();
        for ip in [
            "198.51.100.3",
            "198.51.100.9",
            "198.51.100.11",
            "2001:db8::1",
            "198.51.100.21",
            "10.9.8.7",
        ] {
            assert!(x.contains(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "198.51.100.4",
            "198.51.100.12",
            "2001:db8::2",
            "::ffff:198.51.100.30",
        ] {
            assert!(!x.contains(ip.parse().unwrap()), "{ip}");
        }
        assert!(x.add("nonsense!").is_err());
    }

    #[test]
    fn target_files_have_words_and_comments() {
        let words =
            file_words("198.51.100.1 198.51.100.2 # two\n\n# none\n  host.example\t198.51.100.0/30\n");
        assert_eq!(
            words,
            ["198.51.100.1", "198.51.100.2", "host.example", "198.51.100.0/30"]
        );
    }
}
