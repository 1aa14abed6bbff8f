//! The `--compare` report: getaddrinfo's addresses beside DNS's for each name, each difference explained.

use std::net::SocketAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::explain::{Comparison, HostFamilies, Reason};
use super::hosts::HostsHit;
use super::search::{Candidate, SearchRule};
use super::sides::{DnsSide, SystemSide};
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms};
use crate::resolve::dns::report::{QuerySettings, ServerSource};
use crate::resolve::system::rows::HintsReport;

/// Everything `sockdiag resolve --compare` found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CompareReport {
    /// The settings of both sides.
    pub settings: CompareSettings,
    /// The hosts file consulted for explanations.
    pub hosts_file: String,
    /// The DNS servers asked for the DNS side.
    pub dns_servers: Vec<SocketAddr>,
    /// Where those servers came from (resolv.conf details included).
    pub dns_server_source: ServerSource,
    /// With --ai-addrconfig: the families this host has configured; null without it.
    pub host_families: Option<HostFamilies>,
    /// One entry per name, in input order.
    pub names: Vec<NameComparison>,
    /// How long the comparison took (the envelope's `elapsed_ms` carries it in JSON).
    #[serde(skip)]
    pub took: Duration,
}

/// getaddrinfo's hints for the system side, how DNS is asked for the other, and how many at once.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CompareSettings {
    /// The hints getaddrinfo was given.
    #[serde(flatten)]
    pub hints: HintsReport,
    /// Transport, wait and rounds of the DNS side.
    #[serde(flatten)]
    pub query: QuerySettings,
    /// Lookups at once (`--parallel`).
    pub parallel: usize,
}

/// One name compared.
#[derive(Debug, Serialize, JsonSchema)]
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
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchReport {
    /// The ndots rule that ordered the candidates.
    pub rule: SearchRule,
    /// Each candidate with DNS's answer.
    pub candidates: Vec<CandidateReport>,
}

/// One candidate name and DNS's answer for it.
#[derive(Debug, Serialize, JsonSchema)]
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
        // The verdict per address is the point; on a narrow terminal WHY still says which side has it.
        let mut s =
            Section::new(&["NAME", "ADDRESS", "SYSTEM", "DNS", "WHY"]).droppable(&["SYSTEM", "DNS", "NAME"]);
        for n in &self.names {
            s.rows.extend(rows(n));
        }
        for n in &self.names {
            s.notes.extend(name_notes(n));
        }
        s.notes.push(self.dns_side_note());
        s.notes.push(self.system_side_note());
        s.notes.push(self.summary());
        View { sections: vec![s] }
    }

    fn records(&self) -> Section {
        let mut s = Section::new(&["name", "address", "system", "dns", "reason", "why"]);
        for n in &self.names {
            let c = &n.comparison;
            if c.rows.is_empty() {
                let note = c.notes.first().cloned().unwrap_or_default();
                s.rows.push(vec![
                    n.name.clone().into(),
                    "".into(),
                    "false".into(),
                    "false".into(),
                    "".into(),
                    note.into(),
                ]);
            }
            for r in &c.rows {
                let reason = serde_json::to_value(r.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from));
                s.rows.push(vec![
                    n.name.clone().into(),
                    r.address.to_string().into(),
                    r.system.to_string().into(),
                    r.dns.to_string().into(),
                    reason.unwrap_or_default().into(),
                    r.why.clone().into(),
                ]);
            }
        }
        s
    }
}

/// One row per address of a name (the name on the first), or one row saying why neither side has any.
fn rows(n: &NameComparison) -> Vec<Vec<Cell>> {
    let c = &n.comparison;
    if c.rows.is_empty() {
        let note = c.notes.first().cloned().unwrap_or_default();
        return vec![vec![
            n.name.clone().into(),
            "".into(),
            yes(false),
            yes(false),
            Cell::toned(note, Tone::Warn),
        ]];
    }
    c.rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                if i == 0 { n.name.clone() } else { String::new() }.into(),
                r.address.to_string().into(),
                yes(r.system),
                yes(r.dns),
                Cell::toned(r.why.clone(), tone(r.reason)),
            ]
        })
        .collect()
}

/// A name's verdict, where each side's answer came from, and the notes not tied to one address.
fn name_notes(n: &NameComparison) -> Vec<String> {
    let c = &n.comparison;
    let verdict = if c.agree { "agree" } else { "differ" };
    let mut notes = vec![format!(
        "{}: {verdict}; system answer from {}; DNS for {}: {}",
        n.name,
        c.system_source,
        n.dns.name,
        n.dns.status_text()
    )];
    // A name without rows showed its first note in the table already.
    let skip = usize::from(c.rows.is_empty());
    for note in c.notes.iter().skip(skip).filter(|t| !t.starts_with("agree:")) {
        notes.push(format!("{}: {note}", n.name));
    }
    notes
}

impl CompareReport {
    /// Which servers the DNS side asked, and how that relates to the system's.
    fn dns_side_note(&self) -> String {
        let servers: Vec<String> = self.dns_servers.iter().map(|a| a.to_string()).collect();
        match &self.dns_server_source {
            ServerSource::System { resolv_conf: c, .. } => format!(
                "DNS side: A/AAAA asked at {} (the system's servers, {}; search {}; ndots {}), no search list applied",
                servers.join(", "),
                c.path,
                if c.search.is_empty() {
                    "none".to_string()
                } else {
                    c.search.join(" ")
                },
                c.ndots
            ),
            ServerSource::Chosen { .. } => format!(
                "DNS side: A/AAAA asked at {} (chosen; the system asks the servers in resolv.conf, which may differ)",
                servers.join(", ")
            ),
        }
    }

    /// The hints, the hosts file and what AI_ADDRCONFIG saw.
    fn system_side_note(&self) -> String {
        let families = match self.host_families {
            Some(f) => format!(
                "; AI_ADDRCONFIG sees IPv4 {}, IPv6 {}",
                if f.ipv4 { "configured" } else { "absent" },
                if f.ipv6 { "configured" } else { "absent" }
            ),
            None => String::new(),
        };
        format!(
            "system side: getaddrinfo {}; hosts file {}{families}",
            self.settings.hints.text(),
            self.hosts_file
        )
    }

    /// The closing line: how many names, how long, how many agree.
    fn summary(&self) -> String {
        let n = self.names.len();
        let agree = self.names.iter().filter(|n| n.comparison.agree).count();
        format!(
            "{n} {} compared in {}: {agree} agree, {} differ",
            if n == 1 { "name" } else { "names" },
            fmt_ms(self.took),
            n - agree
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::explain::Row;
    use super::super::sides::SideQuery;
    use super::*;
    use crate::render::fit_check::assert_fits;
    use crate::resolve::dns::answer::Status;
    use crate::resolve::dns::exchange::Transport;
    use crate::resolve::dns::resolv_conf::SystemConf;
    use crate::resolve::system::rows::{FamilyName, ProtocolName, SocketTypeName};

    fn row(address: &str, system: bool, dns: bool, reason: Reason, why: &str) -> Row {
        Row {
            address: address.parse().unwrap(),
            system,
            dns,
            reason,
            why: why.into(),
        }
    }

    fn name(name: &str, agree: bool, rows: Vec<Row>) -> NameComparison {
        let dns = DnsSide {
            name: format!("{name}."),
            addresses: rows.iter().filter(|r| r.dns).map(|r| r.address).collect(),
            cname_chain: vec![],
            queries: vec![SideQuery {
                qtype: "A".into(),
                status: Status::Answer,
                negative_ttl: None,
                message: None,
            }],
        };
        NameComparison {
            name: name.into(),
            system: SystemSide {
                addresses: rows.iter().filter(|r| r.system).map(|r| r.address).collect(),
                canonical_name: None,
                error: None,
            },
            dns,
            search: SearchReport {
                rule: SearchRule {
                    dots: 2,
                    ndots: 1,
                    absolute: false,
                    text: "asked as given first".into(),
                },
                candidates: vec![],
            },
            hosts: vec![],
            comparison: Comparison {
                agree,
                system_source: "DNS, as given".into(),
                rows,
                notes: vec![],
            },
        }
    }

    fn report() -> CompareReport {
        let names = vec![
            name(
                "www.example.org",
                true,
                vec![
                    row("2001:db8:4006:80b::200e", true, true, Reason::Agree, "both"),
                    row("198.51.100.200", true, true, Reason::Agree, "both"),
                ],
            ),
            name(
                "pinned.example.org",
                false,
                vec![
                    row(
                        "198.51.100.77",
                        true,
                        false,
                        Reason::Hosts,
                        "/etc/hosts line 3 (198.51.100.77 pinned.example.org): files come before dns in nsswitch.conf",
                    ),
                    row(
                        "198.51.100.78",
                        false,
                        true,
                        Reason::HostsFirst,
                        "not used: /etc/hosts line 3 answered for the name first, so the system never asked DNS",
                    ),
                ],
            ),
        ];
        CompareReport {
            settings: CompareSettings {
                hints: HintsReport {
                    family: FamilyName::Any,
                    socket_type: SocketTypeName::Any,
                    protocol: ProtocolName::Any,
                    flags: vec!["AI_CANONNAME"],
                },
                query: QuerySettings {
                    transport: Transport::Udp,
                    timeout_ms: 2000.0,
                    attempts: 2,
                    dnssec: false,
                    validate: false,
                    trust_anchor: None,
                },
                parallel: 16,
            },
            hosts_file: "/etc/hosts".into(),
            dns_servers: vec!["198.51.100.53:53".parse().unwrap()],
            dns_server_source: ServerSource::System {
                resolv_conf: SystemConf::parse("/etc/resolv.conf", b"nameserver 198.51.100.53\n").unwrap(),
                ignored: vec![],
            },
            host_families: None,
            names,
            took: Duration::from_micros(8_420),
        }
    }

    #[test]
    fn tables_fit_60_80_and_200_columns_without_splitting_a_word() {
        let view = report().view();
        for width in [60, 80, 200] {
            assert_fits(&view, width);
        }
        let wide = assert_fits(&view, 200);
        assert!(!wide.contains("left out"), "{wide}");
    }

    #[test]
    fn the_closing_line_says_what_was_done_how_long_and_how_it_ended() {
        let view = report().view();
        assert_eq!(
            view.sections[0].notes.last().unwrap(),
            "2 names compared in 8.42 ms: 1 agree, 1 differ"
        );
    }

    #[test]
    fn csv_records_are_one_per_address_with_the_reason_as_json_spells_it() {
        let records = report().records();
        assert_eq!(
            records.columns,
            ["name", "address", "system", "dns", "reason", "why"]
        );
        let cells: Vec<Vec<&str>> = records
            .rows
            .iter()
            .map(|r| r.iter().map(|c| c.text.as_str()).collect())
            .collect();
        assert_eq!(cells.len(), 4);
        assert_eq!(
            cells[3][..5],
            [
                "pinned.example.org",
                "198.51.100.78",
                "false",
                "true",
                "hosts_first"
            ]
        );
    }
}
