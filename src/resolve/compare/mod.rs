//! `sockdiag resolve --compare`: gather both views of each name (getaddrinfo; DNS for the name as given and for
//! each search-list candidate), the hosts lines and the host's families, then explain with [`explain`].

pub mod config;
pub mod explain;
pub mod hosts;
pub mod report;
pub mod search;
pub mod sides;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{Name, RecordType};

use super::dns::answer::QueryReport;
use super::dns::report::QuerySettings;
use super::dns::resolv_conf::SystemConf;
use super::dns::server::choose_servers;
use super::dns::{ask_all, query_reports};
use super::parallel::map_bounded;
use super::system::rows::HintsReport;
use crate::error::{Error, Outcome, Result};
use crate::lookup::{self, Family};

use config::CompareConfig;
use explain::{HostFamilies, Inputs};
use hosts::HOSTS;
use report::{CandidateReport, CompareReport, CompareSettings, NameComparison, SearchReport};
use search::{Candidate, SearchRule, glibc_order};
use sides::{DnsSide, SystemSide, dns_side};

/// What this host's configuration says about names: resolv.conf, the hosts file and, with AI_ADDRCONFIG, the
/// families it has an address of.
struct HostSetup {
    resolv_conf: SystemConf,
    hosts_text: String,
    families: Option<HostFamilies>,
}

/// Runs the comparison for every name.
pub fn run(config: &CompareConfig) -> Result<(CompareReport, Outcome)> {
    let started = std::time::Instant::now();
    let resolv_conf = SystemConf::read()?;
    let hosts_text = read_hosts()?;
    let (servers, source) = choose_servers(&config.dns.servers, Family::Any)?;
    let families = if config.hints.addrconfig {
        Some(host_families()?)
    } else {
        None
    };
    let setup = HostSetup {
        resolv_conf,
        hosts_text,
        families,
    };

    // The system side, with the user's hints, as a program would call it.
    let systems = map_bounded(&config.names, config.parallel, |name| {
        SystemSide::from_lookup(lookup::getaddrinfo(Some(name), None, &config.hints))
    });
    let orders: Vec<(Vec<Candidate>, SearchRule)> = config
        .names
        .iter()
        .map(|n| glibc_order(n, &setup.resolv_conf.search, setup.resolv_conf.ndots))
        .collect();
    let answers = ask_dns(config, servers.clone(), &orders)?;

    let names: Vec<NameComparison> = config
        .names
        .iter()
        .zip(systems)
        .zip(orders)
        .map(|((name, system), order)| compare_name(name, system, order, &answers, &setup))
        .collect();
    let report = CompareReport {
        settings: CompareSettings {
            hints: HintsReport::from_hints(&config.hints),
            query: QuerySettings::from_options(&config.dns),
            parallel: config.parallel,
        },
        hosts_file: HOSTS.to_string(),
        dns_servers: servers,
        dns_server_source: source,
        host_families: setup.families,
        names,
        took: started.elapsed(),
    };
    let outcome = Outcome::negative_if(report.names.iter().any(NameComparison::is_negative));
    Ok((report, outcome))
}

fn read_hosts() -> Result<String> {
    match std::fs::read_to_string(HOSTS) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::io(format!("reading {HOSTS}"), e)),
    }
}

/// The DNS side: A/AAAA (as the family asks) for every name as given and every candidate glibc's search would
/// ask, each distinct name once, all in one batch.
fn ask_dns(
    config: &CompareConfig,
    servers: Vec<std::net::SocketAddr>,
    orders: &[(Vec<Candidate>, SearchRule)],
) -> Result<Vec<QueryReport>> {
    let types: Vec<RecordType> = match config.hints.family {
        Family::Inet => vec![RecordType::A],
        Family::Inet6 => vec![RecordType::AAAA],
        Family::Any => vec![RecordType::A, RecordType::AAAA],
    };
    let mut asked: Vec<String> = Vec::new();
    for (name, (candidates, _)) in config.names.iter().zip(orders) {
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
    let exchanges = ask_all(&config.dns.policy(servers), &questions, config.parallel)?;
    Ok(query_reports(&questions, exchanges, &config.dns))
}

/// Compares one name: its DNS side and each candidate's, its hosts lines, and the explanation.
fn compare_name(
    name: &str,
    system: SystemSide,
    (candidates, rule): (Vec<Candidate>, SearchRule),
    answers: &[QueryReport],
    setup: &HostSetup,
) -> NameComparison {
    let dns = dns_side(&absolute(name), answers);
    let candidates: Vec<(Candidate, DnsSide)> = candidates
        .into_iter()
        .map(|c| {
            let side = dns_side(&c.name, answers);
            (c, side)
        })
        .collect();
    let hits = hosts::lookup(&setup.hosts_text, name);
    let comparison = explain::explain(&Inputs {
        name,
        system: &system,
        dns: &dns,
        candidates: &candidates,
        rule: &rule,
        hosts: &hits,
        hosts_path: HOSTS,
        resolv_path: &setup.resolv_conf.path,
        addrconfig: setup.families,
    });
    NameComparison {
        name: name.to_string(),
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
    }
}

fn absolute(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// The address families configured on this host, as glibc's AI_ADDRCONFIG check counts them: any IPv4
/// address but 127.0.0.1, any IPv6 address but ::1.
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
