//! `sockdiag trace` against forged and odd input on the simulated path (root-only) and on the command
//! line: bad-checksum replies, a --first-ttl beyond the target, the unspecified addresses, Ctrl-C.

use crate::support;
use crate::trace_protocols::trace;

use std::time::Duration;

use serde_json::Value;
use support::binary::NOBODY;
use support::sim::scenario::{FORGED_V4, FORGED_V6};
use support::sim::{Scenario, SimPath, Target};
use support::wait::ms;
use support::{Netns, Run, sockdiag};

/// Lets nobody open ping sockets inside `ns` (IPv6 follows the same range).
fn allow_ping_sockets(ns: &Netns) {
    ns.sysctl("net.ipv4.ping_group_range", &format!("{NOBODY} {NOBODY}"));
}

/// Every address listed at a hop, in TTL order.
fn hop_addrs(report: &Value) -> Vec<Vec<String>> {
    report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            h["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["address"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn forged_replies_with_bad_checksums_are_ignored_raw_and_ping_v4_and_v6() {
    needs!(lab);
    let ns = Netns::new();
    // Every probe a router answers also draws a forged, bad-checksum answer from the target that arrives
    // first, and every probe that reaches the target a forged Time Exceeded from 203.0.113.77.
    allow_ping_sockets(&ns);
    let sim = SimPath::start(&ns, Scenario::linear(3, ms(4)).bad_checksums());
    for v6 in [false, true] {
        for as_nobody in [false, true] {
            let what = format!("v6={v6} ping={as_nobody}");
            let (code, report) = trace(&sim, v6, &[], as_nobody);
            assert_eq!(code, Some(0), "{what}: {report}");
            assert_eq!(report["socket"], if as_nobody { "ping" } else { "raw" }, "{what}");
            assert_eq!(report["stop"]["reason"], "reached", "{what}");
            assert_eq!(report["stop"]["hop"], 4, "{what}: {report}");
            let want: Vec<Vec<String>> = (1..=3)
                .map(|k| vec![sim.hop_addr(k, v6).to_string()])
                .chain([vec![sim.target_addr(v6).to_string()]])
                .collect();
            assert_eq!(hop_addrs(&report), want, "{what}");
            let forged = if v6 {
                FORGED_V6.to_string()
            } else {
                FORGED_V4.to_string()
            };
            assert!(!report.to_string().contains(&forged), "{what}: {report}");
            for h in report["hops"].as_array().unwrap() {
                assert_eq!(h["received"], 3, "{what}: {h}");
            }
        }
    }
}

#[test]
fn a_first_ttl_beyond_the_target_says_it_is_at_most_that_far() {
    needs!(lab);
    let ns = Netns::new();
    // The target is 4 hops away (3 routers).
    let sim = SimPath::start(&ns, Scenario::linear(3, ms(2)));
    for v6 in [false, true] {
        let (code, report) = trace(&sim, v6, &["--first-ttl", "6"], false);
        assert_eq!(code, Some(0), "{report}");
        let stop = &report["stop"];
        assert_eq!(stop["reason"], "reached");
        assert_eq!(stop["at_most"], true, "{stop}");
        let msg = stop["message"].as_str().unwrap();
        assert!(!msg.contains("at hop 6"), "{msg}");
        assert!(
            msg.contains("answered the first TTL probed (6), so it is at most 6 hops away"),
            "{msg}"
        );
        // A first TTL short of the target still finds its exact distance.
        let (code, report) = trace(&sim, v6, &["--first-ttl", "2"], false);
        assert_eq!(code, Some(0), "{report}");
        assert_eq!(report["stop"]["hop"], 4);
        assert_eq!(report["stop"]["at_most"], false);
        let msg = report["stop"]["message"].as_str().unwrap();
        assert!(msg.contains("at hop 4"), "{msg}");
    }
    // The table says it too.
    let target = sim.target_v4().to_string();
    let out = sockdiag(&["trace", "-n", "--first-ttl", "5", &target])
        .in_ns(&ns)
        .exits(0);
    assert!(out.stdout().contains("so it is at most 5 hops away"), "{out}");
}

#[test]
fn the_unspecified_addresses_are_usage_errors() {
    for host in ["0.0.0.0", "::"] {
        let out = sockdiag(&["trace", host]).exits(2);
        let err = out.stderr();
        assert_eq!(err.lines().count(), 1, "{out}");
        assert!(err.contains("unspecified address"), "{out}");
        assert!(err.contains("127.0.0.1") || err.contains("::1"), "{out}");
        assert!(
            err.contains("for this machine (see 'sockdiag trace --help')"),
            "{out}"
        );
        assert!(out.stdout().is_empty(), "{out}");
    }
}

#[test]
fn a_name_for_the_unspecified_address_is_a_usage_error() {
    needs!(lab);
    let ns = Netns::new();
    // '0' is a host name to getaddrinfo, which reads it as 0.0.0.0 (inet_aton's rules).
    let out = sockdiag(&["trace", "-4", "0"]).in_ns(&ns).exits(2);
    assert!(
        out.stderr().contains("'0' is the unspecified address 0.0.0.0"),
        "{out}"
    );
}

/// Whether process `pid` catches SIGINT (its handler is installed), from /proc.
pub fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (libc::SIGINT - 1)) != 0)
}

/// Starts a trace of the silent target in `sim`, waits until the routers have been probed and the
/// handler is in place, presses Ctrl-C, and returns the run.
fn interrupted(sim: &SimPath<'_>, v6: bool, as_nobody: bool, format: &str) -> Run {
    let target = sim.target_addr(v6).to_string();
    let args = [
        "--format",
        format,
        "trace",
        "-n",
        "--deadline",
        "60s",
        "-w",
        "60s",
        &target,
    ];
    let run = sockdiag(&args).in_ns(sim.netns());
    let child = if as_nobody { run.unprivileged() } else { run }.spawn();
    let pid = child.pid();
    support::wait::until("trace to probe and catch SIGINT", Duration::from_secs(10), || {
        catches_sigint(pid) && sim.probes().len() >= 9
    });
    // The routers' answers (a few ms) are in before the signal.
    std::thread::sleep(ms(200));
    child.signal(libc::SIGINT);
    child.wait(Duration::from_secs(10))
}

#[test]
fn ctrl_c_prints_what_was_measured_and_exits_130() {
    needs!(lab);
    let ns = Netns::new();
    // The target never answers: without Ctrl-C the trace would wait for its 60 s deadline.
    allow_ping_sockets(&ns);
    let sim = SimPath::start(&ns, Scenario::linear(3, ms(2)).target(Target::silent()));
    for (v6, as_nobody) in [(false, false), (true, false), (false, true)] {
        let out = interrupted(&sim, v6, as_nobody, "json");
        assert_eq!(out.code(), 130, "{out}");
        let report = out.json();
        support::schema::assert_valid("trace", &report);
        let stop = &report["stop"];
        assert_eq!(stop["reason"], "interrupted", "{stop}");
        let msg = stop["message"].as_str().unwrap();
        assert!(msg.starts_with("interrupted (Ctrl-C) after "), "{msg}");
        assert!(
            msg.contains("probes answered") && msg.contains("not sent"),
            "{msg}"
        );
        let addrs = hop_addrs(&report);
        for k in 1..=3 {
            assert_eq!(addrs[k - 1], vec![sim.hop_addr(k, v6).to_string()], "{report}");
        }
        // Stopped by the signal, not by the 60 s deadline.
        assert!(report["probing_ms"].as_f64().unwrap() < 30_000.0);
    }
    // The table form prints its stop line too.
    let out = interrupted(&sim, false, false, "plain");
    assert_eq!(out.code(), 130, "{out}");
    assert!(out.stdout().contains("interrupted (Ctrl-C)"), "{out}");
    assert!(
        out.stdout().contains(&sim.hop_addr(3, false).to_string()),
        "{out}"
    );
}
