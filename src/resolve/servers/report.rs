//! The side-by-side report of `--servers-compare`: one row per question, one column per server, and the
//! differences named in the last column.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::diff;
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms};
use crate::resolve::dns::answer::{QueryReport, Status};
use crate::resolve::system::rows::FamilyName;

/// Every question asked of every server.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServersReport {
    /// The servers, in the order of the columns.
    pub servers: Vec<SocketAddr>,
    /// `-4`/`-6`: the family of the servers asked.
    pub family: FamilyName,
    /// How long each try waited (`-w`); every server was asked at once.
    pub timeout_ms: f64,
    /// One entry per question, in input order.
    pub rows: Vec<ServersRow>,
    /// How long the whole run took.
    #[serde(skip)]
    pub took: Duration,
}

/// One question and what each server said.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServersRow {
    /// The name asked, absolute.
    pub name: String,
    /// The type asked.
    #[serde(rename = "type")]
    pub qtype: String,
    /// Each server's result, in the order of `servers`.
    pub answers: Vec<QueryReport>,
    /// Every difference in words; empty when the servers agree.
    pub differences: Vec<String>,
}

impl ServersRow {
    /// Sets the answers side by side and names the differences.
    pub fn new(servers: &[SocketAddr], answers: Vec<QueryReport>) -> Self {
        ServersRow {
            name: answers.first().map(|q| q.name.clone()).unwrap_or_default(),
            qtype: answers.first().map(|q| q.qtype.clone()).unwrap_or_default(),
            differences: diff::differences(servers, &answers),
            answers,
        }
    }
}

/// A column header that lives as long as the process: each distinct text is allocated once.
fn intern(text: String) -> &'static str {
    static SEEN: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = seen.iter().find(|k| **k == text) {
        return known;
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    seen.push(leaked);
    leaked
}

/// One server's cell: the data (or the status) and the query time.
fn cell(q: &QueryReport) -> Cell {
    let time = q
        .query_time_ms
        .map(|ms| fmt_ms(Duration::from_secs_f64(ms / 1000.0)));
    let (text, tone) = match q.status {
        Status::Answer => {
            let ttl = q.records.iter().find(|r| r.rtype == q.qtype).map(|r| r.ttl);
            let data = diff::data(q).join(", ");
            (
                ttl.map_or(data.clone(), |t| format!("{data} (TTL {t})")),
                Tone::Good,
            )
        }
        Status::Nxdomain | Status::Nodata => (q.status.label().to_string(), Tone::Warn),
        other => (other.label().to_string(), Tone::Bad),
    };
    let text = match time {
        Some(t) => format!("{text}; {t}"),
        None => text,
    };
    Cell::toned(text, tone)
}

impl Report for ServersReport {
    fn view(&self) -> View {
        // One column per server: the header is the server's address, made once for the life of the run.
        let mut columns: Vec<&'static str> = vec!["NAME", "TYPE"];
        for s in &self.servers {
            columns.push(intern(s.to_string()));
        }
        columns.push("DIFFERENCES");
        let mut section = Section::new(&columns).droppable(&["TYPE"]);
        for row in &self.rows {
            let mut cells: Vec<Cell> = vec![row.name.clone().into(), row.qtype.clone().into()];
            cells.extend(row.answers.iter().map(cell));
            cells.push(if row.differences.is_empty() {
                Cell::toned("agree", Tone::Good)
            } else {
                Cell::toned(row.differences.join("; "), Tone::Warn)
            });
            section.rows.push(cells);
        }
        let differ = self.rows.iter().filter(|r| !r.differences.is_empty()).count();
        section.notes.push(format!(
            "every server asked at once, {} per try",
            fmt_ms(Duration::from_secs_f64(self.timeout_ms / 1000.0))
        ));
        section.notes.push(format!(
            "{} {} asked of {} servers in {}: {} agree, {differ} differ",
            self.rows.len(),
            if self.rows.len() == 1 {
                "question"
            } else {
                "questions"
            },
            self.servers.len(),
            fmt_ms(self.took),
            self.rows.len() - differ
        ));
        View {
            sections: vec![section],
        }
    }
}
