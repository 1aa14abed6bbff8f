//! Report tests: rows, annotations, MPLS, stop lines and JSON samples from hand-built outcomes.

use super::*;
use crate::render::{RenderOptions, Report, write_report};
use crate::trace::engine::ProbeReply;
use crate::trace::prober::Method;
use std::net::Ipv4Addr;

const TARGET: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 50));

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn probe(ttl: u8, query: u8, reply: Option<(IpAddr, ReplyKind, u8, u64)>) -> ProbeRecord {
    let sent = ms(1000 + u64::from(query) * 5);
    ProbeRecord {
        ttl,
        query,
        seq: u16::from(ttl) * 10 + u16::from(query),
        sent_at: Some(sent),
        send_error: None,
        reply: reply.map(|(from, kind, code, rtt)| ProbeReply {
            from,
            at: sent + ms(rtt),
            rtt: ms(rtt),
            kind,
            icmp_type: match kind {
                ReplyKind::EchoReply => 0,
                ReplyKind::TimeExceeded => 11,
                ReplyKind::Unreachable | ReplyKind::PacketTooBig => 3,
                ReplyKind::PortOpen | ReplyKind::PortClosed => 0,
            },
            icmp_code: code,
            mpls: if ttl == 2 {
                vec![MplsLabel {
                    label: 24001,
                    tc: 0,
                    bottom: true,
                    ttl: 1,
                }]
            } else {
                Vec::new()
            },
            late: false,
            from_target: kind == ReplyKind::EchoReply,
            translated: false,
        }),
        duplicates: 0,
        cycle: 0,
        size: None,
    }
}

fn router(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, n))
}

fn settings() -> TraceSettings {
    TraceSettings {
        mtu: false,
        first_ttl: 1,
        max_hops: 30,
        queries: 2,
        max_inflight: None,
        timeout_ms: 1000.0,
        deadline_ms: 1500.0,
        numeric: false,
        interval_ms: 5.0,
        max_rate: None,
        count: 1,
        protocol: Protocol::Icmp,
        port: None,
    }
}

fn context(names: &HashMap<IpAddr, String>) -> ReportInputs<'_> {
    ReportInputs {
        target: "target.example",
        address: TARGET,
        settings: settings(),
        socket: SocketKind::Raw,
        method: Method::RawIcmp,
        flow: "icmp echo, checksum 0x5d5d".into(),
        privilege: Privilege {
            uid: 1000,
            gid: 1000,
            capabilities: 0,
            sudo_user: true,
        },
        names,
        other_icmp: 3,
    }
}

fn build(outcome: &TraceOutcome, names: &HashMap<IpAddr, String>) -> TraceReport {
    TraceReport::build(context(names), outcome)
}

fn plain(report: &TraceReport) -> String {
    let opts = RenderOptions::plain();
    let mut out = Vec::new();
    write_report(report, &opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn unreachable_path_shows_annotation_mpls_silent_hop_and_stop_line() {
    let te = ReplyKind::TimeExceeded;
    let probes = vec![
        probe(1, 0, Some((router(1), te, 0, 10))),
        probe(1, 1, Some((router(1), te, 0, 12))),
        probe(2, 0, Some((router(2), te, 0, 20))),
        probe(2, 1, None),
        probe(3, 0, None),
        probe(3, 1, None),
        probe(4, 0, Some((router(4), ReplyKind::Unreachable, 13, 40))),
        probe(4, 1, Some((router(4), ReplyKind::Unreachable, 13, 41))),
    ];
    let outcome = TraceOutcome {
        probes,
        stop: StopReason::Unreachable { hop: 4, code: 13 },
        started: Some(ms(1000)),
        ended: ms(1300),
        foreign: 2,
        pmtu: Default::default(),
    };
    let mut names = HashMap::new();
    names.insert(router(1), "r1.lab.example".to_string());
    let report = build(&outcome, &names);
    assert!(!report.reached());
    assert_eq!(report.hops.len(), 4);
    assert_eq!(
        report.hops[0].addresses[0].name.as_deref(),
        Some("r1.lab.example")
    );
    assert_eq!(report.hops[1].loss_pct, 50.0);
    assert_eq!(report.hops[1].rtts_ms, vec![Some(20.0), None]);
    assert_eq!(report.hops[3].unreachable[0].annotation, "!X");
    assert_eq!(report.stop.reason, StopKind::Unreachable);
    assert_eq!(report.stop.hop, Some(4));

    let text = plain(&report);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# trace to target.example (203.0.113.50)");
    assert!(
        lines[2].starts_with("1    198.51.100.1  r1.lab.example  10.0 ms  12.0 ms"),
        "{text}"
    );
    assert!(lines[3].contains("MPLS L=24001 E=0 S=1 TTL=1"), "{text}");
    assert!(lines[4].starts_with("3    *"), "{text}");
    assert_eq!(
        lines[4].split_whitespace().take(5).collect::<Vec<_>>(),
        ["3", "*", "-", "*", "*"],
        "{text}"
    );
    assert!(lines[5].contains("!X"), "{text}");
    assert!(
        text.contains("# 5 ICMP messages not meant for this trace were ignored"),
        "{text}"
    );
    assert!(
        text.contains(
            "# stopped by an unreachable at hop 4 in 300 ms: !X (ICMP type 3, code 13) from 198.51.100.4"
        ),
        "{text}"
    );
}

#[test]
fn deadline_report_names_the_silent_tail_and_json_has_samples() {
    let probes: Vec<ProbeRecord> = (1..=30)
        .map(|ttl| {
            let reply = (ttl <= 5).then(|| (router(ttl), ReplyKind::TimeExceeded, 0, u64::from(ttl)));
            probe(ttl, 0, reply)
        })
        .collect();
    let outcome = TraceOutcome {
        probes,
        stop: StopReason::Deadline,
        started: Some(ms(1000)),
        ended: ms(2500),
        foreign: 0,
        pmtu: Default::default(),
    };
    let report = build(&outcome, &HashMap::new());
    // Rows up to the first silent hop after the last answer.
    assert_eq!(report.hops.len(), 6);
    assert_eq!(report.stop.reason, StopKind::Deadline);
    assert!(
        report.stop.message.contains("no answer from hop 6 on"),
        "{}",
        report.stop.message
    );
    assert_eq!(report.probing_ms, 1500.0);

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["samples"].as_array().unwrap().len(), 30);
    assert_eq!(json["samples"][0]["kind"], "time_exceeded");
    assert_eq!(json["samples"][0]["icmp_type"], 11);
    assert_eq!(json["samples"][29]["rtt_ms"], serde_json::Value::Null);
    assert_eq!(json["stop"]["reason"], "deadline");
    assert_eq!(json["privilege"]["uid"], 1000);
}

#[test]
fn deadline_report_says_when_probes_were_never_sent() {
    // --max-inflight 1 on a silent path: hops 1 and 2 were probed, hops 3 to 30 never were.
    let probes: Vec<ProbeRecord> = (1..=30)
        .map(|ttl| {
            let mut p = probe(ttl, 0, None);
            if ttl > 2 {
                p.sent_at = None;
            }
            p
        })
        .collect();
    let outcome = TraceOutcome {
        probes,
        stop: StopReason::Deadline,
        started: Some(ms(1000)),
        ended: ms(2500),
        foreign: 0,
        pmtu: Default::default(),
    };
    let names = HashMap::new();
    let mut ctx = context(&names);
    ctx.settings.max_inflight = Some(1);
    let report = TraceReport::build(ctx, &outcome);
    assert_eq!(
        report.stop.message,
        "deadline: 203.0.113.50 did not answer within 1.50 s; no answer from hop 1 on; 28 of 30 probes \
         were not sent before the deadline with --max-inflight 1"
    );
    assert_eq!(report.probes_sent, 2);
    // The 28 probes that never went out are not samples.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["samples"].as_array().unwrap().len(), 2);
}

#[test]
fn reached_report_is_success() {
    let probes = vec![
        probe(1, 0, Some((router(1), ReplyKind::TimeExceeded, 0, 10))),
        probe(2, 0, Some((TARGET, ReplyKind::EchoReply, 0, 20))),
        probe(3, 0, Some((TARGET, ReplyKind::EchoReply, 0, 20))),
    ];
    let outcome = TraceOutcome {
        probes,
        stop: StopReason::Reached { hop: 2 },
        started: Some(ms(1000)),
        ended: ms(1025),
        foreign: 0,
        pmtu: Default::default(),
    };
    let report = build(&outcome, &HashMap::new());
    assert!(report.reached());
    assert_eq!(report.hops.len(), 2, "hops beyond the target are not rows");
    assert_eq!(report.stop.message, "reached 203.0.113.50 at hop 2 in 25.0 ms");
}

/// A ten-hop path with three probes per hop: v4 routers, a silent hop, an IPv4 target.
fn ten_hops() -> TraceOutcome {
    let te = ReplyKind::TimeExceeded;
    let mut probes = Vec::new();
    for ttl in 1..=10u8 {
        for q in 0..3 {
            let reply = match ttl {
                4 => None,
                10 => Some((TARGET, ReplyKind::EchoReply, 0, 52)),
                _ => Some((router(ttl * 10), te, 0, 100 + u64::from(ttl) * 37 + u64::from(q))),
            };
            probes.push(probe(ttl, q, reply));
        }
    }
    TraceOutcome {
        probes,
        stop: StopReason::Reached { hop: 10 },
        started: Some(ms(1000)),
        ended: ms(1400),
        foreign: 0,
        pmtu: Default::default(),
    }
}

fn table_at(report: &TraceReport, width: usize) -> String {
    let opts = RenderOptions {
        format: crate::render::Format::Table,
        width,
        ..RenderOptions::plain()
    };
    let mut out = Vec::new();
    write_report(report, &opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The shared check (no table line wider than the terminal, no word or number split from its unit), then:
/// every shown cell but NOTE is drawn whole on one line, as one value. Returns the header's column names.
fn assert_fits(report: &TraceReport, text: &str, width: usize) -> Vec<String> {
    assert_eq!(crate::render::fit_check::assert_fits(&report.view(), width), text);
    let header = text.lines().find(|l| l.contains("HOP")).unwrap();
    let shown: Vec<String> = header
        .split(['│', '┆'])
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let section = &report.view().sections[0];
    for row in &section.rows {
        for (i, cell) in row.iter().enumerate() {
            if !shown.contains(&section.columns[i].to_string()) {
                continue;
            }
            // NOTE is free text and may wrap between its words; every other cell is one value.
            let whole = |t: &str| text.lines().any(|l| l.contains(t));
            let ok = if section.columns[i] == "NOTE" {
                cell.text.split_whitespace().all(whole)
            } else {
                whole(&cell.text)
            };
            assert!(ok, "{:?} split in\n{text}", cell.text);
        }
    }
    shown
}

#[test]
fn table_fits_60_80_and_200_columns_and_a_hop_is_one_line_at_80_under_n() {
    let names = HashMap::new();
    let mut ctx = context(&names);
    ctx.settings.queries = 3;
    ctx.settings.numeric = true;
    let numeric = TraceReport::build(ctx, &ten_hops());
    let mut named: HashMap<IpAddr, String> = HashMap::new();
    for ttl in 1..=9u8 {
        named.insert(router(ttl * 10), format!("ae{ttl}.core-router.lab.example"));
    }
    let mut ctx = context(&named);
    ctx.settings.queries = 3;
    let with_names = TraceReport::build(ctx, &ten_hops());
    for report in [&numeric, &with_names] {
        for width in [60, 80, 200] {
            let text = table_at(report, width);
            let shown = assert_fits(report, &text, width);
            assert!(shown.contains(&"RTT1".to_string()), "{text}");
            if width == 200 {
                assert!(!text.contains("left out"), "{text}");
            } else if shown.len() < report.view().sections[0].columns.len() {
                assert!(text.contains("left out to fit"), "{text}");
            }
        }
    }
    // Under -n: no NAME column, and at 80 columns every hop is one line with its three probes (on a path
    // without MPLS labels, whose notes may wrap).
    let mut plain_path = ten_hops();
    for p in &mut plain_path.probes {
        if let Some(r) = p.reply.as_mut() {
            r.mpls.clear();
        }
    }
    let mut ctx = context(&names);
    ctx.settings.queries = 3;
    ctx.settings.numeric = true;
    let numeric = TraceReport::build(ctx, &plain_path);
    let text = table_at(&numeric, 80);
    let shown = assert_fits(&numeric, &text, 80);
    assert!(!shown.contains(&"NAME".to_string()), "{text}");
    for rtt in ["RTT1", "RTT2", "RTT3"] {
        assert!(shown.contains(&rtt.to_string()), "{text}");
    }
    let rows = text
        .lines()
        .filter(|l| l.starts_with('│') && !l.contains("HOP"))
        .count();
    assert_eq!(rows, 10, "one line per hop:\n{text}");
}

#[test]
fn csv_has_one_record_per_hop_with_numbers() {
    let names = HashMap::new();
    let mut ctx = context(&names);
    ctx.settings.queries = 3;
    let report = TraceReport::build(ctx, &ten_hops());
    let opts = RenderOptions {
        format: crate::render::Format::Csv,
        ..RenderOptions::plain()
    };
    let mut out = Vec::new();
    write_report(&report, &opts, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "hop,address,name,rtt1_ms,rtt2_ms,rtt3_ms,sent,received,loss_pct,min_ms,avg_ms,max_ms,stddev_ms,note"
    );
    assert_eq!(lines.len(), 11, "{text}");
    assert_eq!(lines[1], "1,198.51.100.10,,137,138,139,3,3,0,137,138,139,0.816,");
    assert_eq!(lines[4], "4,,,,,,3,0,100,,,,,");
}
