//! Benchmark (not a test): `sockdiag probe` against `nmap -sT -Pn` on the same lab targets, in one run.
//!
//! Run through `bench/probe.sh` (root: it builds network namespaces). Cases:
//! 1. ports 1-1000 on the simulated path, 5 hops and 50 ms away, every port closed (RST) but one
//!    filtered (its answers dropped by nftables);
//! 2. all 65,535 TCP ports of the routed lab's target (one router away);
//! 3. all 65,535 TCP ports of loopback inside a fresh namespace (nothing else listening there);
//! 4. a host with Linux's default ICMP rate limit that rejects 3000-3999 with admin-prohibited: 10 and 100 of
//!    those ports, counting the verdicts each tool gets right (rejected, with the ICMP reason) and its time.
//!
//! 5. speed at scale: a /24 on one port, and ports 1-1000 on 16 hosts (a lab host answering for a whole
//!    /24 through a local route), beside `nmap -sT -Pn -n`.
//!
//! `BENCH_ONLY=ratelimit` or `BENCH_ONLY=scale` runs case 4 or 5 alone; `BENCH_ONLY=scale-hosts` and
//! `BENCH_ONLY=scale-ports` run only the /24 or only the 1,000 ports on 16 hosts.
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
    match std::env::var("BENCH_ONLY").as_deref() {
        Ok("ratelimit") => return rate_limited(),
        Ok("scale") => return at_scale(runs, true, true),
        Ok("scale-hosts") => return at_scale(runs, true, false),
        Ok("scale-ports") => return at_scale(runs, false, true),
        _ => {}
    }
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
    drop(ns);
    rate_limited();
    at_scale(runs, true, true);
}

/// Case 5: many hosts. The target answers for all of 203.0.113.0/24 (a local route in its namespace, so the
/// kernel itself answers: RST, or the echo listener on 8001), one router-free link away.
fn at_scale(runs: usize, hosts: bool, ports: bool) {
    let topo = Topology::builder().build();
    topo.target()
        .ip(&["route", "add", "local", "203.0.113.0/24", "dev", "lo"]);
    let via = topo.target_v4().to_string();
    topo.client().ip(&["route", "add", "203.0.113.0/24", "via", &via]);
    if hosts {
        compare(
            topo.client(),
            "a /24 on one port (open)",
            "203.0.113.0/24",
            "8001",
            runs,
        );
    }
    if ports {
        compare(
            topo.client(),
            "ports 1-1000 on 16 hosts",
            "203.0.113.1-16",
            "1-1000",
            runs,
        );
    }
}

/// Case 4: ICMP rate limiting. Each run gets a fresh lab so no run starts with the host's ICMP budget spent.
fn rate_limited() {
    println!("\nICMP rate limit (Linux defaults), ports rejected with admin-prohibited; one run each");
    for ports in ["3000-3009", "3000-3099"] {
        let (first, last) = ports.split_once('-').unwrap();
        let total: u64 = last.parse::<u64>().unwrap() - first.parse::<u64>().unwrap() + 1;
        for tool in ["sockdiag", "nmap"] {
            let topo = Topology::builder()
                .no_standard_ports()
                .icmp_ratelimit(true)
                .build();
            topo.target().nft(
                "table inet rl {\n chain input { type filter hook input priority 0; policy accept;\n\
                 tcp dport 3000-3999 reject with icmpx type admin-prohibited\n }\n}\n",
            );
            let target = topo.target_v4().to_string();
            let (t, right, honest) = if tool == "sockdiag" {
                let (t, out) = timed(topo.client(), BIN, &["--json", "probe", &target, "-p", ports]);
                let (right, unknown) = sockdiag_rejected(&out);
                (
                    t,
                    right,
                    format!("{unknown} unknown (rate limit named), 0 plain filtered"),
                )
            } else {
                let args = ["-sT", "-Pn", "-n", "--reason", "-p", ports, "-oX", "-", &target];
                let (t, out) = timed(topo.client(), "nmap", &args);
                let (right, silent, reasons) = nmap_rejected(&out);
                (
                    t,
                    right,
                    format!("{silent} filtered with no-response (reasons {reasons:?})"),
                )
            };
            println!("  {ports} {tool:8}: {right} of {total} right (rejected by ICMP), {honest}, {t:.2} s");
        }
    }
}

/// sockdiag: ports found rejected with admin-prohibited, and ports left unknown.
fn sockdiag_rejected(out: &Output) -> (u64, u64) {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("sockdiag gave no JSON ({e}): {}", support::cmd::text(out)));
    let mut right = 0;
    let mut unknown = 0;
    for p in report["targets"][0]["probes"].as_array().expect("probes") {
        let reason = p["reason"].as_str().unwrap_or_default();
        match p["state"].as_str() {
            Some("unreachable") if reason.contains("administratively prohibited") => right += 1,
            Some("unknown") => unknown += 1,
            _ => {}
        }
    }
    (right, unknown)
}

/// nmap (XML with --reason): ports whose reason names the ICMP rejection (nmap's words for ICMP unreachables,
/// `admin-prohibited`, `host-unreach`, ...), ports filtered for no response, and every reason with its count.
fn nmap_rejected(out: &Output) -> (u64, u64, BTreeMap<String, u64>) {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut reasons = BTreeMap::<String, u64>::new();
    for port in text.split("<port ").skip(1) {
        if let Some(r) = port.split("reason=\"").nth(1).and_then(|r| r.split('"').next()) {
            *reasons.entry(r.to_string()).or_default() += 1;
        }
    }
    // nmap folds many same-state ports into <extraports>; its <extrareasons> give their counts.
    for e in text.split("<extrareasons ").skip(1) {
        let field = |name: &str| e.split(&format!("{name}=\"")).nth(1)?.split('"').next();
        let count: u64 = field("count").and_then(|c| c.parse().ok()).unwrap_or(0);
        if let Some(r) = field("reason") {
            *reasons.entry(r.to_string()).or_default() += count;
        }
    }
    let silent = reasons
        .iter()
        .filter(|(r, _)| r.starts_with("no-response"))
        .map(|(_, n)| n)
        .sum();
    let rejected = reasons
        .iter()
        .filter(|(r, _)| r.contains("prohibited") || r.contains("unreach"))
        .map(|(_, n)| n)
        .sum();
    (rejected, silent, reasons)
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
        // Printed, not fatal: on a loaded lab nmap may call a few answering ports filtered (seen on the /24).
        if s_ours != s_nmap {
            println!("  {what}: states differ: sockdiag {s_ours:?}, nmap {s_nmap:?}");
        }
        states = Some((s_ours, s_nmap));
    }
    let count: u64 = states.as_ref().map_or(0, |(s, _)| s.values().sum());
    let (m_ours, m_theirs) = (median(&mut ours), median(&mut theirs));
    println!("\n{what}: {target} ports {ports}");
    // The last run's verdicts of each tool: the same unless a "states differ" line above says otherwise.
    let (s_ours, s_nmap) = states.unwrap_or_default();
    println!("  states (last run): sockdiag {s_ours:?}, nmap {s_nmap:?}");
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
