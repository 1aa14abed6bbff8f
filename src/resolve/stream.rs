//! The run loop of `sockdiag resolve`: read a chunk of names, look it up, print it, repeat, so answers come
//! out in input order while the input is still being read. A run of one chunk prints exactly one report;
//! longer runs print each chunk's rows as they come and the notes once, at the end, with the totals. JSON is
//! one document, so `--json` gathers every chunk first; `--format ndjson` prints one document per chunk.

use std::io::{self, Write};
use std::time::Instant;

use serde::Serialize;

use super::input::Input;
use super::names::{Names, split_at_servers};
use super::{ResolveReport, interrupt, run_chunk, with_help};
use crate::cli::ResolveArgs;
use crate::error::{Error, Outcome, Result};
use crate::render::{self, Format, RenderOptions, Report, RunClock, Section, View, fmt_ms};

/// Runs `sockdiag resolve`, printing as it goes, and returns how it ended.
pub fn run(args: &ResolveArgs, opts: &RenderOptions, clock: &RunClock) -> Result<Outcome> {
    let (names, at_servers) = split_at_servers(&args.names);
    let window = window(args);
    let mut input = Input::open(&names, args.file.as_deref(), window).map_err(with_help)?;
    interrupt::catch()?;
    if args.short && matches!(opts.format, Format::Json | Format::Ndjson | Format::Csv) {
        return Err(with_help(Error::usage(
            "--short prints bare data lines; it does not combine with --json or --format json|ndjson|csv",
        )));
    }
    let mut out = Printer::new(opts, clock, args.short);
    let mut chunk_args = args.clone();
    let mut carry = super::dns::Carry::default();
    loop {
        let chunk = match input.next_chunk(window) {
            Ok(chunk) => chunk,
            Err(e) => {
                // Answers already printed stay; the bad line ends the run as a usage error.
                out.finish(false)?;
                return Err(with_help(e));
            }
        };
        let last = chunk.last || interrupt::interrupted();
        if chunk.entries.is_empty() && out.chunks > 0 {
            if last {
                break;
            }
            continue;
        }
        let idn = chunk.entries.iter().filter_map(|e| e.idn.clone()).collect();
        let names = Names {
            names: chunk.entries.into_iter().map(|e| e.name).collect(),
            at_servers: at_servers.clone(),
        };
        let (report, outcome) = run_chunk(&chunk_args, names, idn, &mut carry).map_err(with_help)?;
        out.chunk(report, outcome, last)?;
        // `-x` addresses are asked once, with the first chunk.
        chunk_args.reverse.clear();
        if last {
            break;
        }
    }
    out.finish(true)
}

/// Names per chunk: enough to keep every parallel lookup busy, few enough that memory stays small.
fn window(args: &ResolveArgs) -> usize {
    (usize::from(args.parallel) * 8).clamp(64, 2048)
}

/// Prints chunks in the chosen format and keeps what the closing notes need.
struct Printer<'a> {
    opts: &'a RenderOptions,
    clock: &'a RunClock,
    started: Instant,
    chunks: usize,
    items: (usize, usize),
    outcome: Outcome,
    /// `--json`: every chunk, merged.
    gathered: Option<ResolveReport>,
    /// The last chunk printed in parts: its notes close the run.
    last: Option<ResolveReport>,
    /// Header lines already printed (plain), so later chunks do not repeat them.
    headers: Vec<String>,
    /// `--short`: bare data lines only.
    short: bool,
}

impl<'a> Printer<'a> {
    fn new(opts: &'a RenderOptions, clock: &'a RunClock, short: bool) -> Self {
        Printer {
            opts,
            clock,
            started: Instant::now(),
            chunks: 0,
            items: (0, 0),
            outcome: Outcome::Success,
            gathered: None,
            last: None,
            headers: Vec::new(),
            short,
        }
    }

    fn chunk(&mut self, report: ResolveReport, outcome: Outcome, last: bool) -> Result<()> {
        let (n, negative) = report.mode.tally();
        self.items = (self.items.0 + n, self.items.1 + negative);
        if outcome == Outcome::Negative {
            self.outcome = Outcome::Negative;
        }
        let first = self.chunks == 0;
        self.chunks += 1;
        if self.short {
            return write(|o| o.write_all(short_lines(&report).as_bytes()));
        }
        match self.opts.format {
            Format::Json => match &mut self.gathered {
                Some(all) => all.merge(report),
                None => self.gathered = Some(report),
            },
            Format::Ndjson => {
                write(|o| render::write_report(&self.clock.envelope("resolve", &report), self.opts, o))?
            }
            _ if first && last => {
                write(|o| render::write_report(&self.clock.envelope("resolve", &report), self.opts, o))?;
                self.last = Some(report);
                self.chunks = usize::MAX;
            }
            Format::Csv => {
                let mut buf = Vec::new();
                render::write_report(&report, self.opts, &mut buf).map_err(|e| Error::io("rendering", e))?;
                let text = String::from_utf8_lossy(&buf);
                let body = if first {
                    &text[..]
                } else {
                    text.split_once('\n').map_or("", |(_, rest)| rest)
                };
                write(|o| o.write_all(body.as_bytes()))?;
                self.last = Some(report);
            }
            // Dot is refused before any command runs (trace --multipath only).
            Format::Table | Format::Plain | Format::Dot => {
                let rows = Rows(&report);
                let mut buf = Vec::new();
                render::write_report(&rows, self.opts, &mut buf).map_err(|e| Error::io("rendering", e))?;
                let text = self.without_repeated_headers(&report, &String::from_utf8_lossy(&buf));
                write(|o| o.write_all(text.as_bytes()))?;
                self.last = Some(report);
            }
        }
        Ok(())
    }

    /// In a pipe, the column headers are printed once, above the first chunk.
    fn without_repeated_headers(&mut self, report: &ResolveReport, text: &str) -> String {
        if self.opts.format != Format::Plain {
            return text.to_string();
        }
        let signature = |cols: &[&str]| cols.join(" ");
        let headers: Vec<String> = report
            .mode
            .view()
            .sections
            .iter()
            .map(|s| signature(&s.columns))
            .collect();
        let mut kept = String::new();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let is_header = headers.contains(&signature(&words));
            if is_header && self.headers.contains(&signature(&words)) {
                continue;
            }
            if is_header {
                self.headers.push(signature(&words));
            }
            kept.push_str(line);
            kept.push('\n');
        }
        kept
    }

    /// Prints what closes the run (the gathered JSON, or the notes with the totals) and says how it ended.
    fn finish(mut self, complete: bool) -> Result<Outcome> {
        if self.short {
            // Bare data only: how it ended is the exit code.
        } else if let Some(all) = self.gathered.take() {
            if complete {
                write(|o| render::write_report(&self.clock.envelope("resolve", &all), self.opts, o))?;
            }
            warn(&all.warnings());
        } else if let Some(last) = self.last.take() {
            if self.chunks != usize::MAX && matches!(self.opts.format, Format::Table | Format::Plain) {
                let notes = self.closing_notes(&last);
                write(|o| render::write_report(&Notes(notes), self.opts, o))?;
            }
            warn(&last.warnings());
        }
        Ok(if interrupt::interrupted() {
            Outcome::Interrupted
        } else {
            self.outcome
        })
    }

    /// The last chunk's notes about settings and servers, the totals of every chunk, then how it ended.
    fn closing_notes(&self, last: &ResolveReport) -> Vec<String> {
        let mut notes: Vec<String> = last
            .mode
            .view()
            .sections
            .into_iter()
            .flat_map(|s| s.notes)
            .collect();
        // Every mode closes its notes with its own summary, which counted only the last chunk.
        notes.pop();
        let (n, negative) = self.items;
        let (one, many) = last.mode.nouns();
        notes.push(format!(
            "{n} {} in {}, read and printed in {} chunks: {} answered, {negative} not",
            if n == 1 { one } else { many },
            fmt_ms(self.started.elapsed()),
            self.chunks,
            n - negative
        ));
        if last.interrupted {
            notes.push(super::interrupted_note(&last.not_done));
        }
        notes
    }
}

/// `--short`: the data of every record (DNS) or each address once per name (system), one a line.
fn short_lines(report: &ResolveReport) -> String {
    let mut out = String::new();
    match &report.mode {
        super::ModeReport::Dns(r) => {
            for rec in r.queries.iter().flat_map(|q| &q.records) {
                out.push_str(&rec.data);
                out.push('\n');
            }
        }
        super::ModeReport::System(r) => {
            for name in &r.results {
                let mut seen = Vec::new();
                for a in &name.addresses {
                    if !seen.contains(&a.address) {
                        seen.push(a.address);
                        out.push_str(&format!("{}\n", a.address));
                    }
                }
                if let Some(host) = &name.host {
                    out.push_str(&format!("{host}\n"));
                }
            }
        }
        super::ModeReport::Compare(_) | super::ModeReport::Servers(_) | super::ModeReport::Trace(_) => {}
    }
    out
}

/// A chunk printed in parts: its rows and the notes on its international names; the other notes wait for
/// the end of the run.
#[derive(Serialize)]
#[serde(transparent)]
struct Rows<'r>(&'r ResolveReport);

impl Report for Rows<'_> {
    fn view(&self) -> View {
        let mut view = self.0.mode.view();
        for s in &mut view.sections {
            s.notes.clear();
        }
        if let Some(last) = view.sections.last_mut() {
            last.notes = self
                .0
                .international_names
                .iter()
                .map(super::IdnName::note)
                .collect();
        }
        view.sections
            .retain(|s| !s.rows.is_empty() || !s.notes.is_empty());
        view
    }
}

/// The closing notes of a run printed in parts.
#[derive(Serialize)]
#[serde(transparent)]
struct Notes(Vec<String>);

impl Report for Notes {
    fn view(&self) -> View {
        View {
            sections: vec![Section {
                notes: self.0.clone(),
                ..Section::default()
            }],
        }
    }
}

/// Writes to stdout and flushes, so a chunk is seen as soon as it is done; a closed pipe is not an error.
fn write(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match f(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::io("writing the report to stdout", e)),
        _ => Ok(()),
    }
}

/// Lines for stderr after the report.
fn warn(lines: &[String]) {
    for line in lines {
        let _ = writeln!(io::stderr(), "sockdiag: {}", crate::text::escape(line));
    }
}
