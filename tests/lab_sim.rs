//! Self-checks of the simulated path: ping and traceroute in the client see what the scenario says.

use crate::support;

use std::time::Duration;

use support::sim::{Hop, Scenario, SimPath, Target};
use support::wait::ms;
use support::{Netns, cmd};

/// Scheduling slack allowed above a scenario's RTT (behaviour checks, not benchmarks).
const SLACK_MS: f64 = 20.0;
/// Measurements are repeated this often when a busy machine delayed the tool itself.
const ATTEMPTS: usize = 3;

/// Checks one RTT: faster than the scenario is a lab bug (panics); slower than the slack is
/// noise from a loaded machine, reported as `Err` so the caller can measure again.
fn check_rtt(measured: f64, want: Duration, what: &str) -> Result<(), String> {
    let want = want.as_secs_f64() * 1000.0;
    assert!(
        measured >= want - 0.5,
        "{what}: {measured:.3} ms is faster than the scenario's {want:.1} ms"
    );
    if measured <= want + SLACK_MS {
        Ok(())
    } else {
        Err(format!(
            "{what}: measured {measured:.3} ms, scenario says {want:.1} ms"
        ))
    }
}

/// Runs `measure` until it reports no slow RTT, at most [`ATTEMPTS`] times.
fn with_retries(mut measure: impl FnMut() -> Result<(), String>) {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        match measure() {
            Ok(()) => return,
            Err(e) => last = e,
        }
    }
    panic!("RTT off in all {ATTEMPTS} attempts; last: {last}");
}

/// Every `time=X ms` in ping output.
fn ping_times(out: &str) -> Vec<f64> {
    out.split("time=")
        .skip(1)
        .filter_map(|s| s.split_whitespace().next()?.parse().ok())
        .collect()
}

fn fam(v6: bool) -> &'static str {
    if v6 { "-6" } else { "-4" }
}

/// traceroute lines as (hop number, first address or "*", extension text, fastest rtt in ms).
fn trace(ns: &Netns, args: &[&str]) -> Vec<(usize, String, String, Option<f64>)> {
    let out = ns.run("traceroute", args);
    let text = cmd::text(&out);
    assert!(out.status.success(), "traceroute {args:?}: {text}");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let n = f.next()?.parse().ok()?;
            let rest: Vec<&str> = f.collect();
            // The first address on the line: with several probes a lost one prints `*` before it.
            let addr = rest
                .iter()
                .find(|w| w.parse::<std::net::IpAddr>().is_ok())
                .map_or("*", |w| w)
                .to_string();
            let ext = rest
                .iter()
                .filter(|w| w.starts_with('<'))
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            // The fastest of the probes: scheduling noise only ever adds time.
            let rtt = rest
                .windows(2)
                .filter(|w| w[1] == "ms")
                .filter_map(|w| w[0].parse::<f64>().ok())
                .reduce(f64::min);
            Some((n, addr, ext, rtt))
        })
        .collect()
}

#[test]
fn ping_rtt_to_the_target_matches_the_scenario() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, Scenario::linear(2, ms(10)).target(Target::echo(ms(60))));
    for v6 in [false, true] {
        let dst = sim.target_addr(v6).to_string();
        with_retries(|| {
            let out = ns.run("ping", &[fam(v6), "-n", "-c3", "-i0.05", "-W2", &dst]);
            let text = cmd::text(&out);
            assert_eq!(out.status.code(), Some(0), "{text}");
            let times = ping_times(&text);
            assert_eq!(times.len(), 3, "{text}");
            for t in &times {
                assert!(*t >= 59.5, "never faster than the scenario: {text}");
            }
            // The fastest of three: scheduling noise on a loaded machine only ever adds time.
            let best = times.iter().copied().fold(f64::MAX, f64::min);
            check_rtt(best, ms(60), &format!("ping target: {text}"))
        });
        let out = ns.run("ping", &[fam(v6), "-n", "-c1", "-W2", "-t", "2", &dst]);
        assert!(
            cmd::text(&out).contains(&format!("From {} icmp_seq=1", sim.hop_addr(2, v6))),
            "{}",
            cmd::text(&out)
        );
    }
    assert!(sim.probes().iter().any(|(_, p)| p.ttl == 2), "probes are logged");
}

#[test]
fn traceroute_sees_hops_rtts_silence_slowness_and_mpls() {
    needs!(lab, "traceroute");
    let ns = Netns::new();
    let scenario = Scenario::new()
        .hop(Hop::new(ms(10)))
        .hop(Hop::silent())
        .hop(Hop::new(ms(20)).slow(ms(40)).mpls(&[(16001, 1), (17002, 2)]))
        .target(Target::echo(ms(30)));
    let sim = SimPath::start(&ns, scenario);
    for v6 in [false, true] {
        let dst = sim.target_addr(v6).to_string();
        for mode in ["-I", "-U", "-T"] {
            with_retries(|| {
                let args = [fam(v6), mode, "-n", "-e", "-q3", "-w1,3,3", "-m6", &dst];
                let hops = trace(&ns, &args);
                let what = format!("v6={v6} {mode}: {hops:?}");
                assert_eq!(hops.len(), 4, "{what}");
                assert_eq!(hops[0].1, sim.hop_addr(1, v6).to_string(), "{what}");
                assert_eq!(hops[1].1, "*", "silent hop: {what}");
                assert_eq!(hops[2].1, sim.hop_addr(3, v6).to_string(), "{what}");
                let mpls = "<MPLS:L=16001,E=0,S=0,T=1/L=17002,E=0,S=1,T=2>";
                assert_eq!(hops[2].2, mpls, "{what}");
                assert_eq!(hops[3].1, dst, "{what}");
                let rtt = |i: usize| hops[i].3.unwrap_or_else(|| panic!("rtt of line {i}: {what}"));
                check_rtt(rtt(0), ms(10), &what)?;
                check_rtt(rtt(2), ms(60), &format!("slow hop {what}"))?;
                check_rtt(rtt(3), ms(30), &what)
            });
        }
    }
}

#[test]
fn rate_limited_hop_answers_every_kth_probe() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(
        &ns,
        Scenario::new()
            .hop(Hop::new(ms(2)).every(3))
            .target(Target::echo(ms(2))),
    );
    let out = ns.run(
        "ping",
        &["-n", "-c6", "-i0.02", "-W1", "-t1", &sim.target_v4().to_string()],
    );
    let text = cmd::text(&out);
    let answered: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Time to live exceeded"))
        .collect();
    assert_eq!(answered.len(), 2, "probes 1 and 4 of 6: {text}");
    assert!(
        answered[0].contains("icmp_seq=1 ") && answered[1].contains("icmp_seq=4 "),
        "{text}"
    );
}

#[test]
fn target_answers_tcp_and_udp_or_stays_silent() {
    needs!(lab);
    let ns = Netns::new();
    let open = SimPath::start(&ns, Scenario::new().target(Target::echo(ms(5))));
    let nc = |dst: String, port: &str| cmd::text(&ns.run("nc", &["-n", "-z", "-v", "-w1", &dst, port]));
    for v6 in [false, true] {
        let out = nc(open.target_addr(v6).to_string(), "443");
        assert!(out.contains("succeeded"), "SYN-ACK: {out}");
        let host = if v6 {
            format!("[{}]", open.target_v6())
        } else {
            open.target_v4().to_string()
        };
        let out = ns.run("bash", &["-c", &format!("echo x | socat -T1 - UDP:{host}:53000")]);
        assert!(
            cmd::text(&out).contains("Connection refused"),
            "port unreachable: {}",
            cmd::text(&out)
        );
    }
    drop(open);
    let closed = SimPath::start(&ns, Scenario::new().target(Target::echo(ms(5)).rst()));
    let out = nc(closed.target_v4().to_string(), "443");
    assert!(out.contains("Connection refused"), "RST: {out}");
    drop(closed);
    let silent = SimPath::start(&ns, Scenario::new().target(Target::silent()));
    let out = ns.run("ping", &["-n", "-c1", "-W1", &silent.target_v4().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", cmd::text(&out));
    let out = nc(silent.target_v4().to_string(), "443");
    assert!(out.contains("timed out"), "{out}");
}

#[test]
fn duplicated_and_reordered_replies_reach_ping() {
    needs!(lab);
    let ns = Netns::new();
    let dup = SimPath::start(&ns, Scenario::new().target(Target::echo(ms(5))).duplicate());
    let out = ns.run(
        "ping",
        &["-n", "-c2", "-i0.05", "-W1", &dup.target_v4().to_string()],
    );
    let text = cmd::text(&out);
    // ping exits on the last awaited reply, so only the first probe's duplicate is sure to be seen.
    assert!(
        text.lines()
            .any(|l| l.contains("icmp_seq=1 ") && l.ends_with("(DUP!)")),
        "{text}"
    );
    drop(dup);
    // Odd-numbered replies are held 120 ms: reply 1 (due at 125 ms) arrives after reply 2 (55 ms).
    // With -w, -c counts replies: ping stops after two, whatever else it has sent meanwhile.
    let re = SimPath::start(&ns, Scenario::new().target(Target::echo(ms(5))).reorder(ms(120)));
    let out = ns.run(
        "ping",
        &["-n", "-c2", "-i0.05", "-w3", &re.target_v4().to_string()],
    );
    let text = cmd::text(&out);
    let order: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("icmp_seq=").nth(1)?.split(' ').next())
        .collect();
    assert_eq!(order, ["2", "1"], "{text}");
}

#[test]
fn truncated_quotes_foreign_errors_and_garbage_do_not_confuse_tools() {
    needs!(lab, "traceroute");
    let ns = Netns::new();
    let scenario = Scenario::linear(2, ms(5))
        .truncate_quote()
        .foreign_errors()
        .garbage();
    let sim = SimPath::start(&ns, scenario);
    for v6 in [false, true] {
        let dst = sim.target_addr(v6).to_string();
        ns.run_ok("nstat", &["-n"]);
        let out = ns.run("ping", &[fam(v6), "-n", "-c2", "-i0.05", "-W1", &dst]);
        let text = cmd::text(&out);
        assert!(text.contains("2 received") && !text.contains("DUP"), "{text}");
        let counters = ns.run_ok("nstat", &["-a"]);
        let unknown = if v6 { "Icmp6InType200 " } else { "IcmpMsgInType42 " };
        assert!(
            counters.contains(unknown),
            "garbage ICMP reached the client: {counters}"
        );
        for mode in ["-I", "-U"] {
            // Three probes a hop: one lost to scheduling on a loaded machine must not fail the check.
            let hops = trace(&ns, &[fam(v6), mode, "-n", "-q3", "-w1", "-m4", &dst]);
            let addrs: Vec<&str> = hops.iter().map(|h| h.1.as_str()).collect();
            let want = [
                sim.hop_addr(1, v6).to_string(),
                sim.hop_addr(2, v6).to_string(),
                dst.clone(),
            ];
            assert_eq!(addrs, want, "v6={v6} {mode}: {hops:?}");
        }
    }
}

#[test]
fn simulated_hops_have_names_in_the_lab_zone() {
    needs!(lab, "traceroute");
    let ns = Netns::new();
    let scenario = Scenario::linear(1, ms(2));
    let _dns = support::dns::DnsServer::start_in(&ns, &[scenario.add_names(support::dns::lab_zone())]);
    let sim = SimPath::start(&ns, scenario);
    let text = cmd::text(&ns.run("traceroute", &["-I", "-q1", "-w1", &sim.target_v4().to_string()]));
    assert!(
        text.contains(&format!("sim-hop1.lab.test ({})", sim.hop_addr(1, false))),
        "{text}"
    );
    assert!(
        text.contains(&format!("sim-target.lab.test ({})", sim.target_v4())),
        "{text}"
    );
}
