//! `sockdiag resolve -t/-x/@SERVER`: validate the request, choose the servers, run the queries with a bounded
//! number in flight, and build the DNS report in input order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{Name, RecordType};

use super::dns::{self, MAX_SYSTEM_SERVERS, Plan, Transport};
use super::dns_report::{DnsReport, QueryReport, ServerSource};
use super::server::{ServerSpec, SystemConf, parse_server};
use crate::cli::{ResolveArgs, SockTypeArg};
use crate::error::{Error, Outcome, Result};
use crate::lookup::{self, Family, Hints, SockType};
use crate::target::{parse_ip_literal, validate_host_name};

/// Per-try wait when `-w` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The record types `-t` accepts by name.
pub const TYPES: [RecordType; 10] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::CNAME,
    RecordType::MX,
    RecordType::TXT,
    RecordType::NS,
    RecordType::SOA,
    RecordType::SRV,
    RecordType::PTR,
    RecordType::CAA,
];

/// `-t common`: what people usually want to see about a domain (CNAME chains show up in the A/AAAA answers).
pub const COMMON: [RecordType; 7] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::MX,
    RecordType::NS,
    RecordType::SOA,
    RecordType::TXT,
    RecordType::CAA,
];

/// Parses `-t` values (already split at commas): type names in any case, or `common`; duplicates dropped.
pub fn parse_types(values: &[String]) -> Result<Vec<RecordType>> {
    let mut types = Vec::new();
    for value in values {
        let upper = value.trim().to_ascii_uppercase();
        let found: Vec<RecordType> = if upper == "COMMON" {
            COMMON.to_vec()
        } else {
            match TYPES.iter().find(|t| t.to_string() == upper) {
                Some(t) => vec![*t],
                None => {
                    let names: Vec<String> = TYPES.iter().map(|t| t.to_string()).collect();
                    return Err(Error::usage(format!(
                        "unknown record type '{value}': accepted are {} and common",
                        names.join(", ")
                    )));
                }
            }
        };
        for t in found {
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    Ok(types)
}

/// Turns a NAME argument into the absolute name to ask: an address becomes its reverse (PTR) name.
/// Returns the name and whether it is a reverse name.
pub fn query_name(text: &str) -> Result<(Name, bool)> {
    if let Some(lit) = parse_ip_literal(text)? {
        return Ok((Name::from(lit.addr), true));
    }
    if text == "." {
        return Ok((Name::root(), false));
    }
    validate_host_name(text)?;
    let mut name = Name::from_ascii(text)
        .map_err(|e| Error::usage(format!("bad name '{}': {e}", text.escape_debug())))?;
    // Asked as given, like dig: a relative name is made absolute, never extended by the search list.
    name.set_fqdn(true);
    Ok((name, false))
}

/// The questions to ask: every name with every type (an address: one PTR), then every `-x` address.
pub fn questions(names: &[String], reverse: &[String], types: &[RecordType]) -> Result<Vec<Query>> {
    let mut out = Vec::new();
    for text in names {
        match query_name(text)? {
            (name, true) => out.push(Query::query(name, RecordType::PTR)),
            (name, false) => out.extend(types.iter().map(|t| Query::query(name.clone(), *t))),
        }
    }
    for text in reverse {
        match parse_ip_literal(text)? {
            Some(lit) => out.push(Query::query(Name::from(lit.addr), RecordType::PTR)),
            None => {
                return Err(Error::usage(format!(
                    "-x needs an IP address, got '{text}' (e.g. -x 198.51.100.7 or -x 2001:db8::1)"
                )));
            }
        }
    }
    Ok(out)
}

/// Flags that shape getaddrinfo and mean nothing to a direct DNS query.
fn reject_system_only(args: &ResolveArgs) -> Result<()> {
    let used = [
        (args.service.is_some(), "--service"),
        (args.socktype != SockTypeArg::Any, "--socktype"),
        (args.protocol.is_some(), "--protocol"),
        (args.no_canonname, "--no-canonname"),
        (args.passive, "--passive"),
        (args.addrconfig, "--addrconfig"),
        (args.v4mapped, "--v4mapped"),
        (args.numeric_host, "--numeric-host"),
    ];
    match used.iter().find(|(on, _)| *on) {
        Some((_, flag)) => Err(Error::usage(format!(
            "{flag} shapes the system resolver's lookup (getaddrinfo) and does not apply to direct DNS queries \
             (-t, -x, @SERVER, --server)"
        ))),
        None => Ok(()),
    }
}

/// The servers to ask and where they came from. `-4`/`-6` keep servers of that family, as in dig.
pub fn choose_servers(
    at: &[String],
    option: Option<&str>,
    family: Family,
) -> Result<(Vec<SocketAddr>, ServerSource)> {
    let given: Vec<String> = at.iter().cloned().chain(option.map(String::from)).collect();
    let keep = |a: &SocketAddr| match family {
        Family::Any => true,
        Family::Inet => a.is_ipv4(),
        Family::Inet6 => a.is_ipv6(),
    };
    if given.is_empty() {
        let conf = SystemConf::read()?;
        let (asked, ignored) = conf
            .nameservers
            .split_at(conf.nameservers.len().min(MAX_SYSTEM_SERVERS));
        let servers: Vec<SocketAddr> = asked.iter().copied().filter(keep).collect();
        if servers.is_empty() {
            return Err(Error::usage(format!(
                "no {} nameserver in {} to ask; choose one with @SERVER or --server",
                family.name(),
                conf.path
            )));
        }
        let ignored = ignored.to_vec();
        return Ok((
            servers,
            ServerSource::System {
                resolv_conf: conf,
                ignored,
            },
        ));
    }
    let mut servers = Vec::new();
    for text in &given {
        match parse_server(text)? {
            ServerSpec::Addr(addr) => {
                if !keep(&addr) {
                    return Err(Error::usage(format!(
                        "server {addr} is not {} as -4/-6 asks",
                        family.name()
                    )));
                }
                servers.push(addr);
            }
            ServerSpec::Host(host, port) => servers.push(resolve_server(&host, port, family)?),
        }
    }
    Ok((servers, ServerSource::Chosen { given }))
}

/// Resolves a server's host name with the system resolver, as dig does for `@name`.
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

/// Runs the direct DNS queries; returns the report, its outcome and one line per unreachable server.
pub fn run(args: &ResolveArgs, names: &[String], at: &[String]) -> Result<(DnsReport, Outcome, Vec<String>)> {
    reject_system_only(args)?;
    let types = if args.types.is_empty() {
        vec![RecordType::A]
    } else {
        parse_types(&args.types)?
    };
    let questions = questions(names, &args.reverse, &types)?;
    if questions.is_empty() {
        return Err(Error::usage(
            "nothing to look up: give a NAME, -x ADDR or -f FILE",
        ));
    }
    let timeout = args.timeout.unwrap_or(DEFAULT_TIMEOUT);
    if timeout.is_zero() {
        return Err(Error::usage("-w/--timeout must be more than 0 (e.g. 500ms, 2s)"));
    }
    let family = match (args.family.ipv4, args.family.ipv6) {
        (true, _) => Family::Inet,
        (_, true) => Family::Inet6,
        _ => Family::Any,
    };
    let (servers, server_source) = choose_servers(at, args.server.as_deref(), family)?;
    let plan = Plan {
        servers: servers.clone(),
        tcp_only: args.tcp,
        timeout,
        attempts: args.attempts,
    };
    let exchanges = ask_all(&plan, &questions, args.parallel.into())?;
    let queries: Vec<QueryReport> = questions
        .iter()
        .zip(exchanges)
        .map(|(q, ex)| QueryReport::from_exchange(q.name(), q.query_type(), ex, timeout))
        .collect();
    let report = DnsReport {
        server_source,
        servers,
        transport: if args.tcp { Transport::Tcp } else { Transport::Udp },
        timeout_ms: crate::render::ms_f64(timeout),
        attempts: args.attempts,
        search_list_applied: false,
        queries,
        timeout,
    };
    let outcome = Outcome::negative_if(report.queries.iter().any(QueryReport::is_negative));
    let unreachable = report.unreachable();
    Ok((report, outcome, unreachable))
}

/// Asks every question with at most `limit` in flight; the exchanges come back in question order.
pub fn ask_all(plan: &Plan, questions: &[Query], limit: usize) -> Result<Vec<dns::Exchange>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    let plan = Arc::new(plan.clone());
    runtime.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
        let handles: Vec<_> = questions
            .iter()
            .cloned()
            .map(|query| {
                let (plan, permits) = (plan.clone(), permits.clone());
                tokio::spawn(async move {
                    let _permit = permits
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed");
                    dns::ask(&plan, &query).await
                })
            })
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(
                handle
                    .await
                    .map_err(|e| Error::System(format!("a DNS query task failed: {e}")))?,
            );
        }
        Ok(out)
    })
}

/// Whether the arguments ask for DNS directly rather than the system resolver.
pub fn wanted(args: &ResolveArgs, at: &[String]) -> bool {
    !args.types.is_empty() || !args.reverse.is_empty() || !at.is_empty() || args.server.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_case_insensitively_with_common() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_types(&v(&["a", "Mx"])).unwrap(),
            [RecordType::A, RecordType::MX]
        );
        let common = parse_types(&v(&["common", "A", "SRV"])).unwrap();
        assert_eq!(common.len(), COMMON.len() + 1);
        assert_eq!(common.last(), Some(&RecordType::SRV));
        let err = parse_types(&v(&["AXFR"])).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("accepted are A, AAAA"), "{err}");
    }

    #[test]
    fn names_are_absolute_and_addresses_reverse() {
        let (n, rev) = query_name("web").unwrap();
        assert_eq!((n.to_ascii().as_str(), rev), ("web.", false));
        let (n, rev) = query_name("198.51.100.7").unwrap();
        assert_eq!((n.to_ascii().as_str(), rev), ("7.100.51.198.in-addr.arpa.", true));
        let (n, _) = query_name("2001:db8::1").unwrap();
        assert!(n.to_ascii().ends_with(".8.b.d.0.1.0.0.2.ip6.arpa."), "{n}");
        assert!(query_name(".").unwrap().0.is_root());
        assert!(query_name("_sip._tcp.lab.test").is_ok());
        assert_eq!(query_name("a..b").unwrap_err().exit_code(), 2);
    }

    #[test]
    fn questions_cross_names_and_types() {
        let names = ["a.test".to_string(), "198.51.100.7".to_string()];
        let qs = questions(&names, &["2001:db8::1".into()], &[RecordType::A, RecordType::MX]).unwrap();
        let got: Vec<_> = qs.iter().map(|q| q.query_type()).collect();
        assert_eq!(
            got,
            [RecordType::A, RecordType::MX, RecordType::PTR, RecordType::PTR]
        );
        assert_eq!(questions(&[], &["nope".into()], &[]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn family_filters_chosen_servers() {
        let err = choose_servers(&["127.0.0.1".into()], None, Family::Inet6).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let (servers, _) = choose_servers(&["127.0.0.1:5353".into()], Some("[::1]:53"), Family::Any).unwrap();
        assert_eq!(
            servers,
            [
                "127.0.0.1:5353".parse().unwrap(),
                "[::1]:53".parse::<SocketAddr>().unwrap()
            ]
        );
    }
}
