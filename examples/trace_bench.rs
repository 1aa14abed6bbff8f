//! Bench driver for bench/trace.sh: builds the issue's simulated paths with the test lab and times
//! `sockdiag trace -n` against `traceroute -I -n` inside the path's namespace (root only); on the paths
//! whose target answers, also `--udp` and `--tcp -p 443` against `traceroute -U`/`-T` and
//! `mtr -r -c 1 --udp/--tcp` (when mtr is installed); and `--mtu` beside a plain trace and `tracepath -n` on
//! kernel routers with a narrower link.
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
use support::topo::Topology;

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
            h["addresses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |a| Some((ttl, a["address"].as_str()?.parse().ok()?)))
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

/// (TTL, address) for every hop that answered, from `mtr -r`'s text (`  3.|-- 203.0.113.3  0.0% ...`).
fn mtr_hops(text: &str) -> Vec<(u64, IpAddr)> {
    text.lines()
        .filter_map(|l| {
            let (ttl, rest) = l.trim().split_once(".|--")?;
            let addr = rest.split_whitespace().next()?.parse().ok()?;
            Some((ttl.parse().ok()?, addr))
        })
        .collect()
}

/// One peer tool run the same way each round: its name as shown, program, arguments, hop parser.
struct Peer<'a> {
    shown: &'a str,
    program: &'a str,
    args: Vec<&'a str>,
    hops: fn(&str) -> Vec<(u64, IpAddr)>,
}

/// Times sockdiag with `sd_extra` against `peer` for `rounds` interleaved rounds and prints the block.
fn compare(
    ns: &Netns,
    bin: &str,
    target: &str,
    sd_extra: &[&str],
    peer: &Peer<'_>,
    rounds: usize,
    goal: &str,
) {
    let mut sd_args = vec!["--json", "trace", "-n"];
    sd_args.extend_from_slice(sd_extra);
    sd_args.push(target);
    // One warm-up run each (page cache, neighbour entries), then interleaved timed runs.
    timed(ns, bin, &sd_args);
    timed(ns, peer.program, &peer.args);
    let (mut sd, mut tr, mut internal) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sd_hops, mut tr_hops) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (t, out) = timed(ns, bin, &sd_args);
        sd.push(t);
        let v: serde_json::Value = serde_json::from_str(&out).expect("sockdiag JSON");
        internal.push(Duration::from_secs_f64(
            v["probing_ms"].as_f64().unwrap_or(0.0) / 1000.0,
        ));
        sd_hops = sockdiag_hops(&out);
        let (t, out) = timed(ns, peer.program, &peer.args);
        tr.push(t);
        tr_hops = (peer.hops)(&out);
    }
    let (s, t) = (median(sd), median(tr));
    let shown = format!("sockdiag trace -n {}", sd_extra.join(" "));
    println!(
        "   {shown:32} median {s:8.1} ms wall ({:.1} ms first probe to stop)",
        median(internal)
    );
    println!("   {:32} median {t:8.1} ms wall", peer.shown);
    println!("   ratio sockdiag/peer: {:.2}   goal: {goal}", s / t);
    println!(
        "   same hops found: {}   ({} answering hops; {rounds} rounds)",
        if sd_hops == tr_hops { "yes" } else { "NO" },
        sd_hops.len()
    );
    if sd_hops != tr_hops {
        println!("   sockdiag: {sd_hops:?}\n   peer:     {tr_hops:?}");
    }
}

/// The path MTU `tracepath -n` found (its `Resume: pmtu N` line), and its hops.
fn tracepath_result(text: &str) -> (Option<u64>, Vec<(u64, IpAddr)>) {
    let pmtu = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Resume: pmtu "))
        .and_then(|r| r.split_whitespace().next()?.parse().ok());
    let mut hops: Vec<(u64, IpAddr)> = text
        .lines()
        .filter_map(|l| {
            let (ttl, rest) = l.trim().split_once(':')?;
            let addr = rest.split_whitespace().next()?.parse().ok()?;
            Some((ttl.trim_end_matches('?').parse().ok()?, addr))
        })
        .collect();
    // tracepath prints a hop again when it retries it smaller.
    hops.dedup();
    (pmtu, hops)
}

/// --mtu on a path whose link after hop 5 of 8 takes 1400 bytes: kernel routers (near-zero RTTs), then
/// the simulated path (10 ms a hop); each beside a plain trace and `tracepath -n`.
fn mtu_cases(bin: &str, rounds: usize) {
    let topo = Topology::builder().routers(8).no_standard_ports().build();
    topo.router(5).ip(&["link", "set", "dev", "next", "mtu", "1400"]);
    topo.router(6).ip(&["link", "set", "dev", "prev", "mtu", "1400"]);
    let target = topo.target_v4().to_string();
    println!(
        "== --mtu: kernel routers, 8 hops, MTU 1500 then 1400 after hop 5, target at hop 9 (near-zero RTTs)"
    );
    mtu_compare(topo.client(), bin, &target, rounds);
    let ns = Netns::new();
    let mut scenario = Scenario::new();
    for k in 1..=8u64 {
        let hop = Hop::new(ms(10 * k));
        scenario = scenario.hop(if k == 5 { hop.narrow(1400) } else { hop });
    }
    let sim = SimPath::start(&ns, scenario.target(Target::echo(ms(90))));
    let target = sim.target_v4().to_string();
    println!("== --mtu: 8 routers 10 ms apart, MTU 1400 after hop 5, target at 90 ms (simulated)");
    mtu_compare(&ns, bin, &target, rounds);
}

/// Times `sockdiag trace -n --mtu`, a plain trace and `tracepath -n` to `t` in `ns`, and prints the block.
fn mtu_compare(ns: &Netns, bin: &str, t: &str, rounds: usize) {
    let mtu_args = ["--json", "trace", "-n", "--mtu", t];
    let plain_args = ["--json", "trace", "-n", t];
    timed(ns, bin, &mtu_args);
    timed(ns, "tracepath", &["-n", t]);
    let (mut with, mut plain, mut peer) = (Vec::new(), Vec::new(), Vec::new());
    let (mut found, mut peer_found) = (None, (None, Vec::new()));
    for _ in 0..rounds {
        let (d, out) = timed(ns, bin, &mtu_args);
        with.push(d);
        let v: serde_json::Value = serde_json::from_str(&out).expect("sockdiag JSON");
        found = Some((
            v["pmtu"]["path_mtu"].as_u64(),
            v["pmtu"]["drops"][0]["hop"].as_u64(),
        ));
        plain.push(timed(ns, bin, &plain_args).0);
        let (d, out) = timed(ns, "tracepath", &["-n", t]);
        peer.push(d);
        peer_found = tracepath_result(&out);
    }
    let (w, p, tp) = (median(with), median(plain), median(peer));
    println!("   {:32} median {w:8.1} ms wall", "sockdiag trace -n --mtu");
    println!("   {:32} median {p:8.1} ms wall", "sockdiag trace -n");
    println!("   {:32} median {tp:8.1} ms wall", "tracepath -n");
    println!(
        "   --mtu costs {:+.1} ms over a plain trace   goal: within 200 ms; ratio --mtu/tracepath {:.2}",
        w - p,
        w / tp
    );
    let (mtu, hop) = found.unwrap_or((None, None));
    println!(
        "   path MTU: sockdiag {mtu:?} (drop at hop {hop:?}), tracepath {:?}; same: {}   ({rounds} rounds)",
        peer_found.0,
        if mtu.is_some() && mtu == peer_found.0 {
            "yes"
        } else {
            "NO"
        }
    );
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
    let mtr = Command::new("mtr").arg("--version").output().is_ok();
    if Command::new("tracepath").arg("-V").output().is_ok() {
        mtu_cases(&bin, rounds);
    } else {
        println!("== --mtu: tracepath not installed (apt-get install iputils-tracepath)");
    }
    for case in cases(rounds, slow_rounds) {
        let ns = Netns::new();
        let sim = SimPath::start(&ns, case.scenario.clone());
        let target = sim.target_v4().to_string();
        let t = target.as_str();
        println!("== {}", case.name);
        let icmp = Peer {
            shown: "traceroute -I -n",
            program: "traceroute",
            args: vec!["-I", "-n", t],
            hops: traceroute_hops,
        };
        compare(&ns, &bin, t, &[], &icmp, case.rounds, case.goal);
        if case.scenario.target.silent {
            continue;
        }
        // The protocols of issue 12, on the same path (the simulated target answers UDP with port
        // unreachable and TCP/443 with SYN-ACK).
        let udp = Peer {
            shown: "traceroute -U -p 33434 -n",
            program: "traceroute",
            args: vec!["-U", "-p", "33434", "-n", t],
            hops: traceroute_hops,
        };
        compare(
            &ns,
            &bin,
            t,
            &["--udp"],
            &udp,
            case.rounds,
            "<= 0.6x traceroute -U, same hops",
        );
        let tcp = Peer {
            shown: "traceroute -T -p 443 -n",
            program: "traceroute",
            args: vec!["-T", "-p", "443", "-n", t],
            hops: traceroute_hops,
        };
        compare(
            &ns,
            &bin,
            t,
            &["--tcp", "-p", "443"],
            &tcp,
            case.rounds,
            "<= 0.6x traceroute -T, same hops",
        );
        if mtr {
            let few = case.rounds.min(5);
            let mtr_udp = Peer {
                shown: "mtr -r -c 1 -n --udp -P 33434",
                program: "mtr",
                args: vec!["-r", "-c", "1", "-n", "--udp", "-P", "33434", t],
                hops: mtr_hops,
            };
            compare(
                &ns,
                &bin,
                t,
                &["--udp"],
                &mtr_udp,
                few,
                "faster than mtr -c 1, same hops",
            );
            let mtr_tcp = Peer {
                shown: "mtr -r -c 1 -n --tcp -P 443",
                program: "mtr",
                args: vec!["-r", "-c", "1", "-n", "--tcp", "-P", "443", t],
                hops: mtr_hops,
            };
            compare(
                &ns,
                &bin,
                t,
                &["--tcp", "-p", "443"],
                &mtr_tcp,
                few,
                "faster than mtr -c 1, same hops",
            );
        } else {
            println!("   (mtr not installed: scripts/lab-deps installs mtr-tiny)");
        }
    }
}
