//! Bench driver for bench/multipath.sh: builds issue 13's simulated paths with the test lab and runs
//! scamper's MDA traceroute (`tracelb`) and `sockdiag trace --multipath` on them inside the path's
//! namespace (root only): wall time, probes the path received (counted by the simulator, the same way
//! for both tools) and interfaces found, against the interfaces the scenario has.
//!
//! Usage: multipath_bench SOCKDIAG_BIN [ROUNDS] [SCAMPER_DEFAULT_ROUNDS]
//! Prints one block per path and family: median wall time, median probes, interfaces found (and in how
//! many rounds all of them), and the ratios the issue judges.

#[path = "../tests/support/mod.rs"]
#[allow(clippy::all, unreachable_pub, dead_code)]
mod support;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use support::Netns;
use support::sim::{Hop, Scenario, SimPath, Target};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A named path from the issue.
struct Case {
    name: &'static str,
    scenario: Scenario,
}

fn cases() -> Vec<Case> {
    // Routers 10 ms apart: 1, then 2 behind a per-flow balancer, then 4, converging at 4; target at 50 ms.
    let diamond = Scenario::new()
        .hop(Hop::new(ms(10)))
        .hop(Hop::new(ms(20)).balanced(2))
        .hop(Hop::new(ms(30)).balanced(4))
        .hop(Hop::new(ms(40)))
        .target(Target::echo(ms(50)));
    vec![
        Case {
            name: "2-way balancer at hop 2, 4-way at hop 3, converging at hop 4, target at 50 ms",
            scenario: diamond,
        },
        Case {
            name: "no balancer: 4 routers 10 ms apart, target at 50 ms",
            scenario: Scenario::linear(4, ms(10)),
        },
    ]
}

/// Every interface the scenario's routers answer from, in the family of `v6`.
fn expected(s: &Scenario, v6: bool) -> BTreeSet<IpAddr> {
    s.hops
        .iter()
        .flat_map(|h| {
            if h.branches.is_empty() {
                h.addr(v6).into_iter().collect::<Vec<_>>()
            } else {
                h.branches
                    .iter()
                    .map(|(a4, a6)| if v6 { IpAddr::V6(*a6) } else { IpAddr::V4(*a4) })
                    .collect()
            }
        })
        .collect()
}

/// Every IP address string anywhere in a JSON document (format-agnostic: scamper's and sockdiag's).
fn json_addrs(v: &serde_json::Value, out: &mut BTreeSet<IpAddr>) {
    match v {
        serde_json::Value::String(s) => {
            if let Ok(a) = s.parse() {
                out.insert(a);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_addrs(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| json_addrs(x, out)),
        _ => {}
    }
}

/// The router interfaces in a tool's output: every address in it but the target's and ours.
fn interfaces(stdout: &str, target: IpAddr, v6: bool) -> BTreeSet<IpAddr> {
    let mut all = BTreeSet::new();
    // sockdiag prints one (indented) document, scamper one object a line.
    match serde_json::from_str::<serde_json::Value>(stdout) {
        Ok(v) => json_addrs(&v, &mut all),
        Err(_) => stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .for_each(|v| json_addrs(&v, &mut all)),
    }
    let client: IpAddr = if v6 {
        support::addr::SIM_CLIENT_V6.into()
    } else {
        support::addr::SIM_CLIENT_V4.into()
    };
    all.retain(|a| *a != target && *a != client && a.is_ipv6() == v6);
    all
}

/// One tool run the same way each round.
struct Tool {
    shown: String,
    program: String,
    args: Vec<String>,
}

/// What one round measured.
struct Round {
    wall: Duration,
    probes: usize,
    found: BTreeSet<IpAddr>,
}

/// Runs `tool` once in the path's namespace: wall time, probes the path received meanwhile, interfaces.
fn run(sim: &SimPath<'_>, tool: &Tool, v6: bool) -> Round {
    let before = sim.probes().len();
    let (wall, out) = sim.netns().enter(|| {
        let start = Instant::now();
        let out = Command::new(&tool.program)
            .args(&tool.args)
            .output()
            .expect("run tool");
        if std::env::var_os("MULTIPATH_BENCH_SHOW").is_some() {
            println!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            println!(
                "      {} failed: {}",
                tool.program,
                err.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
            );
        }
        (start.elapsed(), String::from_utf8_lossy(&out.stdout).into_owned())
    });
    // Late replies are scheduled, but every probe was received before the tool exited. This host's own
    // RST to a SYN-ACK (TCP, default TTL 64) is not a probe: probes go no further than 30 hops.
    let probes = sim.probes()[before..].iter().filter(|(_, p)| p.ttl <= 30).count();
    Round {
        wall,
        probes,
        found: interfaces(&out, sim.target_addr(v6), v6),
    }
}

fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

/// The median figures of `rounds` runs of `tool`, printed as one line; returns (wall ms, probes).
fn measure(sim: &SimPath<'_>, tool: &Tool, v6: bool, rounds: usize) -> (f64, usize) {
    if rounds == 0 {
        return (0.0, 0);
    }
    let want = expected(sim.scenario(), v6);
    let runs: Vec<Round> = (0..rounds).map(|_| run(sim, tool, v6)).collect();
    let complete = runs.iter().filter(|r| r.found == want).count();
    let union: BTreeSet<IpAddr> = runs.iter().flat_map(|r| r.found.clone()).collect();
    let wall = median(runs.iter().map(|r| r.wall).collect()).as_secs_f64() * 1000.0;
    let probes = median(runs.iter().map(|r| r.probes).collect());
    let found = median(runs.iter().map(|r| r.found.len()).collect());
    println!(
        "   {:44} median {wall:9.1} ms wall, {probes:4} probes, {found}/{} interfaces (all in {complete}/{rounds} runs)",
        tool.shown,
        want.len()
    );
    let extra: Vec<&IpAddr> = union.difference(&want).collect();
    if !extra.is_empty() {
        println!("      addresses not in the scenario: {extra:?}");
    }
    (wall, probes)
}

fn scamper(shown: &str, global: &[&str], tracelb: &str, target: IpAddr) -> Tool {
    let mut args: Vec<String> = global.iter().map(|s| s.to_string()).collect();
    args.extend([
        "-O".into(),
        "json".into(),
        "-I".into(),
        format!("{tracelb} {target}"),
    ]);
    Tool {
        shown: shown.to_string(),
        program: "scamper".into(),
        args,
    }
}

/// Whether this sockdiag build has `trace --multipath` (issue 13, built on another branch).
fn has_multipath(bin: &str) -> bool {
    Command::new(bin)
        .args(["trace", "--help"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--multipath"))
}

/// Rounds and binaries of one bench run.
struct Plan {
    bin: String,
    rounds: usize,
    slow_rounds: usize,
    multipath: bool,
}

/// The probe protocols both tools are compared on: (shown, scamper's tracelb -P method, sockdiag's flag).
/// scamper varies TCP's source port, sockdiag the destination port: either changes the flow.
const PROTOCOLS: [(&str, &str, &str); 3] = [
    ("UDP", "udp-dport", "--udp"),
    ("ICMP", "icmp-echo", "--icmp"),
    ("TCP", "tcp-sport", "--tcp"),
];

/// scamper (as fast as it goes, and as installed for UDP) then sockdiag, with one probe method, on one
/// family of the running path; prints the block.
fn compare(sim: &SimPath<'_>, plan: &Plan, v6: bool, (shown, method, proto): (&str, &str, &str)) {
    let target = sim.target_addr(v6);
    let udp = shown == "UDP";
    // -W 15 (150 ms between probes) is the least tracelb accepts; -w 1: a 1 s reply timeout.
    let fast = scamper(
        &format!("scamper -p 10000 tracelb -P {method} -W 15 -w 1"),
        &["-p", "10000"],
        &format!("tracelb -P {method} -W 15 -w 1"),
        target,
    );
    let (peer_wall, peer_probes) = measure(sim, &fast, v6, plan.rounds);
    if udp {
        // As installed: 20 probes/s, 250 ms between probes.
        let default = scamper(
            &format!("scamper tracelb -P {method} (defaults)"),
            &[],
            &format!("tracelb -P {method}"),
            target,
        );
        measure(sim, &default, v6, plan.slow_rounds);
    }
    if !plan.multipath {
        println!("   sockdiag trace --multipath: not in this build (the flag comes with branch mp)");
        return;
    }
    let t = target.to_string();
    let sd = Tool {
        shown: format!("sockdiag trace -n {proto} HOST --multipath"),
        program: plan.bin.clone(),
        // --multipath takes an optional confidence: it goes after the host.
        args: ["--json", "trace", "-n", proto, &t, "--multipath"]
            .map(String::from)
            .to_vec(),
    };
    let (wall, probes) = measure(sim, &sd, v6, plan.rounds);
    if peer_probes == 0 {
        // Seen with tcp-sport and tcp-ack-sport: scamper reports probec 0 on the TUN path, and its plain
        // TCP trace finds no hop there either (why is not known; its TCP probes may need a datalink the
        // TUN device lacks), so there is no ratio.
        println!("   sockdiag/fast scamper: no ratio, scamper sent no probe on this path");
        return;
    }
    println!(
        "   sockdiag/fast scamper: wall {:.2} (goal <= 0.2), probes {:.2} (goal <= 1.0)",
        wall / peer_wall,
        probes as f64 / peer_probes.max(1) as f64
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args
        .next()
        .expect("usage: multipath_bench SOCKDIAG_BIN [ROUNDS] [SCAMPER_DEFAULT_ROUNDS]");
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let slow_rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    if !support::lab_or_skip("multipath_bench") {
        std::process::exit(1);
    }
    let plan = Plan {
        multipath: has_multipath(&bin),
        bin,
        rounds,
        slow_rounds,
    };
    for case in cases() {
        let ns = Netns::new();
        let sim = SimPath::start(&ns, case.scenario.clone());
        // For trying a tool by hand: `ip netns exec NAME ...` while the path stays up (bounded).
        if let Some(secs) = std::env::var("MULTIPATH_BENCH_HOLD")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        {
            println!("holding {} for {secs} s", ns.name());
            std::thread::sleep(Duration::from_secs(secs.min(600)));
            return;
        }
        for v6 in [false, true] {
            for protocol in PROTOCOLS {
                println!("== {} (IPv{}, {})", case.name, if v6 { 6 } else { 4 }, protocol.0);
                compare(&sim, &plan, v6, protocol);
            }
        }
    }
}
