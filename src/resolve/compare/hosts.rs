//! /etc/hosts as glibc's files backend reads it: which lines name a host, so a difference can cite file and line.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

/// The hosts file every program on this host reads (a lab namespace bind-mounts its own over it).
pub const HOSTS: &str = "/etc/hosts";

/// One line of the hosts file that names the host looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct HostsHit {
    /// 1-based line number.
    pub line: usize,
    /// The address on that line.
    pub address: IpAddr,
    /// The line as written, without its comment.
    pub text: String,
}

/// Every line whose canonical name or alias is `name` (case-insensitive; a final dot on `name` is ignored,
/// as the files backend matches names as written). Lines with an unparsable address are skipped, as glibc does.
pub fn lookup(text: &str, name: &str) -> Vec<HostsHit> {
    let wanted = name.strip_suffix('.').unwrap_or(name);
    let mut hits = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let mut fields = line.split_whitespace();
        let Some(address) = fields.next().and_then(|a| a.parse::<IpAddr>().ok()) else {
            continue;
        };
        if fields.any(|n| n.eq_ignore_ascii_case(wanted)) {
            hits.push(HostsHit {
                line: i + 1,
                address,
                text: line.to_string(),
            });
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "127.0.0.1 localhost\n# 198.51.100.9 web.lab.test\n\n198.51.100.77  Web.Lab.Test web # pinned\n\
                        2001:db8::77 web.lab.test\nnot-an-address web.lab.test\n";

    #[test]
    fn finds_names_and_aliases_with_line_numbers() {
        let hits = lookup(TEXT, "web.lab.test.");
        let got: Vec<_> = hits.iter().map(|h| (h.line, h.address.to_string())).collect();
        assert_eq!(
            got,
            [(4, "198.51.100.77".to_string()), (5, "2001:db8::77".to_string())]
        );
        assert_eq!(hits[0].text, "198.51.100.77  Web.Lab.Test web");
        assert_eq!(lookup(TEXT, "web").len(), 1);
        assert!(lookup(TEXT, "lab.test").is_empty());
    }
}
