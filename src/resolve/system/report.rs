//! The system mode's report: getaddrinfo and getnameinfo results as plain data for JSON, and their table view.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::rows::{AddressRow, HintsReport, LookupError};
use crate::lookup::{Forward, GaiFailure, Reverse};
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms, ms_f64};

/// Everything the system resolver returned.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SystemReport {
    /// The settings the lookups ran with.
    pub settings: SystemSettings,
    /// One entry per name, in the order given.
    pub results: Vec<NameReport>,
    /// How long all the lookups took (the envelope's `elapsed_ms` carries it in JSON).
    #[serde(skip)]
    pub took: Duration,
}

/// getaddrinfo's hints, the service and how many lookups ran at once.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SystemSettings {
    /// The hints getaddrinfo was given.
    #[serde(flatten)]
    pub hints: HintsReport,
    /// `--service` as given; null without one.
    pub service: Option<String>,
    /// Lookups at once (`--parallel`).
    pub parallel: usize,
}

/// Which resolver call answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// getaddrinfo.
    Forward,
    /// getnameinfo.
    Reverse,
}

/// Whether a lookup gave an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookupStatus {
    /// The call succeeded.
    Ok,
    /// The call failed: see `error`.
    Error,
}

/// The result for one name or address: keys of the other direction, or of a failed call, are null.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NameReport {
    /// What was looked up; null with --ai-passive and no NAME.
    pub name: Option<String>,
    /// Forward (getaddrinfo) or reverse (getnameinfo).
    pub lookup: Direction,
    /// Whether the call succeeded.
    pub status: LookupStatus,
    /// How long the call took.
    pub elapsed_ms: f64,
    /// The canonical name (forward, with AI_CANONNAME).
    pub canonical_name: Option<String>,
    /// Every addrinfo result, in getaddrinfo's order (empty for a reverse lookup or a failure).
    pub addresses: Vec<AddressRow>,
    /// The host name (reverse).
    pub host: Option<String>,
    /// The port asked about (reverse, with --service).
    pub port: Option<u16>,
    /// The service name of that port (reverse, with --service).
    pub service_name: Option<String>,
    /// Why the call failed.
    pub error: Option<LookupError>,
    #[serde(skip)]
    pub(super) failure: Option<GaiFailure>,
    #[serde(skip)]
    elapsed: Duration,
}

impl NameReport {
    fn empty(name: Option<String>, lookup: Direction, elapsed: Duration) -> Self {
        NameReport {
            name,
            lookup,
            status: LookupStatus::Ok,
            elapsed_ms: ms_f64(elapsed),
            canonical_name: None,
            addresses: Vec::new(),
            host: None,
            port: None,
            service_name: None,
            error: None,
            failure: None,
            elapsed,
        }
    }

    /// A getaddrinfo result; `with_service` says whether the rows' ports were asked for.
    pub fn forward(
        name: Option<String>,
        with_service: bool,
        elapsed: Duration,
        result: Result<Forward, GaiFailure>,
    ) -> Self {
        let mut r = Self::empty(name, Direction::Forward, elapsed);
        match result {
            Ok(fwd) => {
                r.canonical_name = fwd.canonical_name;
                r.addresses = fwd
                    .rows
                    .iter()
                    .map(|row| AddressRow::from_lookup(row, with_service))
                    .collect();
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
        self.status = LookupStatus::Error;
        self.error = Some(LookupError::from(&e));
        self.failure = Some(e);
    }

    fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| "(none)".into())
    }

    /// The failure as a cell: meaning, then the EAI_* name.
    fn failure_cell(&self) -> Option<Cell> {
        let e = self.error.as_ref()?;
        Some(Cell::toned(format!("{} ({})", e.message, e.code), Tone::Bad))
    }
}

impl Report for SystemReport {
    fn view(&self) -> View {
        let mut sections: Vec<Section> = [self.forward_section(), self.reverse_section()]
            .into_iter()
            .flatten()
            .collect();
        let notes = [self.settings_note(), self.summary()];
        match sections.last_mut() {
            Some(last) => last.notes.extend(notes),
            None => sections.push(Section {
                notes: notes.to_vec(),
                ..Section::default()
            }),
        }
        View { sections }
    }

    fn records(&self) -> Section {
        super::csv::records(self)
    }
}

impl SystemReport {
    /// getaddrinfo's rows: one per result, or one per failed name.
    fn forward_section(&self) -> Option<Section> {
        let with_port = self.settings.service.is_some();
        let mut columns = vec!["NAME", "FAMILY", "TYPE", "PROTO", "ADDRESS"];
        if with_port {
            columns.push("PORT");
        }
        columns.extend(["CANONICAL", "TIME"]);
        // The name, the address and its port are the answer; the rest can be read in -v or JSON.
        let mut section = Section::new(&columns).droppable(&["CANONICAL", "TIME", "PROTO", "FAMILY", "TYPE"]);
        for r in self.results.iter().filter(|r| r.lookup == Direction::Forward) {
            match r.failure_cell() {
                Some(cell) => section.rows.push(forward_failure_row(r, cell, with_port)),
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
        let mut section = Section::new(&["ADDRESS", "HOST", "SERVICE", "TIME"])
            .titled("Reverse lookups (getnameinfo)")
            .droppable(&["TIME", "SERVICE"]);
        for r in reverse {
            let host = match (&r.host, r.failure_cell()) {
                (Some(h), _) => Cell::toned(h.clone(), Tone::Good),
                (None, Some(cell)) => cell,
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

    /// The hints used.
    fn settings_note(&self) -> String {
        let service = self
            .settings
            .service
            .as_ref()
            .map(|s| format!(" service={s}"))
            .unwrap_or_default();
        format!("hints: {}{service}", self.settings.hints.text())
    }

    /// The closing line: how many lookups, how long they took, how many failed.
    fn summary(&self) -> String {
        let failed = self.results.iter().filter(|r| r.error.is_some()).count();
        let n = self.results.len();
        format!(
            "{n} {} looked up in {}: {} answered, {failed} failed",
            if n == 1 { "name" } else { "names" },
            fmt_ms(self.took),
            n - failed,
        )
    }
}

/// The row of a name getaddrinfo failed for: the failure in the ADDRESS column.
fn forward_failure_row(r: &NameReport, failure: Cell, with_port: bool) -> Vec<Cell> {
    let mut row: Vec<Cell> = vec![r.label().into(), "".into(), "".into(), "".into(), failure];
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
        let mut row: Vec<Cell> = vec![
            r.label().into(),
            a.family.name().into(),
            a.socket_type_text().into(),
            a.protocol_text().into(),
            Cell::toned(a.address_text(), Tone::Good),
        ];
        if with_port {
            row.push(a.port.map(|p| p.to_string()).unwrap_or_default().into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::{AddrRow, FailureClass};
    use crate::render::fit_check::assert_fits;
    use crate::resolve::system::rows::{FamilyName, ProtocolName, SocketTypeName};

    fn row(address: &str, socktype: &str, protocol: &str) -> AddrRow {
        AddrRow {
            family: "inet",
            socktype: socktype.into(),
            protocol: protocol.into(),
            address: address.parse().unwrap(),
            port: 443,
            scope_id: None,
            scope: None,
        }
    }

    fn report(service: Option<&str>) -> SystemReport {
        let ms = Duration::from_micros;
        let forward = Forward {
            canonical_name: Some("web-frontend.prod.example.org".into()),
            rows: vec![
                row("2001:db8:4006:80b::200e", "stream", "tcp"),
                row("2001:db8:4006:80b::200e", "dgram", "udp"),
                row("198.51.100.200", "raw", "0"),
            ],
        };
        let missing = GaiFailure {
            code: "EAI_NONAME",
            message: "no such name (or it has no address)".into(),
            class: FailureClass::Negative,
        };
        let reverse = Reverse {
            host: "host.lab.example.org".into(),
            service: service.map(String::from),
        };
        SystemReport {
            settings: SystemSettings {
                hints: HintsReport {
                    family: FamilyName::Any,
                    socket_type: SocketTypeName::Any,
                    protocol: ProtocolName::Any,
                    flags: vec!["AI_CANONNAME"],
                },
                service: service.map(String::from),
                parallel: 16,
            },
            results: vec![
                NameReport::forward(
                    Some("www.example.org".into()),
                    service.is_some(),
                    ms(1523),
                    Ok(forward),
                ),
                NameReport::forward(
                    Some("missing.example.org".into()),
                    false,
                    ms(15_200),
                    Err(missing),
                ),
                NameReport::reverse("2001:db8::1".into(), service.map(|_| 443), ms(412), Ok(reverse)),
            ],
            took: ms(15_900),
        }
    }

    #[test]
    fn tables_fit_60_80_and_200_columns_without_splitting_a_word() {
        for service in [None, Some("https")] {
            let view = report(service).view();
            for width in [60, 80, 200] {
                assert_fits(&view, width);
            }
            let narrow = assert_fits(&view, 60);
            assert!(narrow.contains("left out to fit 60 columns"), "{narrow}");
            let wide = assert_fits(&view, 200);
            assert!(
                wide.contains("web-frontend.prod.example.org") && !wide.contains("left out"),
                "{wide}"
            );
        }
    }

    #[test]
    fn the_closing_line_says_what_was_done_how_long_and_how_it_ended() {
        let view = report(None).view();
        let notes = &view.sections.last().unwrap().notes;
        assert_eq!(
            notes.last().unwrap(),
            "3 names looked up in 15.9 ms: 2 answered, 1 failed"
        );
        assert_eq!(
            notes[0],
            "hints: family=any socket_type=any protocol=any flags=AI_CANONNAME"
        );
    }

    #[test]
    fn json_leaves_nothing_out() {
        let json = serde_json::to_value(report(None)).unwrap();
        let reverse = &json["results"][2];
        assert_eq!(reverse["lookup"], "reverse");
        assert!(
            reverse["canonical_name"].is_null() && reverse["error"].is_null(),
            "{reverse}"
        );
        assert_eq!(reverse["addresses"], serde_json::json!([]));
        let failed = &json["results"][1];
        assert_eq!(failed["status"], "error");
        assert_eq!(failed["error"]["code"], "EAI_NONAME");
        assert_eq!(json["results"][0]["addresses"][2]["protocol"], "any");
        assert!(json.get("took").is_none(), "the envelope carries the run's time");
    }
}
