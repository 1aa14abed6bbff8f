//! The table of a `--tls`/`--http` run: one row per address with its phases and facts, the chain and hints
//! as notes, with `--count` a section of statistics per phase, and on a terminal a bar of the phases with
//! cumulative ticks as httpstat draws it.

use std::time::Duration;

use super::report::ConnectionReport;
use super::session::SessionState;
use crate::probe::report::{PortReport, ProbeReport};
use crate::render::{Cell, Section, Tone, View, fmt_ms};

const COLUMNS: [&str; 11] = [
    "ADDRESS",
    "PORT",
    "STATE",
    "REASON",
    "CONNECT",
    "TLS",
    "FIRST BYTE",
    "TOTAL",
    "PROTOCOL",
    "ALPN",
    "HTTP",
];
const DROP: [&str; 6] = ["ALPN", "PROTOCOL", "FIRST BYTE", "HTTP", "TLS", "CONNECT"];

fn ms(v: f64) -> String {
    fmt_ms(Duration::from_secs_f64(v.max(0.0) / 1000.0))
}

/// The whole view of a session run.
pub fn view(report: &ProbeReport) -> View {
    let mut main = Section::new(&COLUMNS).droppable(&DROP);
    let mut stats = Section::new(&["ADDRESS", "PORT", "PHASE", "N", "MIN", "AVG", "MAX", "P50", "P90"])
        .titled("phase times over the repeats")
        .droppable(&["P90", "MAX", "MIN", "N", "PORT"]);
    for t in &report.targets {
        if let Some(err) = &t.error {
            main.notes.push(format!("{}: {err}", t.target));
        }
        for p in &t.probes {
            main.rows.push(row(p));
            let Some(c) = &p.connection else { continue };
            main.notes.extend(notes(p, c, report.bars));
            for s in &c.phase_stats {
                stats.rows.push(vec![
                    p.address.to_string().into(),
                    p.port.to_string().into(),
                    s.phase.clone().into(),
                    s.samples.to_string().into(),
                    ms(s.min_ms).into(),
                    ms(s.avg_ms).into(),
                    ms(s.max_ms).into(),
                    ms(s.p50_ms).into(),
                    ms(s.p90_ms).into(),
                ]);
            }
        }
    }
    main.notes.push(totals(report));
    let mut sections = vec![main];
    if !stats.rows.is_empty() {
        sections.push(stats);
    }
    View { sections }
}

/// The closing line: ports, time, and how many ended in each verdict (a port that did not connect by its TCP
/// state).
fn totals(report: &ProbeReport) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for p in report.targets.iter().flat_map(|t| &t.probes) {
        let name = p
            .connection
            .as_ref()
            .map_or(p.state.name(), |c| c.verdict.state.name());
        *counts.entry(name).or_default() += 1;
    }
    let s = &report.summary;
    let mut line = format!(
        "{} port{} probed in {}",
        s.ports,
        if s.ports == 1 { "" } else { "s" },
        ms(s.probing_ms)
    );
    let found: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    if !found.is_empty() {
        line.push_str(&format!(": {}", found.join(", ")));
    }
    if s.interrupted {
        line.push_str("; interrupted (Ctrl-C)");
    }
    line
}

/// CSV records of a session run: one per port (the last repeat with --count), phases in raw milliseconds.
pub fn records(report: &ProbeReport) -> Section {
    const PHASES: [&str; 7] = [
        "lookup",
        "connect",
        "starttls",
        "tls",
        "request",
        "first_byte",
        "transfer",
    ];
    let mut section = Section::new(&[
        "target",
        "address",
        "port",
        "state",
        "reason",
        "lookup_ms",
        "connect_ms",
        "starttls_ms",
        "tls_ms",
        "request_ms",
        "first_byte_ms",
        "transfer_ms",
        "total_ms",
        "tls_version",
        "cipher_suite",
        "alpn",
        "http_status",
        "leaf_days_left",
    ]);
    for t in &report.targets {
        for p in &t.probes {
            let mut row: Vec<Cell> = vec![
                t.target.clone().into(),
                p.address.to_string().into(),
                p.port.to_string().into(),
            ];
            let Some(c) = &p.connection else {
                row.extend([p.state.key().into(), p.reason.clone().into()]);
                row.resize(section.columns.len(), Cell::default());
                section.rows.push(row);
                continue;
            };
            row.push(super::report::serde_name_state(c.verdict.state).into());
            row.push(c.verdict.reason.clone().into());
            for name in PHASES {
                let found = c
                    .phases
                    .iter()
                    .find(|x| super::report::serde_name(x.phase) == name);
                row.push(found.map(|x| x.ms.to_string()).unwrap_or_default().into());
            }
            row.push(c.total_ms.to_string().into());
            let tls = c.tls.as_ref();
            row.push(tls.map(|t| t.version.clone()).unwrap_or_default().into());
            row.push(tls.map(|t| t.cipher_suite.clone()).unwrap_or_default().into());
            row.push(tls.and_then(|t| t.alpn.clone()).unwrap_or_default().into());
            let status = c.http.as_ref().and_then(|h| h.status).map(|s| s.to_string());
            row.push(status.unwrap_or_default().into());
            row.push(
                c.chain
                    .first()
                    .map(|l| l.days_left.to_string())
                    .unwrap_or_default()
                    .into(),
            );
            section.rows.push(row);
        }
    }
    section
}

fn row(p: &PortReport) -> Vec<Cell> {
    let dash = || Cell::toned("-", Tone::Dim);
    let Some(c) = &p.connection else {
        let mut cells: Vec<Cell> = vec![
            p.address.to_string().into(),
            p.port.to_string().into(),
            Cell::toned(p.state.name(), p.state.tone()),
            p.reason.clone().into(),
        ];
        cells.resize(COLUMNS.len(), dash());
        return cells;
    };
    let phase = |name: &str| {
        c.phases
            .iter()
            .find(|x| super::report::serde_name(x.phase) == name)
            .map_or_else(dash, |x| ms(x.ms).into())
    };
    let tls = c.tls.as_ref();
    vec![
        p.address.to_string().into(),
        p.port.to_string().into(),
        Cell::toned(c.verdict.state.name(), tone(c.verdict.state)),
        c.verdict.reason.clone().into(),
        phase("connect"),
        phase("tls"),
        phase("first_byte"),
        ms(c.total_ms).into(),
        tls.map_or_else(dash, |t| format!("{} {}", t.version, t.cipher_suite).into()),
        tls.and_then(|t| t.alpn.clone()).map_or_else(dash, Cell::from),
        c.http
            .as_ref()
            .and_then(|h| h.status_line.clone())
            .map_or_else(dash, Cell::from),
    ]
}

fn tone(s: SessionState) -> Tone {
    match s {
        SessionState::Ok => Tone::Good,
        SessionState::ExpiresSoon | SessionState::Insecure => Tone::Warn,
        _ => Tone::Bad,
    }
}

/// The lines under the table for one port: hint, chain, HTTP headers, and the bar on a terminal.
fn notes(p: &PortReport, c: &ConnectionReport, bars: bool) -> Vec<String> {
    let at = format!("{}:{}", p.address, p.port);
    let mut out = Vec::new();
    if let Some(h) = &c.verdict.hint {
        out.push(format!("{at}: hint: {h}"));
    }
    if let Some(t) = &c.tls {
        let group = t.kx_group.as_deref().unwrap_or("-");
        let offered = if t.alpn_offered.is_empty() {
            "none".to_string()
        } else {
            t.alpn_offered.join(",")
        };
        out.push(format!(
            "{at}: {} {} group {group}, ALPN offered {offered}, chosen {}, resumed {}",
            t.version,
            t.cipher_suite,
            t.alpn.as_deref().unwrap_or("none"),
            if t.resumed { "yes" } else { "no" }
        ));
    }
    if let Some(v) = &c.verification {
        out.push(format!(
            "{at}: verified against {}: {}; name '{}' {}; OCSP {}",
            v.roots,
            if v.trusted {
                "trusted".to_string()
            } else {
                format!("not trusted ({})", v.chain_error.as_deref().unwrap_or("?"))
            },
            v.hostname,
            if v.hostname_match {
                "matches"
            } else {
                "does not match"
            },
            if v.ocsp_stapled { "stapled" } else { "not stapled" }
        ));
    }
    for (i, cert) in c.chain.iter().enumerate() {
        if let Some(e) = &cert.error {
            out.push(format!("{at}: cert {i}: {e}"));
            continue;
        }
        let names = if cert.names.is_empty() {
            "-".to_string()
        } else {
            cert.names.join(", ")
        };
        out.push(format!(
            "{at}: cert {i}: {} (issuer {}) names {names}; {} .. {} ({} days left); {} {} bits, {}",
            cert.subject,
            cert.issuer,
            cert.not_before_date(),
            cert.not_after_date(),
            cert.days_left,
            cert.key_type,
            cert.key_bits,
            cert.signature
        ));
    }
    if let Some(h) = &c.http {
        let server = h.server.as_deref().unwrap_or("-");
        let mut line = format!("{at}: {} (Host {}): server {server}", h.request, h.host);
        if let Some(l) = &h.location {
            line.push_str(&format!(", redirect to {l}"));
        }
        out.push(line);
    }
    if bars {
        out.extend(bar(&at, c));
    }
    out
}

/// httpstat's picture: phase names over a bar of their durations, then the cumulative time at each tick.
pub fn bar(at: &str, c: &ConnectionReport) -> Vec<String> {
    let cells: Vec<(String, String)> = c.phases.iter().map(|p| (p.phase_name(), ms(p.ms))).collect();
    let widths: Vec<usize> = cells.iter().map(|(n, v)| n.len().max(v.len()) + 2).collect();
    let mut names = String::from("  ");
    let mut values = String::from("[");
    let mut ticks = String::from(" ");
    for ((n, v), w) in cells.iter().zip(&widths) {
        names.push_str(&format!("{n:^w$} "));
        values.push_str(&format!("{v:^w$}|"));
        ticks.push_str(&format!("{:w$}|", ""));
    }
    values.pop();
    values.push(']');
    let mut lines = vec![format!("{at}:"), names.trim_end().to_string(), values, ticks];
    let mut col = 1;
    for (p, w) in c.phases.iter().zip(&widths) {
        col += w + 1;
        lines.push(format!(
            "{:col$}{}:{}",
            "",
            p.phase_name(),
            ms(p.end_ms),
            col = col - 1
        ));
    }
    lines
}

impl super::report::PhaseReport {
    fn phase_name(&self) -> String {
        self.phase.name().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::report::build;
    use crate::probe::report::tests::{settings, target};
    use crate::probe::schedule::{Attempt, Flow, TryResult};
    use crate::probe::tls::session::{Phase, Session, SessionVerdict, TlsFacts};
    use crate::probe::verdict::Evidence;
    use crate::services::ServiceNames;
    use crate::target::Proto;

    fn report(count: u32) -> ProbeReport {
        let session = Session {
            phases: vec![
                (Phase::Lookup, Duration::from_micros(1200)),
                (Phase::Connect, Duration::from_millis(50)),
                (Phase::Tls, Duration::from_millis(51)),
                (Phase::Request, Duration::from_micros(300)),
                (Phase::FirstByte, Duration::from_millis(50)),
                (Phase::Transfer, Duration::from_micros(90)),
            ],
            tls: Some(TlsFacts {
                version: "TLS 1.3".into(),
                cipher_suite: "TLS13_AES_256_GCM_SHA384".into(),
                alpn: Some("http/1.1".into()),
                ..TlsFacts::default()
            }),
            chain: Vec::new(),
            verification: None,
            http: None,
            verdict: SessionVerdict::new(
                SessionState::Expired,
                "certificate 'CN=lab.test' expired on 2025-01-01",
                Some("renew"),
            ),
        };
        let flow = Flow {
            target: 0,
            addr: "198.51.100.7:443".parse().unwrap(),
            proto: Proto::Tcp,
        };
        let attempts: Vec<Attempt> = (0..count)
            .map(|seq| Attempt {
                seq,
                at: Duration::ZERO,
                result: TryResult {
                    rtt: Some(Duration::from_millis(50)),
                    session: Some(Box::new(session.clone())),
                    ..TryResult::bare(Evidence::Connected)
                },
            })
            .collect();
        let mut r = build(
            &[target()],
            &[flow],
            &[attempts],
            &ServiceNames::default(),
            settings(count),
            Duration::from_millis(160),
            false,
        );
        r.sessions = true;
        r.bars = true;
        r
    }

    #[test]
    fn the_session_table_fits_and_names_the_verdict() {
        for count in [1, 5] {
            let view = view(&report(count));
            for width in [60, 80, 200] {
                let text = crate::render::fit_check::assert_fits(&view, width);
                assert!(text.contains("1 port probed in 160 ms: 1 expired"), "{text}");
            }
            assert_eq!(view.sections.len(), if count == 1 { 1 } else { 2 });
        }
    }

    #[test]
    fn the_bar_ticks_are_cumulative() {
        let r = report(1);
        let c = r.targets[0].probes[0].connection.as_ref().unwrap();
        let lines = bar("198.51.100.7:443", c);
        assert!(
            lines[1].contains("lookup") && lines[1].contains("first byte"),
            "{lines:?}"
        );
        assert!(
            lines[2].starts_with("[ ") && lines[2].ends_with(" ]"),
            "{lines:?}"
        );
        assert!(lines[4].trim_start().starts_with("lookup:1.20 ms"), "{lines:?}");
        assert!(lines[6].trim_start().starts_with("tls:102 ms"), "{lines:?}");
        assert!(
            lines.last().unwrap().trim_start().starts_with("transfer:153 ms"),
            "{lines:?}"
        );
    }
}
