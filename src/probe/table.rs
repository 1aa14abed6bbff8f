//! How a probe report is drawn: one table grouped by target, large runs of closed (or silent) ports counted
//! instead of listed, columns left out by priority to fit the terminal, and the records `--format csv` writes.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use super::report::{PortReport, ProbeReport, TargetReport, rank};
use super::verdict::State;
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms};
use crate::target::Proto;

/// A group (target, address, protocol) with more ports than this in one non-open state shows them as a count.
pub const SUMMARISE_OVER: usize = 25;

/// Banners longer than this are cut in the table (JSON has all of them).
const BANNER_CELL: usize = 60;

/// Columns of a single probe per port.
const SINGLE: [&str; 9] = [
    "TARGET", "ADDRESS", "FAMILY", "PORT", "SERVICE", "STATE", "REASON", "RTT", "BANNER",
];
/// Least important first: the family shows in the address, the target in the address it resolved to, the
/// service name in the port.
const SINGLE_DROP: [&str; 6] = ["FAMILY", "TARGET", "SERVICE", "RTT", "BANNER", "REASON"];

/// Columns with repeats (`--count`), as ping sums them up.
const REPEATED: [&str; 13] = [
    "TARGET",
    "ADDRESS",
    "FAMILY",
    "PORT",
    "SERVICE",
    "STATE",
    "REASON",
    "SENT",
    "RECV",
    "LOSS",
    "RTT MIN/AVG/MAX/SD",
    "P50/P90/P99",
    "BANNER",
];
/// Least important first: loss stays longest, then the round-trip figures.
const REPEATED_DROP: [&str; 10] = [
    "FAMILY",
    "TARGET",
    "SERVICE",
    "P50/P90/P99",
    "SENT",
    "RECV",
    "BANNER",
    "REASON",
    "RTT MIN/AVG/MAX/SD",
    "LOSS",
];

impl Report for ProbeReport {
    fn view(&self) -> View {
        if self.sessions {
            return super::tls::view::view(self);
        }
        let repeating = self.settings.count != 1;
        let (columns, drop): (&[&'static str], &[&'static str]) = if repeating {
            (&REPEATED, &REPEATED_DROP)
        } else {
            (&SINGLE, &SINGLE_DROP)
        };
        let banners = self.probes().any(|p| p.banner.is_some());
        let columns: Vec<&'static str> = columns
            .iter()
            .copied()
            .filter(|c| banners || *c != "BANNER")
            .collect();
        let mut section = Section::new(&columns).droppable(drop);
        for t in &self.targets {
            if let Some(err) = &t.error {
                let mut row: Vec<Cell> = vec![t.target.clone().into(), "-".into(), "-".into(), "-".into()];
                row.extend(["-".into(), Cell::toned("error", Tone::Bad), err.clone().into()]);
                row.resize(columns.len(), "-".into());
                section.rows.push(row);
                continue;
            }
            let hidden = self.hidden_states(t);
            for p in &t.probes {
                if !hidden.contains_key(&(p.address, p.protocol, p.state)) {
                    section.rows.push(row(t, p, repeating, banners));
                }
            }
            let mut hidden: Vec<_> = hidden.into_iter().collect();
            hidden.sort_by_key(|((a, pr, s), _)| (t.addresses.iter().position(|x| x == a), *pr, rank(*s)));
            for ((addr, proto, state), n) in hidden {
                section.notes.push(format!(
                    "{} {addr} {}: {n} {} ports not shown (--all-ports lists them)",
                    t.target,
                    proto.name(),
                    state.name()
                ));
            }
            section.notes.extend(down_lines(t));
        }
        section.notes.push(self.totals());
        View {
            sections: vec![section],
        }
    }

    /// One record per port, or per repeat with `--count`: raw numbers (milliseconds), no units, no summary.
    fn records(&self) -> Section {
        if self.sessions {
            return super::tls::view::records(self);
        }
        let repeating = self.settings.count != 1;
        let mut columns = vec![
            "target", "address", "family", "protocol", "port", "service", "state", "reason",
        ];
        if repeating {
            columns.extend(["seq", "since_start_ms"]);
        }
        columns.extend(["rtt_ms", "banner"]);
        let mut section = Section::new(&columns);
        let text = |v: Option<f64>| v.map(|ms| ms.to_string()).unwrap_or_default();
        for t in &self.targets {
            for p in &t.probes {
                let first: Vec<Cell> = vec![
                    t.target.clone().into(),
                    p.address.to_string().into(),
                    p.family.into(),
                    p.protocol.name().into(),
                    p.port.to_string().into(),
                    p.service.clone().unwrap_or_default().into(),
                ];
                let banner: Cell = p.banner.clone().unwrap_or_default().into();
                if !repeating {
                    let mut row = first;
                    row.extend([
                        p.state.key().into(),
                        p.reason.clone().into(),
                        text(p.rtt_ms).into(),
                        banner,
                    ]);
                    section.rows.push(row);
                    continue;
                }
                for r in &p.repeats {
                    let mut row = first.clone();
                    row.extend([r.state.key().into(), r.reason.clone().into()]);
                    row.extend([r.seq.to_string().into(), r.since_start_ms.to_string().into()]);
                    row.extend([text(r.rtt_ms).into(), banner.clone()]);
                    section.rows.push(row);
                }
            }
        }
        section
    }
}

impl ProbeReport {
    /// Every port's row, target after target.
    fn probes(&self) -> impl Iterator<Item = &PortReport> {
        self.targets.iter().flat_map(|t| &t.probes)
    }

    /// States with more than SUMMARISE_OVER ports in one (address, protocol) group, and how many.
    fn hidden_states(&self, t: &TargetReport) -> BTreeMap<(IpAddr, Proto, State), usize> {
        let mut counts: BTreeMap<(IpAddr, Proto, State), usize> = BTreeMap::new();
        if self.show_all {
            return counts;
        }
        for p in &t.probes {
            if p.state != State::Open {
                *counts.entry((p.address, p.protocol, p.state)).or_default() += 1;
            }
        }
        counts.retain(|_, n| *n > SUMMARISE_OVER);
        counts
    }

    /// The closing line: what was probed, how long it took, what was found, how it ended.
    fn totals(&self) -> String {
        let s = &self.summary;
        let states: Vec<String> = State::ALL
            .iter()
            .filter_map(|st| s.states.get(st.key()).map(|n| format!("{n} {}", st.name())))
            .collect();
        let mut line = format!(
            "{} port{} probed in {}",
            s.ports,
            if s.ports == 1 { "" } else { "s" },
            fmt_ms(Duration::from_secs_f64(s.probing_ms / 1000.0))
        );
        if !states.is_empty() {
            line.push_str(&format!(": {}", states.join(", ")));
        }
        if s.hosts_down > 0 {
            line.push_str(&format!(
                "; {} host{} down",
                s.hosts_down,
                if s.hosts_down == 1 { "" } else { "s" }
            ));
        }
        if s.unresolved > 0 {
            line.push_str(&format!("; {} target(s) not probed", s.unresolved));
        }
        if s.interrupted {
            line.push_str("; interrupted (Ctrl-C), probes in flight not counted");
        }
        if let Some(why) = &s.stopped {
            line.push_str(&format!("; stopped early: {why}"));
        }
        for n in &s.rate_limited {
            line.push_str(&format!(
                "; {} rate-limits ICMP ({} errors, then silence): {} port{} unknown after {} paced re-probe{}",
                n.address,
                n.errors,
                n.unknown,
                if n.unknown == 1 { "" } else { "s" },
                n.reprobed,
                if n.reprobed == 1 { "" } else { "s" }
            ));
        }
        if !s.not_probed.is_empty() {
            line.push_str(&format!("; not probed: {}", s.not_probed.join("; ")));
        }
        line
    }
}

/// One line per reason for a target's hosts that are down: `198.51.100.0/28: host down or not there (no ARP/ND
/// answer): 13 addresses: 198.51.100.3, ...`.
fn down_lines(t: &TargetReport) -> Vec<String> {
    let mut reasons: Vec<&str> = Vec::new();
    for d in &t.down {
        if !reasons.contains(&d.reason.as_str()) {
            reasons.push(&d.reason);
        }
    }
    reasons
        .into_iter()
        .map(|why| {
            let addrs: Vec<String> = t
                .down
                .iter()
                .filter(|d| d.reason == why)
                .map(|d| d.address.to_string())
                .collect();
            let n = addrs.len();
            let shown = if n > 8 {
                format!("{}, ... ({} more)", addrs[..8].join(", "), n - 8)
            } else {
                addrs.join(", ")
            };
            format!(
                "{}: {why}: {n} address{}: {shown}",
                t.target,
                if n == 1 { "" } else { "es" }
            )
        })
        .collect()
}

/// A port as nmap writes it: `443/tcp`.
fn port_cell(p: &PortReport) -> String {
    format!("{}/{}", p.port, p.protocol.name())
}

fn row(t: &TargetReport, p: &PortReport, repeating: bool, banners: bool) -> Vec<Cell> {
    let address = match &p.scope {
        Some(scope) => format!("{}%{scope}", p.address),
        None => p.address.to_string(),
    };
    let dash = || Cell::toned("-", Tone::Dim);
    let mut cells: Vec<Cell> = vec![
        t.target.clone().into(),
        address.into(),
        p.family.into(),
        port_cell(p).into(),
        p.service.clone().map_or_else(dash, Cell::from),
        Cell::toned(p.state.name(), p.state.tone()),
        p.reason.clone().into(),
    ];
    if repeating {
        cells.extend(repeat_cells(p));
    } else {
        cells.push(match p.rtt_ms {
            Some(ms) => fmt_ms(Duration::from_secs_f64(ms / 1000.0)).into(),
            None => dash(),
        });
    }
    if banners {
        cells.push(match p.greeting.as_ref().or(p.banner.as_ref()) {
            Some(b) if b.is_empty() => Cell::toned("(no data)", Tone::Dim),
            Some(b) if b.chars().count() > BANNER_CELL => {
                format!("{}...", b.chars().take(BANNER_CELL).collect::<String>()).into()
            }
            Some(b) => b.clone().into(),
            None => dash(),
        });
    }
    cells
}

/// SENT, RECV, LOSS and the round-trip figures of a repeated probe.
fn repeat_cells(p: &PortReport) -> Vec<Cell> {
    let dash = || Cell::toned("-", Tone::Dim);
    let Some(st) = &p.stats else {
        return vec![dash(), dash(), dash(), dash(), dash()];
    };
    let tone = if st.loss_pct > 0.0 {
        Tone::Warn
    } else {
        Tone::Normal
    };
    let mut cells: Vec<Cell> = vec![
        st.sent.to_string().into(),
        st.received.to_string().into(),
        Cell::toned(format!("{}%", st.loss_pct), tone),
    ];
    match &st.rtt {
        Some(r) => {
            let (min, avg, max, sd) = (r.min_ms, r.avg_ms, r.max_ms, r.stddev_ms);
            cells.push(format!("{min:.3}/{avg:.3}/{max:.3}/{sd:.3} ms").into());
            cells.push(format!("{:.3}/{:.3}/{:.3} ms", r.p50_ms, r.p90_ms, r.p99_ms).into());
        }
        None => cells.extend([dash(), dash()]),
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::report::build;
    use crate::probe::report::tests::{attempt, settings, target};
    use crate::probe::schedule::{Attempt, Flow};
    use crate::probe::verdict::Evidence;
    use crate::render::{Format, RenderOptions, write_report};
    use crate::services::ServiceNames;

    /// A report with the widest cells probe draws: an IPv6 and an IPv4 address, every state, an ICMP reason.
    fn wide_report(count: u32) -> ProbeReport {
        let mut t = target();
        t.text = "203.0.113.10".into();
        t.addresses = vec![
            "203.0.113.10:0".parse().unwrap(),
            "[2001:db8:2::10]:0".parse().unwrap(),
        ];
        let mut flows = Vec::new();
        let mut attempts: Vec<Vec<Attempt>> = Vec::new();
        let silence = Evidence::Silence {
            waited: Duration::from_millis(200),
            tries: 2,
        };
        for addr in &t.addresses {
            for (port, proto, ev, rtt) in [
                (443, Proto::Tcp, Evidence::Connected, Some(52)),
                (8002, Proto::Tcp, Evidence::Refused, Some(1)),
                (8003, Proto::Tcp, silence.clone(), None),
                (9003, Proto::Udp, silence.clone(), None),
            ] {
                let mut a = *addr;
                a.set_port(port);
                flows.push(Flow {
                    target: 0,
                    addr: a,
                    proto,
                });
                attempts.push(
                    (0..count.max(1))
                        .map(|seq| attempt(seq, ev.clone(), rtt))
                        .collect(),
                );
            }
        }
        let services = ServiceNames::default();
        let elapsed = Duration::from_millis(1520);
        build(
            &[t],
            &flows,
            &attempts,
            &services,
            settings(count),
            elapsed,
            false,
        )
    }

    #[test]
    fn tables_fit_60_80_and_200_columns_without_splitting_a_token() {
        for count in [1, 5] {
            let report = wide_report(count);
            let view = report.view();
            for width in [60, 80, 200] {
                let text = crate::render::fit_check::assert_fits(&view, width);
                if width == 200 {
                    assert!(!text.contains("left out"), "{text}");
                } else {
                    assert!(text.contains("left out to fit"), "{text}");
                }
                assert!(text.contains("8 ports probed in 1.52 s"), "{text}");
            }
        }
    }

    #[test]
    fn csv_has_one_record_per_port_or_per_repeat_with_raw_numbers() {
        let csv_of = |report: &ProbeReport| {
            let opts = RenderOptions {
                format: Format::Csv,
                ..RenderOptions::plain()
            };
            let mut out = Vec::new();
            write_report(report, &opts, &mut out).unwrap();
            let mut reader = csv::Reader::from_reader(out.as_slice());
            let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
            let rows: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.unwrap().iter().map(str::to_string).collect())
                .collect();
            (header, rows)
        };
        let (header, rows) = csv_of(&wide_report(1));
        assert_eq!(header[..5], ["target", "address", "family", "protocol", "port"]);
        assert_eq!(rows.len(), 8);
        let at = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(rows[0][at("rtt_ms")], "52");
        assert_eq!(rows[3][at("state")], "open_filtered");
        assert_eq!(rows[4][at("address")], "2001:db8:2::10");
        let (header, rows) = csv_of(&wide_report(3));
        assert!(header.contains(&"seq".to_string()), "{header:?}");
        assert_eq!(rows.len(), 8 * 3);
    }
}
