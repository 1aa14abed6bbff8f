//! `sockdiag trace` pacing on the simulated path (root-only): a router rate-limited like Linux is named
//! as such and not blamed, -i spaces the probes to one hop, --max-rate caps the overall rate.

use crate::support;

use serde_json::Value;
use support::Netns;
use support::sim::{Hop, Scenario, SimPath, Target};
use support::sockdiag;
use support::wait::ms;

/// A JSON trace of the simulated IPv4 target with `extra` flags.
fn trace(sim: &SimPath<'_>, extra: &[&str]) -> (Option<i32>, Value) {
    crate::trace_protocols::trace(sim, false, extra, false)
}

/// A path whose second router limits its ICMP errors as Linux does (a burst of 6, then 1 a second).
fn rate_limited_path(ns: &Netns) -> SimPath<'_> {
    let scenario = Scenario::new()
        .hop(Hop::new(ms(2)))
        .hop(Hop::new(ms(3)).linux_rate_limit())
        .hop(Hop::new(ms(4)))
        .target(Target::echo(ms(5)));
    SimPath::start(ns, scenario)
}

#[test]
fn a_linux_rate_limited_router_is_named_and_not_blamed() {
    needs!(lab);
    let ns = Netns::new();
    let sim = rate_limited_path(&ns);
    let (code, report) = trace(&sim, &["-q", "10"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["stop"]["reason"], "reached");
    assert_eq!(report["stop"]["hop"], 4);
    let hops = report["hops"].as_array().unwrap();
    // Ten probes within 50 ms: the burst of 6 answered, the other 4 not.
    assert_eq!(hops[1]["received"], 6, "{}", hops[1]);
    assert_eq!(hops[1]["loss_pct"], 40.0);
    assert_eq!(hops[1]["rate_limited"], true, "{}", hops[1]);
    for i in [0, 2, 3] {
        assert_eq!(hops[i]["received"], 10, "{}", hops[i]);
        assert_eq!(hops[i]["rate_limited"], false);
    }
    // The table says so in the loss column (on a fresh path: this router's bucket is empty now).
    let ns = Netns::new();
    let sim = rate_limited_path(&ns);
    let target = sim.target_v4().to_string();
    let out = sockdiag(&["trace", "-n", "-q", "10", &target])
        .in_ns(&ns)
        .env("COLUMNS", "200")
        .exits(0);
    let row = out
        .stdout()
        .lines()
        .find(|l| l.starts_with("2 "))
        .unwrap_or_default()
        .to_string();
    assert!(row.contains("40% (rate-limited?)"), "{out}");
}

#[test]
fn with_one_probe_a_second_to_each_hop_the_limited_router_loses_nothing() {
    needs!(lab);
    let ns = Netns::new();
    let sim = rate_limited_path(&ns);
    let (code, report) = trace(&sim, &["-q", "10", "-i", "1s"]);
    assert_eq!(code, Some(0), "{report}");
    let hop2 = &report["hops"][1];
    assert_eq!(hop2["received"], 10, "{hop2}");
    assert_eq!(hop2["loss_pct"], 0.0);
    assert_eq!(hop2["rate_limited"], false);
    assert_eq!(report["settings"]["interval_ms"], 1000.0);
    // The waves went out a second apart.
    let sent: Vec<f64> = report["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ttl"] == 2)
        .map(|s| s["sent_ms"].as_f64().unwrap())
        .collect();
    assert_eq!(sent.len(), 10);
    for pair in sent.windows(2) {
        assert!(pair[1] - pair[0] >= 999.0, "{sent:?}");
    }
}

#[test]
fn max_rate_spaces_every_probe() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, Scenario::linear(3, ms(2)));
    let (code, report) = trace(&sim, &["--max-rate", "50", "-m", "6"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["settings"]["max_rate"], 50);
    let mut sent: Vec<f64> = report["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sent_ms"].as_f64().unwrap())
        .collect();
    sent.sort_by(f64::total_cmp);
    assert!(sent.len() >= 12, "{report}");
    // 50 a second: the n-th probe no sooner than n x 20 ms after the first.
    for (n, t) in sent.iter().enumerate() {
        assert!(*t >= n as f64 * 20.0 - 0.5, "probe {n} at {t} ms: {sent:?}");
    }
}

/// An 8-hop simulated path (7 routers and the target).
fn eight_hops(ns: &Netns) -> SimPath<'_> {
    SimPath::start(ns, Scenario::linear(7, ms(1)))
}

#[test]
fn cycles_cover_count_times_queries_probes_per_hop_started_an_interval_apart() {
    needs!(lab);
    let ns = Netns::new();
    let sim = eight_hops(&ns);
    let (code, report) = trace(&sim, &["-c", "5", "-i", "200ms"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["cycles"], 5);
    assert_eq!(report["settings"]["count"], 5);
    let hops = report["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 8, "{report}");
    for h in hops {
        assert_eq!(h["sent"], 15, "{h}");
        assert_eq!(h["received"], 15, "{h}");
        assert!(h["last_ms"].is_f64(), "{h}");
    }
    // Cycle k's first probe went out no sooner than k x 200 ms after the first.
    for s in report["samples"].as_array().unwrap() {
        let k = s["cycle"].as_f64().unwrap();
        assert!(s["sent_ms"].as_f64().unwrap() >= k * 200.0 - 0.5, "{s}");
    }
}

#[test]
fn cycles_stream_one_ndjson_line_or_one_plain_line_each() {
    needs!(lab);
    let ns = Netns::new();
    let sim = eight_hops(&ns);
    let target = sim.target_v4().to_string();
    let out = sockdiag(&[
        "--format", "ndjson", "trace", "-n", "-c", "3", "-i", "100ms", &target,
    ])
    .in_ns(&ns)
    .exits(0);
    let lines: Vec<Value> = out
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (k, line) in lines[..3].iter().enumerate() {
        support::schema::assert_valid("trace-line", line);
        assert_eq!(line["event"], "cycle");
        assert_eq!(line["cycle"], k + 1);
        assert_eq!(line["hop"], 8, "{line}");
        assert_eq!(line["hops"].as_array().unwrap().len(), 8);
    }
    support::schema::assert_valid("trace", &lines[3]);
    assert_eq!(lines[3]["cycles"], 3);
    // Piped, plain: one comment line per cycle, then the table with mtr's columns.
    let out = sockdiag(&["trace", "-n", "-c", "2", "-i", "100ms", &target])
        .in_ns(&ns)
        .exits(0);
    let text = out.stdout();
    assert!(
        text.contains("# cycle 1: reached at hop 8, 24 of 24 probes answered"),
        "{out}"
    );
    assert!(text.contains("# cycle 2: reached at hop 8"), "{out}");
    let header = text.lines().find(|l| l.starts_with("HOP")).unwrap_or_default();
    for col in ["LOSS", "SNT", "LAST", "AVG"] {
        assert!(header.contains(col), "{out}");
    }
}

#[test]
fn count_zero_runs_until_ctrl_c_or_the_deadline() {
    needs!(lab);
    let ns = Netns::new();
    let sim = eight_hops(&ns);
    let target = sim.target_v4().to_string();
    // Until the deadline: ends by itself, with the cycles it ran.
    let out = sockdiag(&[
        "--json",
        "trace",
        "-n",
        "-c",
        "0",
        "-i",
        "100ms",
        "--deadline",
        "450ms",
        &target,
    ])
    .in_ns(&ns)
    .exits(0);
    let report = out.json();
    let cycles = report["cycles"].as_u64().unwrap();
    assert!(
        (2..=5).contains(&cycles),
        "{cycles} cycles in 450 ms at 100 ms apart"
    );
    // Until Ctrl-C: the report so far, exit 130.
    let before = sim.probes().len();
    let child = sockdiag(&["--json", "trace", "-n", "-c", "0", "-i", "100ms", &target])
        .in_ns(&ns)
        .spawn();
    let pid = child.pid();
    // Every cycle sends at least 8 x 3 probes (and the TTLs past the target in its first wave).
    support::wait::until("a few cycles", std::time::Duration::from_secs(10), || {
        crate::trace_hostile::catches_sigint(pid) && sim.probes().len() > before + 100
    });
    child.signal(libc::SIGINT);
    let out = child.wait(std::time::Duration::from_secs(10));
    assert_eq!(out.code(), 130, "{out}");
    let report = out.json();
    support::schema::assert_valid("trace", &report);
    assert_eq!(report["stop"]["reason"], "interrupted");
    assert!(report["cycles"].as_u64().unwrap() >= 2, "{report}");
    // The rows end at the target, whatever the last cycle had done when it was stopped.
    assert_eq!(report["hops"].as_array().unwrap().len(), 8, "{report}");
}

#[test]
fn on_a_terminal_the_table_is_redrawn_after_each_cycle() {
    needs!(lab, "script");
    let ns = Netns::new();
    let sim = SimPath::start(&ns, Scenario::linear(2, ms(1)));
    let line = format!(
        "{} trace -n -c 3 -i 100ms {}",
        support::binary::BIN,
        sim.target_v4()
    );
    // `script` gives the run a terminal; its output is what the terminal got.
    let out = ns
        .command("script")
        .args(["-qec", &line, "/dev/null"])
        .env("LC_ALL", "C")
        .env("COLUMNS", "150")
        .output()
        .expect("run script");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // Drawn after cycles 1, 2 and 3, each redraw moving back over the last (cursor up, clear below),
    // and the last one removed before the final table.
    let redraws = text.matches("A\u{1b}[J").count();
    assert_eq!(redraws, 3, "{text:?}");
    assert_eq!(text.matches("trace to ").count(), 4, "{text:?}");
    assert!(text.contains("SNT"), "{text}");
}
