//! Benchmark (not a test): `sockdiag probe` against `nmap -sT -Pn` on the same lab targets, in one run.
//!
//! Run through `bench/probe.sh` (root: it builds network namespaces). Cases:
//! 1. ports 1-1000 on the simulated path, 5 hops and 50 ms away, every port closed (RST) but one
//!    filtered (its answers dropped by nftables);
//! 2. all 65,535 TCP ports of the routed lab's target (one router away);
//! 3. all 65,535 TCP ports of loopback inside a fresh namespace (nothing else listening there).
//!
//! Each case runs both tools `BENCH_RUNS` times (default 5), alternating, checks that they found the
//! same states, and prints medians, the ratio and ports per second.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::Output;
use std::time::{Duration, Instant};

use support::netns::Netns;
use support::sim::{Scenario, SimPath, Target};
use support::topo::Topology;

const BIN: &str = env!("CARGO_BIN_EXE_sockdiag");
const LIMIT: Duration = Duration::from_secs(300);

/// States per tool, in nmap's words (sockdiag's `unreachable` is nmap's `filtered`).
type States = BTreeMap<String, u64>;

fn main() {
    if !support::privilege::is_root() {
        eprintln!("SKIP bench probe: needs root for network namespaces");
        return;
    }
    if !support::privilege::have_tool("nmap") {
        eprintln!("SKIP bench probe: needs nmap (apt-get install nmap)");
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    println!("sockdiag probe vs nmap -sT -Pn, {runs} runs each, medians of wall time");

    // Case 1: the simulated path, 5 hops, 50 ms, one filtered port among 1000.
    let ns = Netns::new();
    let scenario = Scenario::linear(5, Duration::from_micros(8_333))
        .target(Target::echo(Duration::from_millis(50)).rst());
    let sim = SimPath::start(&ns, scenario);
    let target = sim.target_v4().to_string();
    ns.nft(&format!(
        "table inet bench {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n  \
         ip saddr {target} tcp sport 80 drop\n }}\n}}\n"
    ));
    compare(
        &ns,
        "1000 ports, 5 hops, 50 ms, 1 filtered",
        &target,
        "1-1000",
        runs,
    );
    drop(sim);
    drop(ns);

    // Case 2: every port of a routed lab host.
    let topo = Topology::builder().routers(1).build();
    compare(
        topo.client(),
        "65535 ports, lab host 1 router away",
        &topo.target_v4().to_string(),
        "1-65535",
        runs,
    );
    drop(topo);

    // Case 3: every port of loopback in a namespace of its own.
    let ns = Netns::new();
    let _listener = ns.spawn(
        "socat",
        &["TCP-LISTEN:4242,bind=127.0.0.1,reuseaddr,fork", "PIPE"],
    );
    support::wait::until("loopback listener", Duration::from_secs(10), || {
        String::from_utf8_lossy(&ns.run("ss", &["-Hltn"]).stdout).contains(":4242")
    });
    compare(&ns, "65535 ports, loopback", "127.0.0.1", "1-65535", runs);
}

/// Runs both tools `runs` times on one target and prints the figures.
fn compare(ns: &Netns, what: &str, target: &str, ports: &str, runs: usize) {
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut states: Option<(States, States)> = None;
    for _ in 0..runs {
        let (t, out) = timed(ns, BIN, &["--json", "probe", target, "-p", ports]);
        let s_ours = sockdiag_states(&out);
        ours.push(t);
        let (t, out) = timed(ns, "nmap", &["-sT", "-Pn", "-n", "-p", ports, "-oG", "-", target]);
        let s_nmap = nmap_states(&out);
        theirs.push(t);
        if s_ours != s_nmap {
            panic!("{what}: states differ: sockdiag {s_ours:?}, nmap {s_nmap:?}");
        }
        states = Some((s_ours, s_nmap));
    }
    let count: u64 = states.as_ref().map_or(0, |(s, _)| s.values().sum());
    let (m_ours, m_theirs) = (median(&mut ours), median(&mut theirs));
    println!("\n{what}: {target} ports {ports}");
    println!(
        "  states (both tools): {:?}",
        states.map(|(s, _)| s).unwrap_or_default()
    );
    println!(
        "  sockdiag: median {:.3} s ({:.0} ports/s), runs {}",
        m_ours,
        count as f64 / m_ours,
        fmt_runs(&ours)
    );
    println!(
        "  nmap:     median {:.3} s ({:.0} ports/s), runs {}",
        m_theirs,
        count as f64 / m_theirs,
        fmt_runs(&theirs)
    );
    println!("  ratio sockdiag/nmap: {:.2}x", m_ours / m_theirs);
}

fn timed(ns: &Netns, program: &str, args: &[&str]) -> (f64, Output) {
    let start = Instant::now();
    let out = ns.run_timeout(program, args, LIMIT);
    (start.elapsed().as_secs_f64(), out)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn fmt_runs(v: &[f64]) -> String {
    v.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(" ")
}

/// sockdiag's state counts, `unreachable` counted as nmap's `filtered`.
fn sockdiag_states(out: &Output) -> States {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("sockdiag gave no JSON ({e}): {}", support::cmd::text(out)));
    let mut states = States::new();
    for (state, n) in report["summary"]["states"].as_object().expect("states") {
        let name = if state == "unreachable" {
            "filtered"
        } else {
            state.as_str()
        };
        *states.entry(name.to_string()).or_default() += n.as_u64().unwrap_or(0);
    }
    states
}

/// nmap's state counts from its grepable output (`Ports:` entries and `Ignored State: closed (N)`).
fn nmap_states(out: &Output) -> States {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut states = States::new();
    for line in text.lines().filter(|l| l.contains("Ports:")) {
        for field in line.split('\t') {
            if let Some(list) = field.strip_prefix("Ports: ") {
                for entry in list.split(", ").filter(|e| !e.trim().is_empty()) {
                    let state = entry.split('/').nth(1).unwrap_or("?");
                    *states.entry(state.to_string()).or_default() += 1;
                }
            }
            if let Some(ignored) = field.strip_prefix("Ignored State: ") {
                // "closed (999)"
                let (state, n) = ignored.split_once(" (").unwrap_or((ignored, "0)"));
                let n: u64 = n.trim_end_matches(')').parse().unwrap_or(0);
                *states.entry(state.to_string()).or_default() += n;
            }
        }
    }
    if states.is_empty() {
        panic!("no states in nmap's output: {}", support::cmd::text(out));
    }
    states
}
