//! /etc/resolv.conf as glibc reads it: the nameservers, the search list and the options the report shows.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::server::DNS_PORT;
use crate::error::{Error, Result};

/// The resolver configuration every program on this host reads.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// What resolv.conf says, as the report shows it.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
pub struct SystemConf {
    /// The file read.
    pub path: String,
    /// `nameserver` lines, in order, on port 53.
    pub nameservers: Vec<SocketAddr>,
    /// True when the file named no server and glibc's default (127.0.0.1) applies.
    pub default_nameserver: bool,
    /// The search list (last `search` or `domain` line), each without the trailing dot.
    pub search: Vec<String>,
    /// `options ndots:N` (default 1).
    pub ndots: usize,
    /// `options timeout:N` in milliseconds (default 5000).
    pub timeout_ms: u64,
    /// `options attempts:N` (default 2).
    pub attempts: usize,
}

impl SystemConf {
    /// Reads the resolver configuration; a missing file means glibc's defaults (127.0.0.1, no search).
    pub fn read() -> Result<Self> {
        match std::fs::read(RESOLV_CONF) {
            Ok(data) => Self::parse(RESOLV_CONF, &data),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::parse(RESOLV_CONF, b""),
            Err(e) => Err(Error::io(format!("reading {RESOLV_CONF}"), e)),
        }
    }

    /// Parses resolv.conf text with hickory's parser.
    pub fn parse(path: &str, data: &[u8]) -> Result<Self> {
        use hickory_resolver::system_conf::parse_resolv_conf;
        let (config, opts, default_nameserver) = match parse_resolv_conf(data) {
            Ok((config, opts)) => (config, opts, false),
            Err(_) => {
                // hickory refuses a file without nameservers; glibc then asks 127.0.0.1, so do the same.
                let mut with_default = data.to_vec();
                with_default.extend_from_slice(b"\nnameserver 127.0.0.1\n");
                let (config, opts) = parse_resolv_conf(&with_default)
                    .map_err(|e| Error::System(format!("cannot parse {path}: {e}")))?;
                (config, opts, true)
            }
        };
        Ok(SystemConf {
            path: path.to_string(),
            nameservers: config
                .name_servers()
                .iter()
                .map(|ns| SocketAddr::new(ns.ip, DNS_PORT))
                .collect(),
            default_nameserver,
            search: config
                .search()
                .iter()
                .map(|n| n.to_ascii().trim_end_matches('.').to_string())
                .collect(),
            ndots: opts.ndots,
            timeout_ms: u64::try_from(opts.timeout.as_millis()).unwrap_or(u64::MAX),
            attempts: opts.attempts,
        })
    }

    /// The per-attempt timeout resolv.conf sets.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// glibc's default server when resolv.conf names none.
pub const GLIBC_DEFAULT_SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DNS_PORT);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_fields() {
        let text = b"# comment\nnameserver 198.51.100.53\nnameserver 2001:db8::53\nsearch lab.test corp.test\noptions ndots:2 timeout:3 attempts:4\n";
        let conf = SystemConf::parse("/x/resolv.conf", text).unwrap();
        assert_eq!(conf.path, "/x/resolv.conf");
        assert_eq!(
            conf.nameservers,
            [
                "198.51.100.53:53".parse::<SocketAddr>().unwrap(),
                "[2001:db8::53]:53".parse().unwrap()
            ]
        );
        assert!(!conf.default_nameserver);
        assert_eq!(conf.search, ["lab.test", "corp.test"]);
        assert_eq!((conf.ndots, conf.timeout_ms, conf.attempts), (2, 3000, 4));
    }

    #[test]
    fn resolv_conf_without_servers_uses_glibc_default() {
        let conf = SystemConf::parse("/x", b"search lab.test\n").unwrap();
        assert_eq!(conf.nameservers, [GLIBC_DEFAULT_SERVER]);
        assert!(conf.default_nameserver);
        assert_eq!(conf.search, ["lab.test"]);
        assert_eq!((conf.ndots, conf.timeout_ms, conf.attempts), (1, 5000, 2));
    }
}
