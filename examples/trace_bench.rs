//! Bench driver for bench/trace.sh: builds the simulated paths with the test lab and times
//! `sockdiag trace -n` against `traceroute -I -n` inside the path's namespace (root only).
//!
//! Usage: trace_bench SOCKDIAG_BIN [ROUNDS] [SLOW_ROUNDS]
//! Prints one block per scenario: median wall times, the ratio, and whether both found the same hops.

#[path = "../tests/support/mod.rs"]
#[allow(clippy::all, unreachable_pub)]
mod support;

use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use support::Netns;
use support::sim::{Hop, Scenario, SimPath, Target};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A named path from the issue and the goal it is judged against.
struct Case {
    name: &'static str,
    scenario: Scenario,
    goal: &'static str,
    rounds: usize,
}

fn cases(rounds: usize, slow_rounds: usize) -> Vec<Case> {
    // 8 routers 10 ms apart, the target at 90 ms.
    let path = |silent: Option<usize>| {
        let mut s = Scenario::new();
        for k in 1..=8u64 {
            s = s.hop(if Some(k as usize) == silent {
                Hop::silent()
            } else {
                Hop::new(ms(10 * k))
            });
        }
        s.target(Target::echo(ms(90)))
    };
    let mut silent_target = Scenario::new();
    for k in 1..=5u64 {
        silent_target = silent_target.hop(Hop::new(ms(10 * k)));
    }
    vec![
        Case {
            name: "8 routers 10 ms apart, router 4 silent, target at 90 ms",
            scenario: path(Some(4)),
            goal: "sockdiag <= 0.5x traceroute, same hops",
            rounds,
        },
        Case {
            name: "8 routers 10 ms apart, all answer, target at 90 ms",
            scenario: path(None),
            goal: "sockdiag <= 90 + 60 = 150 ms",
            rounds,
        },
        Case {
            name: "5 routers answer, silent beyond hop 5, 30 max hops",
            scenario: silent_target.target(Target::silent()),
            goal: "sockdiag < 2000 ms (traceroute about 25 s)",
            rounds: slow_rounds,
        },
    ]
}

/// Runs a command inside the namespace (entered directly: no `ip netns exec` in the timing).
fn timed(ns: &Netns, program: &str, args: &[&str]) -> (Duration, String) {
    ns.enter(|| {
        let start = Instant::now();
        let out = Command::new(program).args(args).output().expect("run tool");
        (start.elapsed(), String::from_utf8_lossy(&out.stdout).into_owned())
    })
}

/// (TTL, address) for every hop that answered, from sockdiag's JSON.
fn sockdiag_hops(json: &str) -> Vec<(u64, IpAddr)> {
    let v: serde_json::Value = serde_json::from_str(json).expect("sockdiag JSON");
    v["hops"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|h| {
            let ttl = h["ttl"].as_u64().unwrap_or(0);
            h["addrs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |a| Some((ttl, a["addr"].as_str()?.parse().ok()?)))
        })
        .collect()
}

/// (TTL, address) for every hop that answered, from traceroute's text.
fn traceroute_hops(text: &str) -> Vec<(u64, IpAddr)> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let mut words = line.split_whitespace();
        let Some(ttl) = words.next().and_then(|w| w.parse::<u64>().ok()) else {
            continue;
        };
        let mut seen: Vec<IpAddr> = Vec::new();
        for w in words {
            if let Ok(a) = w.parse::<IpAddr>()
                && !seen.contains(&a)
            {
                seen.push(a);
            }
        }
        out.extend(seen.into_iter().map(|a| (ttl, a)));
    }
    out
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    };
    m.as_secs_f64() * 1000.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args
        .next()
        .expect("usage: trace_bench SOCKDIAG_BIN [ROUNDS] [SLOW_ROUNDS]");
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let slow_rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    if !support::lab_or_skip("trace_bench") {
        std::process::exit(1);
    }
    for case in cases(rounds, slow_rounds) {
        let ns = Netns::new();
        let sim = SimPath::start(&ns, case.scenario.clone());
        let target = sim.target_v4().to_string();
        let sd_args = ["--json", "trace", "-n", target.as_str()];
        let tr_args = ["-I", "-n", target.as_str()];
        // One warm-up run each (page cache, neighbour entries), then interleaved timed runs.
        timed(&ns, &bin, &sd_args);
        let (mut sd, mut tr, mut internal) = (Vec::new(), Vec::new(), Vec::new());
        let (mut sd_hops, mut tr_hops) = (Vec::new(), Vec::new());
        for _ in 0..case.rounds {
            let (t, out) = timed(&ns, &bin, &sd_args);
            sd.push(t);
            let v: serde_json::Value = serde_json::from_str(&out).expect("sockdiag JSON");
            internal.push(Duration::from_secs_f64(
                v["duration_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            ));
            sd_hops = sockdiag_hops(&out);
            let (t, out) = timed(&ns, "traceroute", &tr_args);
            tr.push(t);
            tr_hops = traceroute_hops(&out);
        }
        let (s, t) = (median(sd), median(tr));
        println!("== {}", case.name);
        println!(
            "   sockdiag trace -n:      median {s:8.1} ms wall ({:.1} ms first probe to stop)",
            median(internal)
        );
        println!("   traceroute -I -n:       median {t:8.1} ms wall");
        println!("   ratio sockdiag/traceroute: {:.2}   goal: {}", s / t, case.goal);
        println!(
            "   same hops found: {}   ({} answering hops; {} rounds)",
            if sd_hops == tr_hops { "yes" } else { "NO" },
            sd_hops.len(),
            case.rounds
        );
        if sd_hops != tr_hops {
            println!("   sockdiag:   {sd_hops:?}\n   traceroute: {tr_hops:?}");
        }
    }
}
