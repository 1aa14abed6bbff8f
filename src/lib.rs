//! sockdiag: socket diagnostics as a library; the binary parses arguments and calls [`run`].

pub mod cli;
pub mod error;
pub mod host;
pub mod inventory;
pub mod listen;
pub mod lookup;
pub mod probe;
pub mod render;
pub mod resolve;
pub mod services;
pub mod sockets;
pub mod stats;
pub mod sys;
pub mod target;
pub mod text;
pub mod tls;
pub mod trace;
pub mod units;

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

use cli::{Cli, Command, GlobalArgs};
use error::{Error, Outcome, Result};
use render::{RenderOptions, Report, RunClock};

/// Runs the parsed command line: dispatches on the subcommand and writes its report to stdout.
pub fn run(cli: Cli) -> Result<Outcome> {
    let clock = RunClock::start();
    let opts = RenderOptions::detect(cli.global.output_format(), cli.global.color)
        .with_all_columns(cli.global.verbose > 0);
    let multipath = matches!(&cli.command, Command::Trace(a) if a.multipath.is_some());
    if opts.format == render::Format::Dot && !multipath {
        return Err(Error::usage(
            "--format dot draws the graph of 'trace --multipath' only: accepted elsewhere are table, plain, json, ndjson, csv",
        ));
    }
    match &cli.command {
        Command::Trace(args) if multipath => {
            let (report, outcome) = trace::multipath::run::run(args, &cli.global)?;
            emit(&clock.envelope("trace", &report), &opts)?;
            Ok(outcome)
        }
        // resolve prints each chunk of names as it is done (it reads `-f -` as it comes).
        Command::Resolve(args) => resolve::run(args, &opts, &clock),
        Command::Probe(args) if args.list_targets => probe::list_targets(args, &cli.global),
        Command::Probe(args) if probe::unix::wanted(args) => {
            let (report, outcome) = probe::unix::run(args)?;
            emit(&clock.envelope("probe", &report), &opts)?;
            Ok(outcome)
        }
        Command::Probe(args) => {
            let (mut report, outcome) = probe::run(args, &cli.global)?;
            // The phases' bar is a picture for a terminal; a pipe gets the same figures as columns.
            report.bars = opts.format == render::Format::Table;
            emit(&clock.envelope("probe", &report), &opts)?;
            Ok(outcome)
        }
        Command::Trace(args) if args.hosts.len() > 1 => {
            let (set, outcome) = trace::many::run(args, &cli.global)?;
            emit(&clock.envelope("trace", &set), &opts)?;
            Ok(outcome)
        }
        Command::Trace(args) => {
            let (report, outcome) = trace::run(args, &cli.global)?;
            emit(&clock.envelope("trace", &report), &opts)?;
            Ok(outcome)
        }
        Command::Sockets(args) if opts.format == render::Format::Plain && !opts.color && args.count <= 1 => {
            // One look into a pipe streams: a host's every socket is never held as a report.
            sockets::write_plain(args, &mut io::stdout().lock()).map(|_| Outcome::Success)
        }
        Command::Sockets(args) => {
            let mut live = |report: &sockets::report::SocketsReport| {
                let _ = show_sample(&clock.envelope("sockets", report), &opts);
            };
            let report = sockets::run(args, &mut live)?;
            if opts.format == render::Format::Table && io::stdout().is_terminal() && args.count > 1 {
                // The last sample replaces the live table in place.
                print!("{CLEAR_SCREEN}");
            }
            emit(&clock.envelope("sockets", &report), &opts)?;
            Ok(if report.interrupted {
                Outcome::Interrupted
            } else {
                Outcome::Success
            })
        }
        Command::Listen(args) => {
            let report = listen::run(args, &cli.global)?;
            let report = clock.envelope("listen", &report);
            if cli.global.wants_json() {
                // The events were NDJSON lines on stdout: the summary is the last one.
                let _ = render::write_json_line(&report, &mut io::stdout().lock());
            } else {
                emit(&report, &opts)?;
            }
            Ok(Outcome::Success)
        }
    }
}

/// Moves the cursor home and clears the screen, so a sampled table redraws in place.
const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

/// An intermediate sample of a repeating command: redrawn in place on a terminal, one NDJSON line for scripts,
/// nothing in other forms (they get the last sample only).
fn show_sample<R: Report>(report: &R, opts: &RenderOptions) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match opts.format {
        render::Format::Ndjson => render::write_json_line(report, &mut out),
        render::Format::Table if stdout.is_terminal() => {
            write!(out, "{CLEAR_SCREEN}")?;
            render::write_report(report, opts, &mut out)?;
            out.flush()
        }
        _ => Ok(()),
    }
}

/// Writes a report to stdout; a closed pipe (`| head`) is not an error.
fn emit<R: Report>(report: &R, opts: &RenderOptions) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = render::write_report(report, opts, &mut out).and_then(|_| out.flush());
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::io("writing the report to stdout", e)),
        _ => Ok(()),
    }
}

/// An error as JSON, for `--json`: the document a failed run prints on stdout.
#[derive(Serialize, schemars::JsonSchema)]
pub struct JsonError<'a> {
    /// What went wrong.
    pub error: JsonErrorBody<'a>,
}

/// The body of an error document.
#[derive(Serialize, schemars::JsonSchema)]
pub struct JsonErrorBody<'a> {
    /// The class of error: usage, input, lookup, system, permission, io...
    pub kind: &'a str,
    /// The one line also printed on stderr.
    pub message: String,
    /// The exit code the run ends with.
    pub exit_code: u8,
}

/// Prints an error: one line on stderr (`sockdiag: what: why`), detail with `-v`, and JSON on stdout with `--json`.
pub fn report_error(err: &Error, global: &GlobalArgs) {
    print_error(err.kind(), &err.to_string(), err.exit_code(), global.wants_json());
    if global.verbose > 0
        && let Some(detail) = err.detail()
    {
        let _ = writeln!(io::stderr(), "sockdiag: detail: {detail}");
    }
}

/// The one place errors are printed: the message is escaped here, since parts of it (a value, a name, a line of a
/// file) came from outside.
fn print_error(kind: &str, message: &str, exit_code: u8, json: bool) {
    let message = text::escape(message);
    let _ = writeln!(io::stderr(), "sockdiag: {message}");
    if json {
        let body = JsonError {
            error: JsonErrorBody {
                kind,
                message: message.into_owned(),
                exit_code,
            },
        };
        let _ = render::write_json(&body, &mut io::stdout());
    }
}

/// Handles a command-line parse failure: help and version go to stdout (exit 0);
/// anything else becomes one line on stderr naming what is accepted (exit 2).
pub fn report_clap_error(err: &clap::Error, args: &[std::ffi::OsString]) -> u8 {
    use clap::error::ErrorKind;
    let json = wants_json(args.iter().cloned());
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                error::exit::USAGE
            } else {
                error::exit::OK
            }
        }
        _ => {
            let message = one_line(&unstyled(err, args), subcommand_of(args));
            print_error("usage", &message, error::exit::USAGE, json);
            error::exit::USAGE
        }
    }
}

/// clap's message with the user's values as they were typed: its styled rendering strips every escape sequence,
/// the user's included, so the message is rendered again without styles and escaped by the caller.
fn unstyled(err: &clap::Error, args: &[std::ffi::OsString]) -> String {
    use clap::CommandFactory;
    let plain = Cli::command()
        .styles(clap::builder::Styles::plain())
        .try_get_matches_from(args);
    match plain {
        Err(again) if again.kind() == err.kind() => again.render().ansi().to_string(),
        _ => err.to_string(),
    }
}

/// The subcommand a command line names (its first word that is one), for pointing to the right help.
fn subcommand_of(args: &[std::ffi::OsString]) -> Option<String> {
    use clap::CommandFactory;
    let command = Cli::command();
    let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
    args.iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find(|a| names.contains(a))
        .map(str::to_string)
}

/// Folds clap's multi-line message into one line, dropping the usage block and the help hint, and points to the
/// help of the subcommand (`sockdiag probe --help`), or to `sockdiag --help` when none was named.
fn one_line(rendered: &str, subcommand: Option<String>) -> String {
    let mut parts = Vec::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            parts.push(line.strip_prefix("error: ").unwrap_or(line));
        }
    }
    let help = subcommand.map_or_else(
        || "sockdiag --help".to_string(),
        |s| format!("sockdiag {s} --help"),
    );
    format!("{} (see '{help}')", parts.join(" "))
}

/// Whether the output is for scripts, decided before parsing so parse errors can honour `--json` and
/// `--format json|ndjson`.
pub fn wants_json<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> bool {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let json_form = |v: &str| v == "json" || v == "ndjson";
    args.iter().enumerate().any(|(i, a)| {
        a == "--json"
            || a.strip_prefix("--format=").is_some_and(json_form)
            || (a == "--format" && args.get(i + 1).is_some_and(|v| json_form(v)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_messages_fold_to_one_line() {
        let text = "error: invalid value 'x' for '--socktype <TYPE>'\n  [possible values: stream, dgram]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(text, None),
            "invalid value 'x' for '--socktype <TYPE>' [possible values: stream, dgram] (see 'sockdiag --help')"
        );
        let sub = "error: invalid value '0' for '--timeout <DURATION>': '0' is zero\n\nUsage: sockdiag probe [OPTIONS] <TARGET [PORTS]>...\n";
        assert_eq!(
            one_line(
                sub,
                subcommand_of(&["sockdiag", "probe", "-w", "0"].map(std::ffi::OsString::from))
            ),
            "invalid value '0' for '--timeout <DURATION>': '0' is zero (see 'sockdiag probe --help')"
        );
    }

    #[test]
    fn json_is_wanted_by_json_and_by_the_json_formats() {
        let wants = |args: &[&str]| wants_json(args.iter().map(std::ffi::OsString::from));
        assert!(wants(&["sockdiag", "probe", "--json"]));
        assert!(wants(&["sockdiag", "--format", "ndjson", "listen"]));
        assert!(wants(&["sockdiag", "--format=json"]));
        assert!(!wants(&["sockdiag", "--format", "csv", "probe"]));
        assert!(!wants(&["sockdiag", "resolve", "json"]));
    }
}
