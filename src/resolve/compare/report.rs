//! The `--compare` report: getaddrinfo's addresses beside DNS's for each name, each difference explained.

use std::net::SocketAddr;

use serde::Serialize;

use super::explain::{Comparison, HostFamilies, Reason};
use super::hosts::HostsHit;
use super::search::{Candidate, SearchRule};
use super::sides::{DnsSide, SystemSide};
use crate::render::{Cell, Report, Section, Tone, View};
use crate::resolve::dns::report::ServerSource;
use crate::resolve::system::report::HintsReport;

/// Everything `sockdiag resolve --compare` found.
#[derive(Debug, Serialize)]
pub struct CompareReport {
    /// The hints getaddrinfo was given.
    pub hints: HintsReport,
    /// The hosts file consulted for explanations.
    pub hosts_file: String,
    /// The DNS servers asked for the DNS side, and where they came from (resolv.conf details included).
    pub dns_servers: Vec<SocketAddr>,
    /// Where those servers came from.
    pub dns_server_source: ServerSource,
    /// With --addrconfig: the families this host has configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_families: Option<HostFamilies>,
    /// One entry per name, in input order.
    pub names: Vec<NameComparison>,
}

/// One name compared.
#[derive(Debug, Serialize)]
pub struct NameComparison {
    /// The name as given.
    pub name: String,
    /// getaddrinfo's view.
    pub system: SystemSide,
    /// DNS's A/AAAA answers for the name as given (absolute).
    pub dns: DnsSide,
    /// The names the system's search would ask, in order, with DNS's answers.
    pub search: SearchReport,
    /// Hosts-file lines naming the host.
    pub hosts: Vec<HostsHit>,
    /// Agreement, rows and notes.
    #[serde(flatten)]
    pub comparison: Comparison,
}

impl NameComparison {
    /// Either side has no address: the program or the DNS lookup would fail.
    pub fn is_negative(&self) -> bool {
        self.system.addresses.is_empty() || self.dns.addresses.is_empty()
    }
}

/// The search list as applied to one name.
#[derive(Debug, Serialize)]
pub struct SearchReport {
    /// The ndots rule that ordered the candidates.
    pub rule: SearchRule,
    /// Each candidate with DNS's answer.
    pub candidates: Vec<CandidateReport>,
}

/// One candidate name and DNS's answer for it.
#[derive(Debug, Serialize)]
pub struct CandidateReport {
    /// The candidate.
    #[serde(flatten)]
    pub candidate: Candidate,
    /// DNS's answer.
    pub dns: DnsSide,
}

fn tone(reason: Reason) -> Tone {
    match reason {
        Reason::Agree => Tone::Good,
        Reason::Unexplained => Tone::Bad,
        _ => Tone::Warn,
    }
}

fn yes(on: bool) -> Cell {
    if on {
        Cell::toned("yes", Tone::Good)
    } else {
        Cell::toned("-", Tone::Dim)
    }
}

impl Report for CompareReport {
    fn view(&self) -> View {
        let mut s = Section::new(&["NAME", "ADDRESS", "SYSTEM", "DNS", "WHY"]);
        for n in &self.names {
            let c = &n.comparison;
            if c.rows.is_empty() {
                s.rows.push(vec![
                    n.name.clone().into(),
                    "".into(),
                    yes(false),
                    yes(false),
                    Cell::toned(c.notes.first().cloned().unwrap_or_default(), Tone::Warn),
                ]);
            }
            for (i, r) in c.rows.iter().enumerate() {
                s.rows.push(vec![
                    if i == 0 { n.name.clone() } else { String::new() }.into(),
                    r.address.to_string().into(),
                    yes(r.system),
                    yes(r.dns),
                    Cell::toned(r.why.clone(), tone(r.reason)),
                ]);
            }
        }
        for n in &self.names {
            let c = &n.comparison;
            let verdict = if c.agree { "agree" } else { "differ" };
            s.notes.push(format!(
                "{}: {verdict}; system answer from {}; DNS for {}: {}",
                n.name,
                c.system_source,
                n.dns.name,
                n.dns.status.join(", ")
            ));
            let skip = usize::from(c.rows.is_empty());
            for note in c.notes.iter().skip(skip).filter(|t| !t.starts_with("agree:")) {
                s.notes.push(format!("{}: {note}", n.name));
            }
        }
        let servers: Vec<String> = self.dns_servers.iter().map(|a| a.to_string()).collect();
        s.notes.push(match &self.dns_server_source {
            ServerSource::System { resolv_conf: c, .. } => format!(
                "DNS side: A/AAAA asked at {} (the system's servers, {}; search {}; ndots {}), no search list applied",
                servers.join(", "),
                c.path,
                if c.search.is_empty() { "none".to_string() } else { c.search.join(" ") },
                c.ndots
            ),
            ServerSource::Chosen { .. } => format!(
                "DNS side: A/AAAA asked at {} (chosen; the system asks the servers in resolv.conf, which may differ)",
                servers.join(", ")
            ),
        });
        let h = &self.hints;
        s.notes.push(format!(
            "system side: getaddrinfo family={} flags={}; hosts file {}{}",
            h.family.name(),
            if h.flags.is_empty() {
                "none".to_string()
            } else {
                h.flags.join("|")
            },
            self.hosts_file,
            match self.host_families {
                Some(f) => format!(
                    "; AI_ADDRCONFIG sees IPv4 {}, IPv6 {}",
                    if f.ipv4 { "configured" } else { "absent" },
                    if f.ipv6 { "configured" } else { "absent" }
                ),
                None => String::new(),
            }
        ));
        View { sections: vec![s] }
    }
}
