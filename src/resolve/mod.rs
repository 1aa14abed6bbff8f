//! `sockdiag resolve`: the arguments become a [`Config`] naming one of three modes, and that mode's engine
//! builds its report. `system/` asks getaddrinfo and getnameinfo as a program would, `dns/` asks DNS servers
//! directly (like dig), `compare/` sets the two side by side and explains the differences.

pub mod compare;
pub mod config;
pub mod dns;
pub mod names;
mod parallel;
pub mod system;

use schemars::JsonSchema;
use serde::Serialize;

use crate::cli::ResolveArgs;
use crate::error::{Error, Outcome, Result};
use crate::render::{Report, Section, View};

pub use config::Config;

/// Runs `sockdiag resolve` in the mode the arguments choose and returns its report with its outcome; a usage
/// error points to the command's help.
pub fn run(args: &ResolveArgs) -> Result<(ResolveReport, Outcome)> {
    run_mode(args).map_err(|e| match e {
        Error::Usage(message) => Error::Usage(format!("{message} (see 'sockdiag resolve --help')")),
        other => other,
    })
}

fn run_mode(args: &ResolveArgs) -> Result<(ResolveReport, Outcome)> {
    Ok(match Config::from_args(args)? {
        Config::System(config) => {
            let (report, outcome) = system::run(&config)?;
            (ResolveReport::System(report), outcome)
        }
        Config::Dns(config) => {
            let (report, outcome) = dns::run(&config)?;
            (ResolveReport::Dns(report), outcome)
        }
        Config::Compare(config) => {
            let (report, outcome) = compare::run(&config)?;
            (ResolveReport::Compare(report), outcome)
        }
    })
}

/// The report of whichever mode ran: its JSON names the mode in `mode`, then carries that mode's keys.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ResolveReport {
    /// getaddrinfo / getnameinfo results.
    System(system::report::SystemReport),
    /// Direct DNS answers.
    Dns(dns::report::DnsReport),
    /// Both views of each name, compared.
    Compare(compare::report::CompareReport),
}

impl ResolveReport {
    /// Lines for stderr after the report: each DNS server that could not be reached and how.
    pub fn warnings(&self) -> Vec<String> {
        match self {
            ResolveReport::Dns(report) => report.unreachable(),
            ResolveReport::System(_) | ResolveReport::Compare(_) => Vec::new(),
        }
    }
}

impl Report for ResolveReport {
    fn view(&self) -> View {
        match self {
            ResolveReport::System(report) => report.view(),
            ResolveReport::Dns(report) => report.view(),
            ResolveReport::Compare(report) => report.view(),
        }
    }

    fn records(&self) -> Section {
        match self {
            ResolveReport::System(report) => report.records(),
            ResolveReport::Dns(report) => report.records(),
            ResolveReport::Compare(report) => report.records(),
        }
    }
}
