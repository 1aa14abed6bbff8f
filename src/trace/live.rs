//! Running repeated traces (-c) and showing them as they go: on a terminal the table redrawn in place
//! after every cycle, with --format ndjson one line per cycle, piped one `#` line per cycle.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::net::IpAddr;

use super::config::Config;
use super::cycles::{self, CycleLine, Cycles};
use super::drive::drive;
use super::engine::{Engine, TraceOutcome};
use super::names::ReverseNames;
use super::prober::Prober;
use super::{Inputs, NAMES_GRACE, engine_config, probe_count, seq_base};
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::render::{self, Format, RenderOptions};

/// Runs the cycles -c asks for and returns everything they measured, merged, with the hops' names.
pub fn probe_cycles(
    config: &Config,
    prober: &mut Prober,
    inputs: &Inputs,
    global: &GlobalArgs,
) -> Result<(TraceOutcome, HashMap<IpAddr, String>)> {
    crate::sys::sigint::catch().map_err(|e| Error::io("installing the SIGINT handler", e))?;
    let mut names = (!config.numeric).then(|| ReverseNames::start(NAMES_GRACE));
    let opts =
        RenderOptions::detect(global.output_format(), global.color).with_all_columns(global.verbose > 0);
    let mut screen = Screen::new(opts);
    let probes = probe_count(config);
    let base = seq_base(probes);
    let ident = prober.ident();
    let address = inputs.address;
    let cycles = Cycles {
        count: config.count,
        interval: config.cycle_interval,
        deadline: config.run_deadline,
        interrupted: crate::sys::sigint::caught,
    };
    let merged = cycles::run(
        cycles,
        |k| {
            let engine = Engine::new(engine_config(
                config,
                ident,
                address,
                cycle_seq(base, probes, k),
                None,
            ));
            let on_addr = |addr| {
                if let Some(n) = names.as_mut() {
                    n.lookup(addr);
                }
            };
            drive(prober, engine, on_addr, |_| {})
        },
        |k, this, merged| screen.show(k, this, merged, inputs, config.first_ttl),
    )?;
    screen.clear();
    let names = names.map(ReverseNames::finish).unwrap_or_default();
    Ok((merged, names))
}

/// The first probe number of cycle `k`: each cycle's numbers follow the previous one's, so a late reply
/// to one cycle never matches a probe of the next; all clear of 0 and 0xffff (see `seq_base`).
fn cycle_seq(base: u16, probes: usize, k: u32) -> u16 {
    let room = 0xfffe_u64.saturating_sub(probes as u64).max(1);
    let offset = (u64::from(base) - 1 + u64::from(k) * probes as u64) % room;
    (1 + offset) as u16
}

/// Where the per-cycle output goes.
struct Screen {
    opts: RenderOptions,
    /// Redraw the table in place (a table format on a terminal).
    redraw: bool,
    /// Lines of the last table drawn, to move back over.
    drawn: usize,
}

impl Screen {
    fn new(opts: RenderOptions) -> Screen {
        let redraw = opts.format == Format::Table && std::io::stdout().is_terminal();
        Screen {
            opts,
            redraw,
            drawn: 0,
        }
    }

    /// Shows cycle `k` (from 0) and the statistics of every cycle so far.
    fn show(&mut self, k: u32, this: &TraceOutcome, merged: &TraceOutcome, inputs: &Inputs, first: u8) {
        let mut out = std::io::stdout().lock();
        let line = CycleLine::new(k, this, first);
        let _ = match self.opts.format {
            Format::Ndjson => render::write_json_line(&line, &mut out),
            Format::Plain => writeln!(out, "# cycle {}: {}", k + 1, summary(&line)),
            Format::Table if self.redraw => {
                let report = inputs.report(merged, &HashMap::new(), 0);
                let mut text = Vec::new();
                let _ = render::write_report(&report, &self.opts, &mut text);
                let up = self.back();
                self.drawn = text.iter().filter(|b| **b == b'\n').count();
                out.write_all(up.as_bytes()).and_then(|_| out.write_all(&text))
            }
            _ => Ok(()),
        };
        let _ = out.flush();
    }

    /// The escape sequence that moves the cursor back to where the last table began and clears below.
    fn back(&self) -> String {
        if self.drawn == 0 {
            String::new()
        } else {
            format!("\x1b[{}A\x1b[J", self.drawn)
        }
    }

    /// Removes the live table, so the final report is printed once.
    fn clear(&mut self) {
        if self.redraw && self.drawn > 0 {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(self.back().as_bytes());
            let _ = out.flush();
            self.drawn = 0;
        }
    }
}

/// "reached at hop 4, 12 of 12 probes answered".
fn summary(line: &CycleLine) -> String {
    let sent: usize = line.hops.iter().map(|h| h.rtts_ms.len()).sum();
    let answered: usize = line.hops.iter().map(|h| h.rtts_ms.iter().flatten().count()).sum();
    let end = match line.hop {
        Some(hop) => format!("reached at hop {hop}"),
        None => "not reached".to_string(),
    };
    format!("{end}, {answered} of {sent} probes answered")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_use_consecutive_number_ranges_clear_of_0_and_ffff() {
        assert_eq!(cycle_seq(1, 90, 0), 1);
        assert_eq!(cycle_seq(1, 90, 1), 91);
        for k in 0..2000 {
            let s = cycle_seq(0xff00, 90, k);
            assert!(s != 0 && u32::from(s) + 90 <= 0xffff, "cycle {k}: {s}");
        }
    }
}
