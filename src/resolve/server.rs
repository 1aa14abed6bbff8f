//! Which DNS server to ask: `@SERVER`, `@SERVER:PORT`, `@[V6]:PORT`, `--server`, or the system's from resolv.conf.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::target::{parse_ip_literal, validate_host_name};

/// The resolver configuration every program on this host reads.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The DNS port.
pub const DNS_PORT: u16 = 53;

/// What a server argument accepts, for error messages.
pub const SERVER_ACCEPTED: &str = "an IP address, IP:PORT, [IPv6]:PORT or a host name with an optional :PORT (e.g. @127.0.0.1:5353, @[::1]:53)";

/// A server as the user wrote it, before any name is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSpec {
    /// An address (with its port).
    Addr(SocketAddr),
    /// A host name to resolve with the system resolver, and the port.
    Host(String, u16),
}

/// Parses `IP`, `IP:PORT`, `[V6]`, `[V6]:PORT`, `V6` (no port: a bare IPv6 address keeps all its colons),
/// `HOST` or `HOST:PORT`. IPv6 may carry a `%scope`.
pub fn parse_server(text: &str) -> Result<ServerSpec> {
    let bad = |why: &str| Error::usage(format!("bad server '{text}': {why}; accepted: {SERVER_ACCEPTED}"));
    if text.is_empty() {
        return Err(bad("empty"));
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or_else(|| bad("no closing ']'"))?;
        let lit = match parse_ip_literal(inside)? {
            Some(lit) if lit.addr.is_ipv6() => lit,
            _ => return Err(bad("brackets hold an IPv6 address")),
        };
        let port = match after {
            "" => DNS_PORT,
            _ => parse_port(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| bad("expected ':PORT' after ']'"))?,
            )
            .map_err(|why| bad(&why))?,
        };
        return Ok(ServerSpec::Addr(socket_addr(lit.addr, lit.scope_id, port)));
    }
    if let Some(lit) = parse_ip_literal(text)? {
        return Ok(ServerSpec::Addr(socket_addr(lit.addr, lit.scope_id, DNS_PORT)));
    }
    let (host, port) = match text.rsplit_once(':') {
        // More than one colon and not an address: a mistyped IPv6 address, not host:port.
        Some((host, _)) if host.contains(':') => {
            return Err(bad("an IPv6 address with a port needs brackets"));
        }
        Some((host, port)) => (host, parse_port(port).map_err(|why| bad(&why))?),
        None => (text, DNS_PORT),
    };
    if let Some(lit) = parse_ip_literal(host)? {
        return Ok(ServerSpec::Addr(socket_addr(lit.addr, lit.scope_id, port)));
    }
    validate_host_name(host).map_err(|_| bad("not an address or a host name"))?;
    Ok(ServerSpec::Host(host.to_string(), port))
}

fn parse_port(text: &str) -> std::result::Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) => Err("port 0 cannot be asked".into()),
        Ok(port) => Ok(port),
        Err(_) => Err(format!("bad port '{text}' (1-65535)")),
    }
}

fn socket_addr(addr: IpAddr, scope_id: u32, port: u16) -> SocketAddr {
    match addr {
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope_id)),
        v4 => SocketAddr::new(v4, port),
    }
}

/// Splits dig-style `@SERVER` arguments from the names among which they were given.
pub fn split_at_servers(args: &[String]) -> (Vec<String>, Vec<String>) {
    let (servers, names): (Vec<_>, Vec<_>) = args.iter().cloned().partition(|a| a.starts_with('@'));
    let servers = servers.into_iter().map(|s| s[1..].to_string()).collect();
    (names, servers)
}

/// What resolv.conf says, as the report shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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

    fn addr(text: &str) -> ServerSpec {
        ServerSpec::Addr(text.parse().unwrap())
    }

    #[test]
    fn server_forms() {
        assert_eq!(parse_server("127.0.0.1").unwrap(), addr("127.0.0.1:53"));
        assert_eq!(parse_server("127.0.0.1:5353").unwrap(), addr("127.0.0.1:5353"));
        assert_eq!(parse_server("::1").unwrap(), addr("[::1]:53"));
        assert_eq!(parse_server("2001:db8::53").unwrap(), addr("[2001:db8::53]:53"));
        assert_eq!(parse_server("[::1]").unwrap(), addr("[::1]:53"));
        assert_eq!(
            parse_server("[2001:db8::1]:5353").unwrap(),
            addr("[2001:db8::1]:5353")
        );
        assert_eq!(
            parse_server("localhost").unwrap(),
            ServerSpec::Host("localhost".into(), 53)
        );
        assert_eq!(
            parse_server("ns1.example:5300").unwrap(),
            ServerSpec::Host("ns1.example".into(), 5300)
        );
        match parse_server("[fe80::1%lo]:53").unwrap() {
            ServerSpec::Addr(SocketAddr::V6(v6)) => assert_eq!(v6.scope_id(), 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_servers_say_what_is_accepted() {
        for bad in [
            "",
            "127.0.0.1:",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:dns",
            "[::1",
            "[::1]53",
            "[127.0.0.1]:53",
            "::1:zz:53",
            "a b",
            ":53",
        ] {
            let err = parse_server(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().contains("accepted"), "{bad}: {err}");
        }
    }

    #[test]
    fn at_arguments_are_split_from_names() {
        let args: Vec<String> = ["a.test", "@127.0.0.1:5353", "b.test"].map(String::from).to_vec();
        let (names, servers) = split_at_servers(&args);
        assert_eq!(names, ["a.test", "b.test"]);
        assert_eq!(servers, ["127.0.0.1:5353"]);
    }

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
