//! Several hosts traced at once (`sockdiag trace HOST HOST ...`): every host's ICMP sockets are opened
//! while privileged, privilege is dropped once for all, then each host is resolved and traced on a thread
//! of its own, all concurrently. One report per host, in the order given; a host that cannot be traced
//! (its name does not resolve, say) is listed with why, and the others still are.

use schemars::JsonSchema;
use serde::Serialize;

use super::config::Config;
use super::privilege::{self, Privilege};
use super::report::TraceReport;
use super::{Opened, open_privileged, trace_one};
use crate::cli::{GlobalArgs, TraceArgs};
use crate::error::{Error, Outcome, Result};
use crate::render::{Cell, Report, Section, View};
use crate::text;

/// What `sockdiag trace` found for several hosts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TraceSet {
    /// One trace per host that could be traced, in the order the hosts were given.
    pub traces: Vec<TraceReport>,
    /// The hosts that could not be traced, and why.
    pub failed: Vec<TraceFailure>,
}

/// A host that could not be traced.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TraceFailure {
    /// The host as given.
    pub target: String,
    /// Why, in one line.
    pub error: String,
    /// The exit code this alone would have given.
    pub exit_code: u8,
}

/// Traces every host of the command line at once; returns their reports and the run's outcome: success
/// when every host was reached, interrupted after Ctrl-C, else negative. When no host could be traced at
/// all, the first host's error is the run's.
pub fn run(args: &TraceArgs, global: &GlobalArgs) -> Result<(TraceSet, Outcome)> {
    // Every usage error of every host comes out before anything is opened.
    let configs = args
        .hosts
        .iter()
        .map(|h| Config::from_args(args, h))
        .collect::<Result<Vec<_>>>()?;
    if args.count != 1 {
        return Err(Error::usage(format!(
            "-c {} repeats one host's trace: give one host, or drop -c to trace {} hosts at once \
             (see 'sockdiag trace --help')",
            args.count,
            args.hosts.len()
        )));
    }
    let opened: Vec<Result<Opened>> = configs.iter().map(open_privileged).collect();
    let privilege = privilege::drop_privileges()?;
    let results = trace_all(&configs, opened, privilege, global);
    collect(&configs, results)
}

/// One thread per host; results in the hosts' order.
fn trace_all(
    configs: &[Config],
    opened: Vec<Result<Opened>>,
    privilege: Privilege,
    global: &GlobalArgs,
) -> Vec<Result<(TraceReport, Outcome)>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = configs
            .iter()
            .zip(opened)
            .map(|(config, opened)| {
                // Live progress lines of several threads would garble one another: none.
                scope.spawn(move || trace_one(config, opened?, privilege, global, true))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::System("a trace thread failed".into())))
            })
            .collect()
    })
}

/// The set of reports and failures, and the run's outcome.
fn collect(configs: &[Config], results: Vec<Result<(TraceReport, Outcome)>>) -> Result<(TraceSet, Outcome)> {
    let mut set = TraceSet {
        traces: Vec::new(),
        failed: Vec::new(),
    };
    let mut outcomes = Vec::new();
    let mut first_error = None;
    for (config, result) in configs.iter().zip(results) {
        match result {
            Ok((report, outcome)) => {
                set.traces.push(report);
                outcomes.push(outcome);
            }
            Err(e) => {
                set.failed.push(TraceFailure {
                    target: config.host.clone(),
                    error: e.to_string(),
                    exit_code: e.exit_code(),
                });
                first_error.get_or_insert(e);
            }
        }
    }
    if set.traces.is_empty()
        && let Some(e) = first_error
    {
        return Err(e);
    }
    let outcome = outcome_of(&outcomes, set.failed.is_empty());
    Ok((set, outcome))
}

/// The run's outcome from each host's: interrupted if any was, success only if all were reached.
fn outcome_of(outcomes: &[Outcome], none_failed: bool) -> Outcome {
    if outcomes.contains(&Outcome::Interrupted) {
        Outcome::Interrupted
    } else if none_failed && outcomes.iter().all(|o| *o == Outcome::Success) {
        Outcome::Success
    } else {
        Outcome::Negative
    }
}

impl Report for TraceSet {
    /// Each host's table in turn, then the hosts that could not be traced.
    fn view(&self) -> View {
        let mut sections: Vec<Section> = self.traces.iter().flat_map(|r| r.view().sections).collect();
        if !self.failed.is_empty() {
            let mut failed = Section::new(&["TARGET", "ERROR"]).titled("not traced".to_string());
            for f in &self.failed {
                failed.rows.push(vec![
                    Cell::from(text::escape(&f.target).into_owned()),
                    Cell::from(text::escape(&f.error).into_owned()),
                ]);
            }
            sections.push(failed);
        }
        View { sections }
    }

    /// Every host's records, each row led by its host.
    fn records(&self) -> Section {
        let mut out = Section::default();
        for report in &self.traces {
            let section = report.records();
            if out.columns.is_empty() {
                out.columns = std::iter::once("target")
                    .chain(section.columns.iter().copied())
                    .collect();
            }
            for row in section.rows {
                let lead = Cell::from(report.target.clone());
                out.rows.push(std::iter::once(lead).chain(row).collect());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_succeeds_only_when_every_host_was_reached() {
        use Outcome::*;
        assert_eq!(outcome_of(&[Success, Success], true), Success);
        assert_eq!(outcome_of(&[Success, Negative], true), Negative);
        assert_eq!(outcome_of(&[Success], false), Negative);
        assert_eq!(outcome_of(&[Negative, Interrupted], true), Interrupted);
    }
}
