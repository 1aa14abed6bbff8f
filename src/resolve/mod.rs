//! `sockdiag resolve`: the names are read in chunks (`input`), each chunk's arguments become a [`Config`]
//! naming one of three modes, that mode's engine builds its report, and `stream` prints it before the next
//! chunk is read. `system/` asks getaddrinfo and getnameinfo as a program would, `dns/` asks DNS servers
//! directly (like dig), `compare/` sets the two side by side and explains the differences.

pub mod compare;
pub mod config;
pub mod delegation;
pub mod dns;
pub mod idn;
pub mod input;
pub mod interrupt;
pub mod names;
mod parallel;
pub mod servers;
mod stream;
pub mod system;

use schemars::JsonSchema;
use serde::Serialize;

use crate::cli::ResolveArgs;
use crate::error::{Error, Outcome, Result};
use crate::render::{Report, Section, View};

pub use config::Config;
pub use stream::run;

use idn::IdnName;
use names::Names;

/// Adds the pointer to the command's help to a usage error.
fn with_help(e: Error) -> Error {
    match e {
        Error::Usage(message) => Error::Usage(format!("{message} (see 'sockdiag resolve --help')")),
        other => other,
    }
}

/// Runs one chunk of names in the mode the arguments choose.
fn run_chunk(
    args: &ResolveArgs,
    names: Names,
    idn: Vec<IdnName>,
    carry: &mut dns::Carry,
) -> Result<(ResolveReport, Outcome)> {
    let (mode, outcome, not_done) = match Config::from_args(args, names)? {
        Config::System(config) => {
            let (report, outcome, not_done) = system::run(&config)?;
            (ModeReport::System(report), outcome, not_done)
        }
        Config::Dns(config) => {
            let run = dns::run(&config, carry)?;
            (ModeReport::Dns(run.report), run.outcome, run.not_done)
        }
        Config::Compare(config) => {
            let (report, outcome) = compare::run(&config)?;
            (ModeReport::Compare(report), outcome, Vec::new())
        }
        Config::Servers(config) => {
            let (report, outcome) = servers::run(&config)?;
            (ModeReport::Servers(report), outcome, Vec::new())
        }
        Config::Trace(config) => {
            let (report, outcome) = delegation::run(&config)?;
            (ModeReport::Trace(report), outcome, Vec::new())
        }
    };
    let report = ResolveReport {
        mode,
        international_names: idn,
        interrupted: interrupt::interrupted(),
        not_done,
    };
    Ok((report, outcome))
}

/// The report of a run: the mode's own keys, then what every mode shares.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResolveReport {
    /// The mode's report; its JSON names the mode in `mode`.
    #[serde(flatten)]
    pub mode: ModeReport,
    /// Names given with non-ASCII letters, and the ASCII (punycode) form that was asked.
    pub international_names: Vec<IdnName>,
    /// Ctrl-C ended the run: what is reported was done, `not_done` lists what was read but not done, and
    /// input after it was not read.
    pub interrupted: bool,
    /// What Ctrl-C left undone, in input order (`NAME TYPE` for DNS queries).
    pub not_done: Vec<String>,
}

/// The report of whichever mode ran: its JSON names the mode in `mode`, then carries that mode's keys.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ModeReport {
    /// getaddrinfo / getnameinfo results.
    System(system::report::SystemReport),
    /// Direct DNS answers.
    Dns(dns::report::DnsReport),
    /// Both views of each name, compared.
    Compare(compare::report::CompareReport),
    /// Every server's answers side by side (`--servers-compare`).
    Servers(servers::report::ServersReport),
    /// The delegations walked from the root (`--trace`).
    Trace(delegation::report::DelegationReport),
}

impl ModeReport {
    /// (items reported, items negative): queries, names looked up or names compared.
    fn tally(&self) -> (usize, usize) {
        let count = |n: usize, negative: usize| (n, negative);
        match self {
            ModeReport::Dns(r) => count(
                r.queries.len(),
                r.queries.iter().filter(|q| q.is_negative()).count(),
            ),
            ModeReport::System(r) => count(
                r.results.len(),
                r.results.iter().filter(|x| x.error.is_some()).count(),
            ),
            ModeReport::Compare(r) => {
                count(r.names.len(), r.names.iter().filter(|n| n.is_negative()).count())
            }
            ModeReport::Servers(r) => count(
                r.rows.len(),
                r.rows.iter().filter(|x| !x.differences.is_empty()).count(),
            ),
            ModeReport::Trace(r) => count(
                r.traces.len(),
                r.traces.iter().filter(|t| t.is_negative()).count(),
            ),
        }
    }

    /// What the items are called in the closing line: (one, many).
    fn nouns(&self) -> (&'static str, &'static str) {
        match self {
            ModeReport::Dns(_) => ("query", "queries"),
            ModeReport::System(_) => ("name looked up", "names looked up"),
            ModeReport::Compare(_) => ("name compared", "names compared"),
            ModeReport::Servers(_) => ("question", "questions"),
            ModeReport::Trace(_) => ("question walked", "questions walked"),
        }
    }

    /// Appends a later chunk's items (same mode: the arguments choose it); the settings stay the first's.
    fn merge(&mut self, later: ModeReport) {
        match (self, later) {
            (ModeReport::Dns(a), ModeReport::Dns(b)) => {
                a.queries.extend(b.queries);
                a.took += b.took;
            }
            (ModeReport::System(a), ModeReport::System(b)) => {
                a.results.extend(b.results);
                a.took += b.took;
            }
            (ModeReport::Compare(a), ModeReport::Compare(b)) => {
                a.names.extend(b.names);
                a.took += b.took;
            }
            (ModeReport::Servers(a), ModeReport::Servers(b)) => {
                a.rows.extend(b.rows);
                a.took += b.took;
            }
            (ModeReport::Trace(a), ModeReport::Trace(b)) => {
                a.traces.extend(b.traces);
                a.took += b.took;
            }
            _ => {}
        }
    }

    fn view(&self) -> View {
        match self {
            ModeReport::System(report) => report.view(),
            ModeReport::Dns(report) => report.view(),
            ModeReport::Compare(report) => report.view(),
            ModeReport::Servers(report) => report.view(),
            ModeReport::Trace(report) => report.view(),
        }
    }
}

impl ResolveReport {
    /// Lines for stderr after the report: each DNS server that could not be reached and how.
    pub fn warnings(&self) -> Vec<String> {
        match &self.mode {
            ModeReport::Dns(report) => report.unreachable(),
            ModeReport::System(_)
            | ModeReport::Compare(_)
            | ModeReport::Servers(_)
            | ModeReport::Trace(_) => Vec::new(),
        }
    }

    /// Appends a later chunk.
    fn merge(&mut self, later: ResolveReport) {
        self.mode.merge(later.mode);
        self.international_names.extend(later.international_names);
        self.interrupted |= later.interrupted;
        self.not_done.extend(later.not_done);
    }

    /// The notes every mode shares: international names, and what Ctrl-C left undone.
    fn shared_notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self.international_names.iter().map(IdnName::note).collect();
        if self.interrupted {
            notes.push(interrupted_note(&self.not_done));
        }
        notes
    }
}

/// "interrupted (Ctrl-C): 2 not done: a.test. A, b.test. A; input after them not read".
pub fn interrupted_note(not_done: &[String]) -> String {
    if not_done.is_empty() {
        "interrupted (Ctrl-C): everything read was done; input after it was not read".into()
    } else {
        format!(
            "interrupted (Ctrl-C): {} not done: {}; input after them was not read",
            not_done.len(),
            not_done.join(", ")
        )
    }
}

impl Report for ResolveReport {
    fn view(&self) -> View {
        let mut view = self.mode.view();
        let notes = self.shared_notes();
        match view.sections.last_mut() {
            Some(last) => last.notes.extend(notes),
            None => view.sections.push(Section {
                notes,
                ..Section::default()
            }),
        }
        view
    }

    fn records(&self) -> Section {
        match &self.mode {
            ModeReport::System(report) => report.records(),
            ModeReport::Dns(report) => report.records(),
            ModeReport::Compare(report) => report.records(),
            ModeReport::Servers(report) => report.records(),
            ModeReport::Trace(report) => report.records(),
        }
    }
}
