//! `sockdiag resolve --compare`: gather both views of each name (getaddrinfo; DNS for the name as given and for
//! each search-list candidate), the hosts lines and the host's families, then explain with [`super::compare`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{Name, RecordType};

use super::compare::{self, Candidate, DnsSide, HostFamilies, Inputs, SystemSide};
use super::compare_report::{CandidateReport, CompareReport, NameComparison, SearchReport};
use super::direct::{self, DEFAULT_TIMEOUT};
use super::dns::Plan;
use super::dns_report::{QueryReport, Status};
use super::hosts::{self, HOSTS};
use super::records::Fields;
use super::report::HintsReport;
use super::server::SystemConf;
use crate::cli::ResolveArgs;
use crate::error::{Error, Outcome, Result};
use crate::lookup::{self, Family};
use crate::target::{parse_ip_literal, validate_host_name};

/// Runs the comparison for every name.
pub fn run(args: &ResolveArgs, at: &[String]) -> Result<(CompareReport, Outcome)> {
    let hints = super::hints_from(args);
    hints.validate()?;
    if args.passive || args.numeric_host || args.service.is_some() {
        return Err(Error::usage(
            "--compare compares host names; --passive, --numeric-host and --service do not apply",
        ));
    }
    for name in &args.names {
        if parse_ip_literal(name)?.is_some() {
            return Err(Error::usage(format!(
                "--compare compares host names, and '{name}' is an address (for its PTR record use -x)"
            )));
        }
        validate_host_name(name)?;
    }
    if args.names.is_empty() {
        return Err(Error::usage("--compare needs at least one NAME (or -f FILE)"));
    }
    let timeout = args.timeout.unwrap_or(DEFAULT_TIMEOUT);
    if timeout.is_zero() {
        return Err(Error::usage("-w/--timeout must be more than 0 (e.g. 500ms, 2s)"));
    }
    let conf = SystemConf::read()?;
    let hosts_text = match std::fs::read_to_string(HOSTS) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(format!("reading {HOSTS}"), e)),
    };
    let (servers, source) = direct::choose_servers(at, args.server.as_deref(), Family::Any)?;
    let host_families = if args.addrconfig {
        Some(host_families()?)
    } else {
        None
    };
    let plan = Plan {
        servers: servers.clone(),
        tcp_only: args.tcp,
        timeout,
        attempts: args.attempts,
    };
    let types: Vec<RecordType> = match hints.family {
        Family::Inet => vec![RecordType::A],
        Family::Inet6 => vec![RecordType::AAAA],
        Family::Any => vec![RecordType::A, RecordType::AAAA],
    };

    // The system side, with the user's hints, as a program would call it.
    let systems = super::map_bounded(
        &args.names,
        args.parallel.into(),
        |name| match lookup::getaddrinfo(Some(name), None, &hints) {
            Ok(fwd) => {
                let mut addresses: Vec<IpAddr> = Vec::new();
                for row in fwd.rows {
                    if !addresses.contains(&row.address) {
                        addresses.push(row.address);
                    }
                }
                SystemSide {
                    addresses,
                    canonical_name: fwd.canonical_name,
                    error: None,
                }
            }
            Err(e) => SystemSide {
                addresses: Vec::new(),
                canonical_name: None,
                error: Some(format!("{}: {}", e.code, e.message)),
            },
        },
    );

    // The DNS side: the name as given, then every candidate glibc's search would ask, all in one batch.
    let orders: Vec<_> = args
        .names
        .iter()
        .map(|n| compare::glibc_order(n, &conf.search, conf.ndots))
        .collect();
    let mut asked: Vec<String> = Vec::new();
    for (name, (candidates, _)) in args.names.iter().zip(&orders) {
        asked.push(absolute(name));
        asked.extend(candidates.iter().map(|c| c.name.clone()));
    }
    asked.sort();
    asked.dedup();
    let mut questions = Vec::new();
    for text in &asked {
        let name = Name::from_ascii(text).map_err(|e| Error::usage(format!("bad name '{text}': {e}")))?;
        questions.extend(types.iter().map(|t| Query::query(name.clone(), *t)));
    }
    let exchanges = direct::ask_all(&plan, &questions, args.parallel.into())?;
    let reports: Vec<QueryReport> = questions
        .iter()
        .zip(exchanges)
        .map(|(q, ex)| QueryReport::from_exchange(q.name(), q.query_type(), ex, timeout))
        .collect();
    let side_of = |text: &str| dns_side(text, &reports);

    let mut names = Vec::new();
    for ((name, system), (candidates, rule)) in args.names.iter().zip(systems).zip(orders) {
        let dns = side_of(&absolute(name));
        let candidates: Vec<(Candidate, DnsSide)> = candidates
            .into_iter()
            .map(|c| {
                let side = side_of(&c.name);
                (c, side)
            })
            .collect();
        let hits = hosts::lookup(&hosts_text, name);
        let comparison = compare::explain(&Inputs {
            name,
            system: &system,
            dns: &dns,
            candidates: &candidates,
            rule: &rule,
            hosts: &hits,
            hosts_path: HOSTS,
            resolv_path: &conf.path,
            addrconfig: host_families,
        });
        names.push(NameComparison {
            name: name.clone(),
            system,
            dns,
            search: SearchReport {
                rule,
                candidates: candidates
                    .into_iter()
                    .map(|(candidate, dns)| CandidateReport { candidate, dns })
                    .collect(),
            },
            hosts: hits,
            comparison,
        });
    }
    let report = CompareReport {
        hints: HintsReport::from_hints(&hints, None),
        hosts_file: HOSTS.to_string(),
        dns_servers: servers,
        dns_server_source: source,
        host_families,
        names,
    };
    let outcome = Outcome::negative_if(report.names.iter().any(NameComparison::is_negative));
    Ok((report, outcome))
}

fn absolute(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// DNS's side for one absolute name, from the A/AAAA query reports asked for it.
fn dns_side(name: &str, reports: &[QueryReport]) -> DnsSide {
    let mut side = DnsSide {
        name: name.to_string(),
        ..DnsSide::default()
    };
    for q in reports.iter().filter(|q| q.name.eq_ignore_ascii_case(name)) {
        for rec in &q.records {
            match &rec.fields {
                Fields::Address { address } if rec.rtype == q.qtype && !side.addresses.contains(address) => {
                    side.addresses.push(*address);
                }
                Fields::Target { target } if rec.rtype == "CNAME" => {
                    if side.cname_chain.is_empty() {
                        side.cname_chain.push(rec.name.clone());
                    }
                    if !side.cname_chain.contains(target) {
                        side.cname_chain.push(target.clone());
                    }
                }
                _ => {}
            }
        }
        let what = match (q.status, q.negative_ttl) {
            (Status::Answer, _) => "answer".to_string(),
            (Status::Nxdomain | Status::Nodata, Some(ttl)) => {
                format!("{} (negative TTL {ttl})", status_word(q))
            }
            (Status::Nxdomain | Status::Nodata, None) => status_word(q),
            // Failures say which server and transport failed how.
            _ => format!("{} ({})", status_word(q), q.message.clone().unwrap_or_default()),
        };
        side.status.push(format!("{}: {what}", q.qtype));
    }
    side
}

fn status_word(q: &QueryReport) -> String {
    match q.status {
        Status::Nxdomain => "NXDOMAIN".into(),
        Status::Nodata => "NODATA".into(),
        Status::Refused => "REFUSED".into(),
        Status::Servfail => "SERVFAIL".into(),
        Status::ServerError => q.rcode.clone().unwrap_or_default(),
        Status::Timeout => "timeout".into(),
        Status::NoConnection => "no connection".into(),
        Status::BadResponse => "bad response".into(),
        Status::Answer => "answer".into(),
    }
}

/// The address families configured on this host, as glibc's AI_ADDRCONFIG check counts them.
fn host_families() -> Result<HostFamilies> {
    let addresses = crate::sys::ifaddrs::addresses()
        .map_err(|e| Error::io("listing this host's addresses (getifaddrs)", e))?;
    let other_than = |loopback: IpAddr| {
        addresses
            .iter()
            .any(|a| a.is_ipv4() == loopback.is_ipv4() && *a != loopback)
    };
    Ok(HostFamilies {
        ipv4: other_than(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ipv6: other_than(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    })
}
