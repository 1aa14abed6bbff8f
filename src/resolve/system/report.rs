//! The system mode's report: getaddrinfo and getnameinfo results as plain data for JSON, and their table view.

use std::time::Duration;

use serde::Serialize;

use crate::lookup::{AddrRow, Family, Forward, GaiFailure, Hints, Protocol, Reverse};
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms, ms_f64};

/// Everything the system resolver returned.
#[derive(Debug, Serialize)]
pub struct SystemReport {
    /// The hints getaddrinfo was given.
    pub hints: HintsReport,
    /// One entry per name, in the order given.
    pub results: Vec<NameReport>,
}

/// The hints as reported.
#[derive(Debug, Serialize)]
pub struct HintsReport {
    /// "any", "inet" or "inet6".
    pub family: Family,
    /// "any", "stream", "dgram" or "raw".
    pub socktype: &'static str,
    /// "any", "tcp" or "udp".
    pub protocol: &'static str,
    /// AI_* flags set.
    pub flags: Vec<&'static str>,
    /// The service asked for.
    pub service: Option<String>,
}

impl HintsReport {
    /// Describes the hints that were used.
    pub fn from_hints(hints: &Hints, service: Option<String>) -> Self {
        HintsReport {
            family: hints.family,
            socktype: hints.socktype.name(),
            protocol: match hints.protocol {
                Some(Protocol::Tcp) => "tcp",
                Some(Protocol::Udp) => "udp",
                None => "any",
            },
            flags: hints.flag_names(),
            service,
        }
    }
}

/// Which resolver call answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// getaddrinfo.
    Forward,
    /// getnameinfo.
    Reverse,
}

/// The result for one name or address.
#[derive(Debug, Serialize)]
pub struct NameReport {
    /// What was looked up (None: no name, with --passive).
    pub name: Option<String>,
    /// Forward (getaddrinfo) or reverse (getnameinfo).
    pub lookup: Direction,
    /// "ok" or "error".
    pub status: &'static str,
    /// How long the call took.
    pub elapsed_ms: f64,
    /// Canonical name, forward only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_name: Option<String>,
    /// Addresses, forward only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddrRow>,
    /// Host name, reverse only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port asked about, reverse only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Service name of that port, reverse only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Why the lookup failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<GaiFailure>,
    #[serde(skip)]
    elapsed: Duration,
}

impl NameReport {
    fn empty(name: Option<String>, lookup: Direction, elapsed: Duration) -> Self {
        NameReport {
            name,
            lookup,
            status: "ok",
            elapsed_ms: ms_f64(elapsed),
            canonical_name: None,
            addresses: Vec::new(),
            host: None,
            port: None,
            service_name: None,
            error: None,
            elapsed,
        }
    }

    /// A getaddrinfo result.
    pub fn forward(name: Option<String>, elapsed: Duration, result: Result<Forward, GaiFailure>) -> Self {
        let mut r = Self::empty(name, Direction::Forward, elapsed);
        match result {
            Ok(fwd) => {
                r.canonical_name = fwd.canonical_name;
                r.addresses = fwd.rows;
            }
            Err(e) => r.fail(e),
        }
        r
    }

    /// A getnameinfo result.
    pub fn reverse(
        addr: String,
        port: Option<u16>,
        elapsed: Duration,
        result: Result<Reverse, GaiFailure>,
    ) -> Self {
        let mut r = Self::empty(Some(addr), Direction::Reverse, elapsed);
        r.port = port;
        match result {
            Ok(rev) => {
                r.host = Some(rev.host);
                r.service_name = rev.service;
            }
            Err(e) => r.fail(e),
        }
        r
    }

    fn fail(&mut self, e: GaiFailure) {
        self.status = "error";
        self.error = Some(e);
    }

    fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| "(none)".into())
    }
}

fn failure_cell(e: &GaiFailure) -> Cell {
    Cell::toned(format!("{} ({})", e.message, e.code), Tone::Bad)
}

impl Report for SystemReport {
    fn view(&self) -> View {
        let mut sections: Vec<Section> = [self.forward_section(), self.reverse_section()]
            .into_iter()
            .flatten()
            .collect();
        let note = self.hints_note();
        match sections.last_mut() {
            Some(last) => last.notes.push(note),
            None => sections.push(Section {
                notes: vec![note],
                ..Section::default()
            }),
        }
        View { sections }
    }
}

impl SystemReport {
    /// getaddrinfo's rows: one per result, or one per failed name.
    fn forward_section(&self) -> Option<Section> {
        let with_port = self.hints.service.is_some();
        let mut columns = vec!["NAME", "FAMILY", "TYPE", "PROTO", "ADDRESS"];
        if with_port {
            columns.push("PORT");
        }
        columns.extend(["CANONICAL", "TIME"]);
        let mut section = Section::new(&columns);
        for r in self.results.iter().filter(|r| r.lookup == Direction::Forward) {
            match &r.error {
                Some(e) => section.rows.push(forward_failure_row(r, e, with_port)),
                None => section.rows.extend(forward_rows(r, with_port)),
            }
        }
        let any = self.results.iter().any(|r| r.lookup == Direction::Forward);
        any.then_some(section)
    }

    /// getnameinfo's rows: one per address.
    fn reverse_section(&self) -> Option<Section> {
        let reverse: Vec<_> = self
            .results
            .iter()
            .filter(|r| r.lookup == Direction::Reverse)
            .collect();
        if reverse.is_empty() {
            return None;
        }
        let mut section =
            Section::new(&["ADDRESS", "HOST", "SERVICE", "TIME"]).titled("Reverse lookups (getnameinfo)");
        for r in reverse {
            let host = match (&r.host, &r.error) {
                (Some(h), _) => Cell::toned(h.clone(), Tone::Good),
                (None, Some(e)) => failure_cell(e),
                (None, None) => "".into(),
            };
            let service = match (r.port, &r.service_name) {
                (Some(p), Some(name)) if *name != p.to_string() => format!("{p} ({name})"),
                (Some(p), _) => p.to_string(),
                (None, _) => String::new(),
            };
            section.rows.push(vec![
                r.label().into(),
                host,
                service.into(),
                fmt_ms(r.elapsed).into(),
            ]);
        }
        Some(section)
    }

    /// The closing line: the hints used and how many lookups failed.
    fn hints_note(&self) -> String {
        let h = &self.hints;
        let flags = if h.flags.is_empty() {
            "none".to_string()
        } else {
            h.flags.join("|")
        };
        let failed = self.results.iter().filter(|r| r.error.is_some()).count();
        format!(
            "hints: family={} socktype={} protocol={} flags={flags}{}; {} looked up, {} failed",
            h.family.name(),
            h.socktype,
            h.protocol,
            h.service
                .as_ref()
                .map(|s| format!(" service={s}"))
                .unwrap_or_default(),
            self.results.len(),
            failed,
        )
    }
}

/// The row of a name getaddrinfo failed for: the failure in the ADDRESS column.
fn forward_failure_row(r: &NameReport, e: &GaiFailure, with_port: bool) -> Vec<Cell> {
    let mut row: Vec<Cell> = vec![r.label().into(), "".into(), "".into(), "".into(), failure_cell(e)];
    if with_port {
        row.push("".into());
    }
    row.extend(["".into(), fmt_ms(r.elapsed).into()]);
    row
}

/// One row per getaddrinfo result; the canonical name and the time only on the first.
fn forward_rows(r: &NameReport, with_port: bool) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for (i, a) in r.addresses.iter().enumerate() {
        let address = match &a.scope {
            Some(scope) => format!("{}%{}", a.address, scope),
            None => a.address.to_string(),
        };
        let mut row: Vec<Cell> = vec![
            r.label().into(),
            a.family.into(),
            a.socktype.clone().into(),
            a.protocol.clone().into(),
            Cell::toned(address, Tone::Good),
        ];
        if with_port {
            row.push(a.port.to_string().into());
        }
        let first = i == 0;
        let canonical = if first {
            r.canonical_name.clone().unwrap_or_default()
        } else {
            String::new()
        };
        row.push(canonical.into());
        row.push(if first { fmt_ms(r.elapsed) } else { String::new() }.into());
        rows.push(row);
    }
    rows
}
