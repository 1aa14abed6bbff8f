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
    let target = sim.target_v4().to_string();
    let mut args = vec!["--json", "trace", "-n"];
    args.extend_from_slice(extra);
    args.push(&target);
    let out = sockdiag(&args).in_ns(sim.netns()).run();
    let json = out.json();
    support::schema::assert_valid("trace", &json);
    (out.status.code(), json)
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
