//! The trace report's table (one line per hop, one column per probe) and its CSV records.

use std::time::Duration;

use super::{HopReport, TraceReport};
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms};
use crate::trace::engine::Protocol;

/// One column per probe of a hop (at most 10 with -q), so no probe's time is split from its unit.
const RTT_COLUMNS: [&str; 10] = [
    "RTT1", "RTT2", "RTT3", "RTT4", "RTT5", "RTT6", "RTT7", "RTT8", "RTT9", "RTT10",
];
/// The same columns in CSV, in milliseconds.
const RTT_CSV: [&str; 10] = [
    "rtt1_ms", "rtt2_ms", "rtt3_ms", "rtt4_ms", "rtt5_ms", "rtt6_ms", "rtt7_ms", "rtt8_ms", "rtt9_ms",
    "rtt10_ms",
];

impl Report for TraceReport {
    fn view(&self) -> View {
        // Repeated cycles (-c) show mtr's statistics instead of one column per probe.
        let cycles = self.settings.count != 1;
        let queries = if cycles { 0 } else { self.queries() };
        let names = !self.settings.numeric;
        let notes = self.hops.iter().any(|h| !hop_notes(h).is_empty());
        let mut columns = vec!["HOP", "ADDRESS"];
        if names {
            columns.push("NAME");
        }
        columns.extend(&RTT_COLUMNS[..queries]);
        let mut drop_order = if cycles {
            columns.extend(["LOSS", "SNT", "LAST", "AVG", "BEST", "WRST", "SDEV"]);
            vec!["SDEV", "WRST", "BEST", "SNT", "NAME"]
        } else {
            columns.extend(["LOSS", "MIN", "AVG", "MAX", "SDEV"]);
            // Summary figures go first (the probe columns show them), then the name, then the later
            // probes: a hop with three probes stays one line at 80 columns under -n.
            vec!["SDEV", "MAX", "MIN", "AVG", "LOSS", "NAME"]
        };
        if notes {
            columns.push("NOTE");
        }
        drop_order.extend(RTT_COLUMNS[1..queries.max(1)].iter().rev());
        let mut section = Section::new(&columns)
            .droppable(&drop_order)
            .titled(format!("trace to {} ({})", self.target, self.address));
        for hop in &self.hops {
            section.rows.push(hop_row(hop, queries, names, notes, cycles));
        }
        let ignored = self.foreign_replies + self.other_icmp;
        if ignored > 0 {
            section.notes.push(format!(
                "{ignored} ICMP messages not meant for this trace were ignored"
            ));
        }
        if self.settings.protocol != Protocol::Icmp {
            section.notes.push(format!("flow: {}", self.flow));
        }
        section.notes.push(self.stop.message.clone());
        View {
            sections: vec![section],
        }
    }

    /// One record per hop, with numbers instead of "0.412 ms" and every address and name.
    fn records(&self) -> Section {
        let queries = self.queries();
        let mut columns = vec!["hop", "address", "name"];
        columns.extend(&RTT_CSV[..queries]);
        columns.extend([
            "sent",
            "received",
            "loss_pct",
            "min_ms",
            "avg_ms",
            "max_ms",
            "stddev_ms",
            "note",
        ]);
        let mut section = Section::new(&columns);
        let num = |v: Option<f64>| Cell::from(v.map_or_else(String::new, |v| v.to_string()));
        for hop in &self.hops {
            let joined = |f: &dyn Fn(&super::HopAddress) -> String| {
                hop.addresses.iter().map(f).collect::<Vec<_>>().join(" ")
            };
            let mut row = vec![
                Cell::from(hop.ttl.to_string()),
                Cell::from(joined(&|a| a.address.to_string())),
                Cell::from(joined(&|a| a.name.clone().unwrap_or_default())),
            ];
            row.extend((0..queries).map(|q| num(hop.rtts_ms.get(q).copied().flatten())));
            row.extend([
                Cell::from(hop.sent.to_string()),
                Cell::from(hop.received.to_string()),
                Cell::from(hop.loss_pct.to_string()),
                num(hop.min_ms),
                num(hop.avg_ms),
                num(hop.max_ms),
                num(hop.stddev_ms),
                Cell::from(hop_notes(hop).join("; ")),
            ]);
            section.rows.push(row);
        }
        section
    }
}

impl TraceReport {
    /// Probes per hop, as many RTT columns as the table draws.
    fn queries(&self) -> usize {
        usize::from(self.settings.queries).clamp(1, RTT_COLUMNS.len())
    }
}

fn ms_text(ms: f64) -> String {
    fmt_ms(Duration::from_secs_f64(ms / 1000.0))
}

/// Unreachable annotations and MPLS label stacks seen at a hop.
fn hop_notes(hop: &HopReport) -> Vec<String> {
    let mut notes = Vec::new();
    let annotation = hop
        .unreachable
        .iter()
        .map(|u| u.annotation.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if !annotation.is_empty() {
        notes.push(annotation);
    }
    for stack in &hop.mpls {
        let labels = stack
            .iter()
            .map(|l| format!("L={} E={} S={} TTL={}", l.label, l.tc, u8::from(l.bottom), l.ttl))
            .collect::<Vec<_>>()
            .join(" / ");
        notes.push(format!("MPLS {labels}"));
    }
    if let Some(p) = hop.pmtu {
        notes.push(format!("pmtu {} -> {}", p.before, p.mtu));
    }
    if hop.nat {
        notes.push("NAT".to_string());
    }
    notes
}

fn hop_row(hop: &HopReport, queries: usize, names: bool, notes: bool, cycles: bool) -> Vec<Cell> {
    let dash = || Cell::toned("-", Tone::Dim);
    let ms_cell = |v: Option<f64>| v.map_or_else(dash, |ms| Cell::from(ms_text(ms)));
    let mut row = vec![Cell::from(hop.ttl.to_string())];
    if hop.addresses.is_empty() {
        row.push(Cell::toned("*", Tone::Warn));
        if names {
            row.push(dash());
        }
    } else {
        let tone = if hop.unreachable.is_empty() {
            Tone::Good
        } else {
            Tone::Bad
        };
        let join = |f: &dyn Fn(&super::HopAddress) -> String| {
            hop.addresses.iter().map(f).collect::<Vec<_>>().join(" ")
        };
        row.push(Cell::toned(join(&|a| a.address.to_string()), tone));
        if names {
            row.push(Cell::from(join(&|a| {
                a.name.clone().unwrap_or_else(|| "-".into())
            })));
        }
    }
    row.extend((0..queries).map(|q| match hop.rtts_ms.get(q).copied().flatten() {
        Some(ms) => Cell::from(ms_text(ms)),
        None => Cell::toned("*", Tone::Warn),
    }));
    let loss_tone = if hop.received == hop.sent {
        Tone::Normal
    } else if hop.received == 0 {
        Tone::Bad
    } else {
        Tone::Warn
    };
    let loss = if hop.rate_limited {
        format!("{:.0}% (rate-limited?)", hop.loss_pct)
    } else {
        format!("{:.0}%", hop.loss_pct)
    };
    row.push(Cell::toned(loss, loss_tone));
    if cycles {
        row.push(Cell::from(hop.sent.to_string()));
        row.extend([hop.last_ms, hop.avg_ms, hop.min_ms, hop.max_ms, hop.stddev_ms].map(ms_cell));
    } else {
        row.extend([hop.min_ms, hop.avg_ms, hop.max_ms, hop.stddev_ms].map(ms_cell));
    }
    if notes {
        let text = hop_notes(hop).join("; ");
        row.push(if text.is_empty() {
            dash()
        } else {
            Cell::toned(text, Tone::Warn)
        });
    }
    row
}
