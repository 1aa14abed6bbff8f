//! `sockdiag trace` against the TUN-simulated path (root-only): RTTs as the scenario says, slow and
//! rate-limited hops, MPLS labels, hostile reply streams, and the silent-target deadline.

#[macro_use]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::sim::{Hop, Scenario, SimPath, Target};
use support::wait::ms;
use support::{Netns, Run, sockdiag};
/// How far above the scenario's RTT the fastest probe of a hop may be ("within a few ms").
const SLACK_MS: f64 = 5.0;
/// Bound for every single probe: the simulator's user-space timers share 2 busy cores with everything.
const NOISE_MS: f64 = 25.0;

/// Timing tests run one at a time so their simulators do not compete for the CPU.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs sockdiag with `args` in `ns`, as nobody (without supplementary groups) when `as_nobody`.
fn run(ns: &Netns, args: &[&str], as_nobody: bool) -> Run {
    let run = sockdiag(args).in_ns(ns);
    if as_nobody { run.unprivileged() } else { run }.run()
}

/// A JSON trace of the simulated target; returns the exit code and the report.
fn trace(sim: &SimPath<'_>, v6: bool, extra: &[&str], as_nobody: bool) -> (Option<i32>, Value) {
    let target = sim.target_addr(v6).to_string();
    let mut args = vec!["--json", "trace", "-n"];
    args.extend_from_slice(extra);
    args.push(&target);
    let out = run(sim.netns(), &args, as_nobody);
    (out.status.code(), out.json())
}

fn hops(report: &Value) -> &Vec<Value> {
    report["hops"].as_array().unwrap()
}

fn addr_of(hop: &Value) -> Option<&str> {
    hop["addresses"]
        .as_array()
        .unwrap()
        .first()
        .map(|a| a["address"].as_str().unwrap())
}

fn assert_rtt(measured: f64, want: Duration, what: &str) {
    let want = want.as_secs_f64() * 1000.0;
    assert!(
        measured >= want - 0.5 && measured <= want + SLACK_MS,
        "{what}: measured {measured:.3} ms, scenario says {want:.1} ms"
    );
}

/// The hop's fastest RTT is within a few ms of `want` and none is below it or beyond the noise bound.
fn assert_hop_rtts(hop: &Value, want: Duration, what: &str) {
    let rtts: Vec<f64> = hop["rtts_ms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert!(!rtts.is_empty(), "{what}: no RTT");
    let w = want.as_secs_f64() * 1000.0;
    for r in &rtts {
        assert!(
            *r >= w - 0.5 && *r <= w + NOISE_MS,
            "{what}: {r:.3} ms vs {w:.1} ms"
        );
    }
    assert_rtt(rtts.iter().copied().fold(f64::MAX, f64::min), want, what);
}

#[test]
fn rtts_match_the_scenario_v4_and_v6() {
    needs!(lab);
    let _serial = serial();
    let ns = Netns::new();
    let sim = SimPath::start(&ns, Scenario::linear(4, ms(10)).target(Target::echo(ms(60))));
    for v6 in [false, true] {
        let (code, report) = trace(&sim, v6, &[], false);
        assert_eq!(code, Some(0), "{report}");
        let hops = hops(&report);
        assert_eq!(hops.len(), 5, "{report}");
        for (k, hop) in hops.iter().enumerate().take(4) {
            assert_eq!(addr_of(hop), Some(sim.hop_addr(k + 1, v6).to_string().as_str()));
            assert_eq!(hop["received"], 3);
            assert_hop_rtts(hop, ms(10 * (k as u64 + 1)), &format!("hop {}", k + 1));
        }
        assert_eq!(addr_of(&hops[4]), Some(sim.target_addr(v6).to_string().as_str()));
        assert_hop_rtts(&hops[4], ms(60), "target");
        assert_eq!(report["stop"]["reason"], "reached");
        assert_eq!(report["stop"]["hop"], 5);
        // All hops answer: done one target RTT after the last wave, no waiting on anything else.
        let took = report["probing_ms"].as_f64().unwrap();
        assert!((60.0..60.0 + 10.0 + NOISE_MS).contains(&took), "took {took} ms");
    }
}

#[test]
fn slow_hop_is_still_reported() {
    needs!(lab);
    let _serial = serial();
    let ns = Netns::new();
    // Hop 2 answers 150 ms late (a busy control plane, 8x its neighbours); the target in 100 ms.
    let scenario = Scenario::new()
        .hop(Hop::new(ms(10)))
        .hop(Hop::new(ms(20)).slow(ms(150)))
        .hop(Hop::new(ms(30)))
        .target(Target::echo(ms(100)));
    let sim = SimPath::start(&ns, scenario);
    for v6 in [false, true] {
        let (code, report) = trace(&sim, v6, &[], false);
        assert_eq!(code, Some(0), "{report}");
        let slow = &hops(&report)[1];
        assert_eq!(addr_of(slow), Some(sim.hop_addr(2, v6).to_string().as_str()));
        assert_eq!(slow["received"], 3, "{report}");
        assert_rtt(slow["min_ms"].as_f64().unwrap(), ms(170), "slow hop");
        assert_eq!(report["stop"]["hop"], 4);
    }
}

#[test]
fn mpls_labels_appear_raw_and_through_the_ping_socket() {
    needs!(lab);
    let _serial = serial();
    let ns = Netns::new();
    ns.sysctl("net.ipv4.ping_group_range", "65534 65534");
    let scenario = Scenario::new()
        .hop(Hop::new(ms(2)))
        .hop(Hop::new(ms(4)).mpls(&[(16001, 1), (24002, 1)]))
        .hop(Hop::new(ms(6)).mpls(&[(299_792, 254)]))
        .target(Target::echo(ms(8)));
    let sim = SimPath::start(&ns, scenario);
    for as_nobody in [false, true] {
        for v6 in [false, true] {
            let (code, report) = trace(&sim, v6, &[], as_nobody);
            assert_eq!(code, Some(0), "{report}");
            assert_eq!(report["socket"], if as_nobody { "ping" } else { "raw" });
            let hops = hops(&report);
            assert_eq!(hops[0]["mpls"], serde_json::json!([]));
            assert_eq!(
                hops[1]["mpls"],
                serde_json::json!([[
                    {"label": 16001, "tc": 0, "bottom": false, "ttl": 1},
                    {"label": 24002, "tc": 0, "bottom": true, "ttl": 1}
                ]]),
                "nobody={as_nobody} v6={v6}"
            );
            assert_eq!(hops[2]["mpls"][0][0]["label"], 299_792);
            assert_eq!(hops[2]["mpls"][0][0]["ttl"], 254);
        }
    }
    // The table shows them in the NOTE column.
    let target = sim.target_v4().to_string();
    let out = run(&ns, &["trace", "-n", &target], false);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("MPLS L=16001 E=0 S=0 TTL=1 / L=24002 E=0 S=1 TTL=1"),
        "{text}"
    );
}

#[test]
fn duplicated_reordered_foreign_and_garbage_replies_change_nothing() {
    needs!(lab);
    let _serial = serial();
    let base = || Scenario::linear(4, ms(5)).target(Target::echo(ms(25)));
    let clean_ns = Netns::new();
    let clean = SimPath::start(&clean_ns, base());
    let hostile_ns = Netns::new();
    let hostile = SimPath::start(
        &hostile_ns,
        base()
            .duplicate()
            .reorder(ms(15))
            .foreign_errors()
            .garbage()
            .truncate_quote(),
    );
    for v6 in [false, true] {
        let (code_a, a) = trace(&clean, v6, &[], false);
        let (code_b, b) = trace(&hostile, v6, &[], false);
        assert_eq!((code_a, code_b), (Some(0), Some(0)), "{b}");
        assert_eq!(a["stop"]["reason"], b["stop"]["reason"]);
        assert_eq!(a["stop"]["hop"], b["stop"]["hop"]);
        let (ha, hb) = (hops(&a), hops(&b));
        assert_eq!(ha.len(), hb.len());
        for (x, y) in ha.iter().zip(hb) {
            assert_eq!(x["addresses"], y["addresses"], "v6={v6}");
            assert_eq!(x["received"], y["received"]);
            assert_eq!(x["received"], 3);
            assert!(y["mpls"].as_array().unwrap().is_empty());
        }
        // Copies count as duplicates, never as answers; a copy of a reply that ended the trace may
        // arrive after it, so not every probe has one.
        let answered: Vec<&Value> = b["samples"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| !s["from"].is_null())
            .collect();
        assert!(
            answered.iter().all(|s| s["duplicates"].as_u64().unwrap() <= 1),
            "{b}"
        );
        let with_copy = answered.iter().filter(|s| s["duplicates"] == 1).count();
        assert!(
            with_copy * 2 >= answered.len(),
            "{with_copy} of {} saw their copy: {b}",
            answered.len()
        );
        // Foreign errors and garbage were seen, counted and not used.
        assert!(b["other_icmp"].as_u64().unwrap() > 0, "{}", b["other_icmp"]);
        assert_eq!(a["other_icmp"], 0);
        assert_eq!(a["foreign_replies"], 0);
        // Matching is by sequence, so a held-back reply keeps its own probe's RTT: the hop's fastest
        // probe is the scenario's RTT, or that plus the 15 ms hold, within a few ms.
        for (k, hop) in hb.iter().enumerate() {
            let want = 5.0 * (k as f64 + 1.0);
            let rtts: Vec<f64> = hop["rtts_ms"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_f64)
                .collect();
            let best = rtts.iter().copied().fold(f64::MAX, f64::min);
            let near = |w: f64| best >= w - 0.5 && best <= w + SLACK_MS;
            assert!(
                near(want) || near(want + 15.0),
                "hop {}: {rtts:?} vs {want} ms",
                k + 1
            );
            assert!(
                rtts.iter()
                    .all(|r| *r >= want - 0.5 && *r <= want + 15.0 + NOISE_MS),
                "{rtts:?}"
            );
        }
    }
}

#[test]
fn rate_limited_hop_loses_probes_without_holding_the_trace() {
    needs!(lab);
    let _serial = serial();
    let ns = Netns::new();
    // Hop 2 answers only every second probe it sees: the 1st and 3rd of its three.
    let scenario = Scenario::new()
        .hop(Hop::new(ms(5)))
        .hop(Hop::new(ms(10)).every(2))
        .hop(Hop::new(ms(15)))
        .target(Target::echo(ms(20)));
    let sim = SimPath::start(&ns, scenario);
    let (code, report) = trace(&sim, false, &[], false);
    assert_eq!(code, Some(0), "{report}");
    let hop2 = &hops(&report)[1];
    assert_eq!(hop2["sent"], 3);
    assert_eq!(hop2["received"], 2);
    assert_eq!(hop2["loss_pct"], 33.3);
    let rtts = hop2["rtts_ms"].as_array().unwrap();
    assert!(
        rtts[0].is_f64() && rtts[1].is_null() && rtts[2].is_f64(),
        "{hop2}"
    );
    // The lost probe costs one fair wait (the 200 ms floor), not the global deadline.
    let took = report["probing_ms"].as_f64().unwrap();
    assert!((200.0..400.0).contains(&took), "took {took} ms");
}

#[test]
fn silent_target_ends_at_the_deadline() {
    needs!(lab);
    let _serial = serial();
    let ns = Netns::new();
    let mut scenario = Scenario::new();
    for k in 1..=5 {
        scenario = scenario.hop(Hop::new(ms(2 * k)));
    }
    for _ in 6..=12 {
        scenario = scenario.hop(Hop::silent());
    }
    let sim = SimPath::start(&ns, scenario.target(Target::silent()));
    for v6 in [false, true] {
        let (code, report) = trace(&sim, v6, &["--deadline", "800ms"], false);
        assert_eq!(code, Some(1), "{report}");
        assert_eq!(report["stop"]["reason"], "deadline");
        let msg = report["stop"]["message"].as_str().unwrap();
        assert!(msg.contains("no answer from hop 6 on"), "{msg}");
        let took = report["probing_ms"].as_f64().unwrap();
        assert!((800.0..800.0 + NOISE_MS).contains(&took), "took {took} ms");
        // Every TTL up to 30 was probed (all at once), and the five hops that answer are shown.
        assert_eq!(report["probes_sent"], 90);
        let hops = hops(&report);
        assert_eq!(hops.len(), 6);
        assert!(hops[5]["addresses"].as_array().unwrap().is_empty());
        // The simulator saw every probe of every TTL.
        let seen = sim
            .probes()
            .iter()
            .filter(|(_, p)| p.v6 == v6 && (p.protocol == 1 || p.protocol == 58))
            .count();
        assert!(seen >= 90, "simulator saw {seen} probes");
    }
}
