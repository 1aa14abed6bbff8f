//! Which DNS server to ask: `@SERVER`, `@SERVER:PORT`, `@[V6]:PORT`, `--server`, or the system's from resolv.conf;
//! parsed when the request is validated, looked up (host names, resolv.conf) when it runs.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use super::encrypted::spec::{EncryptedSpec, is_encrypted, parse_encrypted};
use super::exchange::MAX_SYSTEM_SERVERS;
use super::report::ServerSource;
use super::resolv_conf::SystemConf;
use crate::error::{Error, Result};
use crate::host::{RESOLVE, check_host, not_one_host};
use crate::lookup::{self, Family, Hints, SockType};
use crate::target::parse_ip_literal;

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
    check_host(host, RESOLVE)
        .map_err(|_| bad(&not_one_host(host, RESOLVE).unwrap_or("not an address or a host name".into())))?;
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

/// The servers the user chose, parsed but not yet looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerChoice {
    /// None chosen: the system's, from resolv.conf.
    System,
    /// `@SERVER` arguments, then `--server`.
    Chosen {
        /// As the user wrote them.
        given: Vec<String>,
        /// As parsed, in the same order.
        specs: Vec<ServerSpec>,
    },
    /// `@tls://...` or `@https://...`: one server, asked over an encrypted connection.
    Encrypted {
        /// As the user wrote it.
        given: String,
        /// As parsed.
        spec: EncryptedSpec,
    },
}

impl ServerChoice {
    /// Parses `@SERVER` arguments and `--server`; with `-4`/`-6`, an address of the other family is refused.
    pub fn parse(at_servers: &[String], option: Option<&str>, family: Family) -> Result<ServerChoice> {
        let given: Vec<String> = at_servers
            .iter()
            .cloned()
            .chain(option.map(String::from))
            .collect();
        if given.is_empty() {
            return Ok(ServerChoice::System);
        }
        if let Some(text) = given.iter().find(|g| is_encrypted(g)) {
            if given.len() > 1 {
                return Err(Error::usage(format!(
                    "an encrypted server ({text}) is asked alone: give it as the only @SERVER"
                )));
            }
            let spec = parse_encrypted(text)?;
            if let ServerSpec::Addr(addr) = spec.server
                && !family.admits(&addr.ip())
            {
                return Err(Error::usage(format!(
                    "server {addr} is not {} as -4/-6 asks",
                    family.name()
                )));
            }
            return Ok(ServerChoice::Encrypted {
                given: text.clone(),
                spec,
            });
        }
        let mut specs = Vec::new();
        for text in &given {
            let spec = parse_server(text)?;
            if let ServerSpec::Addr(addr) = spec
                && !family.admits(&addr.ip())
            {
                return Err(Error::usage(format!(
                    "server {addr} is not {} as -4/-6 asks",
                    family.name()
                )));
            }
            specs.push(spec);
        }
        Ok(ServerChoice::Chosen { given, specs })
    }
}

/// The servers to ask and where they came from. `-4`/`-6` keep servers of that family, as in dig.
pub fn choose_servers(choice: &ServerChoice, family: Family) -> Result<(Vec<SocketAddr>, ServerSource)> {
    let (given, specs) = match choice {
        ServerChoice::System => return system_servers(family),
        ServerChoice::Chosen { given, specs } => (given, specs),
        ServerChoice::Encrypted { given, .. } => {
            return Err(Error::usage(format!(
                "{given} is asked over an encrypted connection in the direct DNS mode only; --compare and \
                 --servers-compare ask servers over UDP and TCP"
            )));
        }
    };
    let mut servers = Vec::new();
    for spec in specs {
        servers.push(address_of(spec, family)?);
    }
    let given = given.clone();
    Ok((servers, ServerSource::Chosen { given }))
}

/// The address of a server: as given, or its host name looked up with the system resolver.
pub fn address_of(spec: &ServerSpec, family: Family) -> Result<SocketAddr> {
    match spec {
        ServerSpec::Addr(addr) => Ok(*addr),
        ServerSpec::Host(host, port) => resolve_server(host, *port, family),
    }
}

/// The first nameservers of resolv.conf (glibc asks no more than three) of the family asked for.
fn system_servers(family: Family) -> Result<(Vec<SocketAddr>, ServerSource)> {
    let conf = SystemConf::read()?;
    let (asked, ignored) = conf
        .nameservers
        .split_at(conf.nameservers.len().min(MAX_SYSTEM_SERVERS));
    let servers: Vec<SocketAddr> = asked.iter().copied().filter(|a| family.admits(&a.ip())).collect();
    if servers.is_empty() {
        return Err(Error::usage(format!(
            "no {} nameserver in {} to ask; choose one with @SERVER or --server",
            family.name(),
            conf.path
        )));
    }
    let ignored = ignored.to_vec();
    Ok((
        servers,
        ServerSource::System {
            resolv_conf: conf,
            ignored,
        },
    ))
}

/// Resolves a server's host name with the system resolver, as dig does for `@name`. Whatever getaddrinfo's
/// answer, a server that cannot be found is bad input to this run (exit 2), not a negative result.
fn resolve_server(host: &str, port: u16, family: Family) -> Result<SocketAddr> {
    let hints = Hints::addresses(family, SockType::Dgram);
    let forward = lookup::getaddrinfo(Some(host), None, &hints).map_err(|e| {
        Error::usage(format!(
            "cannot find the address of server '{host}': {}",
            e.message
        ))
    })?;
    let row = forward
        .rows
        .first()
        .ok_or_else(|| Error::usage(format!("server '{host}' has no address")))?;
    Ok(SocketAddr::new(row.address, port))
}

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
            "198.51.100.0/24",
            "a/b",
        ] {
            let err = parse_server(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().contains("accepted"), "{bad}: {err}");
        }
    }

    #[test]
    fn family_filters_chosen_servers() {
        let err = ServerChoice::parse(&["127.0.0.1".into()], None, Family::Inet6).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let choice = ServerChoice::parse(&["127.0.0.1:5353".into()], Some("[::1]:53"), Family::Any).unwrap();
        let (servers, _) = choose_servers(&choice, Family::Any).unwrap();
        assert_eq!(
            servers,
            [
                "127.0.0.1:5353".parse().unwrap(),
                "[::1]:53".parse::<SocketAddr>().unwrap()
            ]
        );
    }
}
