//! `sockdiag trace --multipath` on the simulated path (root-only): every branch of per-flow balancers,
//! one interface per hop and the k=1 probe count without them, per-packet balancing named as such, the
//! probe budget said to end the search, and the usage errors.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support;

use serde_json::Value;
use support::dns::{DnsServer, Zone};
use support::sim::{Hop, Scenario, SimPath, Target};
use support::topo::Topology;
use support::wait::ms;
use support::{Netns, sockdiag};

/// A JSON multipath trace of the simulated target with `extra` flags, as nobody when `as_nobody`.
fn multipath(sim: &SimPath<'_>, v6: bool, extra: &[&str], as_nobody: bool) -> (Option<i32>, Value) {
    let target = sim.target_addr(v6).to_string();
    let mut args = vec!["--json", "trace", "-n", "--multipath=95"];
    args.extend_from_slice(extra);
    args.push(&target);
    let run = sockdiag(&args).in_ns(sim.netns());
    let out = if as_nobody { run.unprivileged() } else { run }.run();
    let json = out.json();
    support::schema::assert_valid("trace-multipath", &json);
    (out.status.code(), json)
}

/// The addresses found at `hop`.
fn found(report: &Value, hop: u64) -> BTreeSet<String> {
    report["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["hop"] == hop)
        .map(|n| n["address"].as_str().unwrap().to_string())
        .collect()
}

/// The addresses the simulated hop `k` (1-based) answers from.
fn branches(sim: &SimPath<'_>, k: usize, v6: bool) -> BTreeSet<String> {
    let hop = sim.scenario().hop_at(k);
    if hop.branches.is_empty() {
        return BTreeSet::from([sim.hop_addr(k, v6).to_string()]);
    }
    hop.branches
        .iter()
        .map(|(a4, a6)| if v6 { a6.to_string() } else { a4.to_string() })
        .collect()
}

/// One router, then `middle` (hop 2), then one more router, then the target.
fn around(middle: Hop) -> Scenario {
    Scenario::new()
        .hop(Hop::new(ms(2)))
        .hop(middle)
        .hop(Hop::new(ms(4)))
        .target(Target::echo(ms(5)))
}

/// One router, then a 2-way per-flow balancer, then a 4-way one, then the target.
fn two_then_four() -> Scenario {
    Scenario::new()
        .hop(Hop::new(ms(2)))
        .hop(Hop::new(ms(3)).balanced(2))
        .hop(Hop::new(ms(4)).balanced(4))
        .target(Target::echo(ms(5)))
}

fn allow_ping_sockets(ns: &Netns) {
    ns.sysctl(
        "net.ipv4.ping_group_range",
        &format!("{} {}", support::binary::NOBODY, support::binary::NOBODY),
    );
}

/// Whether one run found all 2 + 4 interfaces, ended by the rule, reached the target.
fn found_all(sim: &SimPath<'_>, v6: bool, flags: &[&str], as_nobody: bool) -> (bool, Value) {
    let (code, r) = multipath(sim, v6, flags, as_nobody);
    let ok = code == Some(0)
        && found(&r, 2) == branches(sim, 2, v6)
        && found(&r, 3) == branches(sim, 3, v6)
        && found(&r, 1) == branches(sim, 1, v6)
        && r["stop"] == "rule"
        && r["confidence_reached"] == true;
    (ok, r)
}

#[test]
fn multipath_finds_every_branch_of_a_two_way_then_four_way_balancer() {
    needs!(lab);
    let ns = Netns::new();
    allow_ping_sockets(&ns);
    let sim = SimPath::start(&ns, two_then_four());
    let runs: [(&[&str], bool, &str); 4] = [
        (&[], false, "raw_icmp"),
        (&["--udp"], false, "udp_raw_icmp"),
        (&[], true, "ping_socket"),
        (&["--udp"], true, "udp_error_queue"),
    ];
    for v6 in [false, true] {
        for (flags, as_nobody, method) in runs {
            let what = format!("{flags:?} v6={v6} nobody={as_nobody}");
            let (r, received) = found_within_tries(&sim, v6, flags, as_nobody, &what);
            assert_eq!(r["method"], method, "{what}");
            let hops = r["graph"]["hops"].as_array().unwrap();
            assert_eq!(hops[1]["balancing"], "per_flow", "{what}");
            assert_eq!(hops[2]["balancing"], "per_flow", "{what}");
            assert_eq!(hops[0]["balancing"], "none", "{what}");
            // One diamond: split at hop 1, four wide, joined at the target.
            let d = &r["graph"]["diamonds"].as_array().unwrap()[..];
            assert_eq!(d.len(), 1, "{what}: {r}");
            assert_eq!(d[0]["width"], 4, "{what}");
            let nodes = r["graph"]["nodes"].as_array().unwrap();
            let join = d[0]["join"].as_u64().unwrap() as usize;
            assert_eq!(nodes[join]["address"], sim.target_addr(v6).to_string(), "{what}");
            // Hop-level counting: 1 at hop 1; at hop 3 n(4) at 97.5 % (two balanced hops share the
            // 5 %) = 24 distinct flows, the same 24 at hop 2, five re-sends at each; 1 at the target.
            // The simulator received exactly those. (An answer slower than its fair wait, on a loaded
            // machine, counts as lost and is replaced by one more flow: then one more probe per loss.)
            let lost: u64 = hops.iter().map(|h| h["lost"].as_u64().unwrap()).sum();
            let probes: Vec<u64> = hops.iter().map(|h| h["probes"].as_u64().unwrap()).collect();
            if lost == 0 {
                assert_eq!(probes, [1, 29, 29, 1], "{what}");
            }
            let sent = r["probes_sent"].as_u64().unwrap();
            assert!((60..=60 + lost).contains(&sent), "{what}: {r}");
            assert_eq!(
                received as u64, sent,
                "{what}: the simulator received another number: {r}"
            );
        }
    }
    // MDA's node control finds them too, with more probes (each hop-2 interface counts its own).
    let (r, received) = found_within_tries(&sim, false, &["--per-node"], false, "--per-node");
    assert!(received > 60, "{r}");
}

#[test]
fn multipath_over_raw_tcp_finds_every_branch_and_without_privilege_says_what_it_needs() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, two_then_four());
    for v6 in [false, true] {
        let what = format!("--tcp v6={v6}");
        // Flows differ by destination port from 80; the target's SYN-ACK (or a router's error quoting
        // the SYN) names the probe.
        let (r, received) = found_within_tries(&sim, v6, &["--tcp"], false, &what);
        assert_eq!(r["method"], "tcp_raw", "{what}");
        assert_eq!(r["flows"], "tcp destination port 80 + flow", "{what}");
        let hops = r["graph"]["hops"].as_array().unwrap();
        assert_eq!(hops[1]["balancing"], "per_flow", "{what}");
        assert_eq!(hops[2]["balancing"], "per_flow", "{what}");
        let d = r["graph"]["diamonds"].as_array().unwrap();
        assert_eq!((d.len(), &d[0]["width"]), (1, &Value::from(4)), "{what}: {r}");
        assert_eq!(received as u64, r["probes_sent"].as_u64().unwrap(), "{what}: {r}");
    }
    // connect() picks the source port and cannot keep a flow: without raw sockets, one line says so.
    // Exit 3: what this host lets the user do, not a usage error.
    let err = sockdiag(&["trace", "-n", "--multipath", "--tcp", "203.0.113.100"])
        .in_ns(&ns)
        .unprivileged()
        .exits(3)
        .stderr();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--multipath with --tcp needs raw sockets"), "{err}");
}

/// The report of a run that found all 2 + 4 interfaces, of at most [`TRIES`]: the rule promises 95 %
/// per run, so one run in twenty may miss a branch (the measurement below counts those); three misses
/// in a row (about one in 8000) fail the test.
/// Also returns how many probes the simulator received in that run.
fn found_within_tries(
    sim: &SimPath<'_>,
    v6: bool,
    flags: &[&str],
    as_nobody: bool,
    what: &str,
) -> (Value, usize) {
    let mut last = Value::Null;
    for _ in 0..TRIES {
        let before = sim.probes().len();
        let (ok, r) = found_all(sim, v6, flags, as_nobody);
        if ok {
            // This host's own RST to the target's SYN-ACK (sent with the default TTL, 64) is not a probe:
            // probes go no further than --max-hops (30).
            let probes = sim.probes()[before..].iter().filter(|(_, p)| p.ttl <= 30).count();
            return (r, probes);
        }
        last = r;
    }
    panic!("{what}: not all 2 + 4 interfaces in {TRIES} runs: {last}");
}

/// Runs allowed to find every branch (see [`found_within_tries`]).
const TRIES: usize = 3;

#[test]
fn without_balancers_one_interface_per_hop_for_at_most_the_k1_stop_point() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, Scenario::linear(4, ms(2)));
    for v6 in [false, true] {
        for flags in [&[][..], &["--udp"][..]] {
            let what = format!("{flags:?} v6={v6}");
            let (code, r) = multipath(&sim, v6, flags, false);
            assert_eq!(code, Some(0), "{what}: {r}");
            assert_eq!(r["stop"], "rule", "{what}");
            for k in 1..=4 {
                assert_eq!(found(&r, k as u64), branches(&sim, k, v6), "{what}: hop {k}");
            }
            // At most the k=1 stop point of answers per hop (a late answer on a loaded machine counts
            // as lost and is replaced).
            let hops = r["graph"]["hops"].as_array().unwrap();
            for h in hops {
                let answered = h["probes"].as_u64().unwrap() - h["lost"].as_u64().unwrap();
                assert!(answered <= 6, "{what}: {h}");
                assert_eq!(h["balancing"], "none", "{what}");
            }
            // One at hop 1 (this host's route), six at each router after it, one at the target, and
            // nothing past the target.
            if hops.iter().all(|h| h["lost"] == 0) {
                assert_eq!(r["probes_sent"], 1 + 6 + 6 + 6 + 1, "{what}: {r}");
            }
            assert_eq!(r["graph"]["diamonds"].as_array().unwrap().len(), 0, "{what}");
        }
    }
}

#[test]
fn per_packet_balancing_is_named_and_not_drawn_as_a_wider_diamond() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, around(Hop::new(ms(3)).per_packet(2)));
    for v6 in [false, true] {
        for flags in [&[][..], &["--udp"][..]] {
            // Re-sent flows reveal it unless each met the same interface again by chance (1 in 32
            // here): a few tries.
            let per_packet = |r: &Value| r["graph"]["hops"][1]["balancing"] == "per_packet";
            let mut runs = (0..TRIES).map(|_| multipath(&sim, v6, flags, false));
            let (code, r) = runs.find(|(_, r)| per_packet(r)).unwrap_or_else(|| {
                panic!("{flags:?} v6={v6}: per-packet balancing not seen in {TRIES} runs")
            });
            assert_eq!(code, Some(0), "{flags:?}: {r}");
            let hops = r["graph"]["hops"].as_array().unwrap();
            assert_eq!(found(&r, 2), branches(&sim, 2, v6), "{flags:?}: {r}");
            assert_eq!(found(&r, 3), branches(&sim, 3, v6), "{flags:?}: {r}");
            assert_eq!(hops[2]["balancing"], "none", "{flags:?}: {r}");
        }
    }
}

#[test]
fn a_probe_budget_ends_the_search_and_the_report_says_the_confidence_was_not_reached() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, two_then_four());
    let (_, r) = multipath(&sim, false, &["--max-probes", "12"], false);
    assert_eq!(r["stop"], "max_probes", "{r}");
    assert_eq!(r["confidence_reached"], false);
    assert!(r["probes_sent"].as_u64().unwrap() <= 12, "{r}");
    // A deadline shorter than the search (it takes some tens of ms here) ends it too, and says so.
    let (_, r) = multipath(&sim, false, &["--deadline", "3ms"], false);
    assert_eq!(r["stop"], "deadline", "{r}");
    assert_eq!(r["confidence_reached"], false);
    let target = sim.target_v4().to_string();
    let out = sockdiag(&["trace", "-n", "--multipath", "--max-probes", "12", &target])
        .in_ns(&ns)
        .run();
    assert!(
        out.stdout()
            .contains("--max-probes 12 ran out: 95% confidence not reached"),
        "{}",
        out.stdout()
    );
    let dot = sockdiag(&["--format", "dot", "trace", "-n", "--multipath=99", &target])
        .in_ns(&ns)
        .exits(0);
    let text = dot.stdout();
    assert!(text.starts_with("digraph sockdiag_multipath {"), "{text}");
    // 1 + 2 + 4 interfaces and the target, each a node; every link an edge.
    assert_eq!(
        text.matches("[label=\"").count() - text.matches(" -> ").count(),
        8,
        "{text}"
    );
    assert!(text.contains(", 99%"), "{text}");
}

#[test]
fn a_hop_that_answers_one_probe_in_three_is_said_to_leave_the_confidence_unreached() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, around(Hop::new(ms(3)).every(3)));
    let (code, r) = multipath(&sim, false, &[], false);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["stop"], "rule", "{r}");
    // Lost probes were replaced by other flows until six were lost: fewer than six answers at hop 2.
    assert_eq!(r["lossy_hops"], serde_json::json!([2]), "{r}");
    assert_eq!(r["confidence_reached"], false, "{r}");
    let hop2 = &r["graph"]["hops"][1];
    assert_eq!(hop2["lost"], 6, "{r}");
    assert!(hop2["probes"].as_u64().unwrap() > 6, "{r}");
    assert_eq!(found(&r, 2), branches(&sim, 2, false), "{r}");
    let target = sim.target_v4().to_string();
    let text = sockdiag(&["trace", "-n", "--multipath", &target])
        .in_ns(&ns)
        .exits(0)
        .stdout();
    assert!(
        text.contains("hop 2 lost too many probes: 95% confidence not reached there"),
        "{text}"
    );
}

#[test]
fn interfaces_are_named_from_the_lab_dns_unless_numeric() {
    needs!(lab, "nsd");
    let topo = Topology::builder().routers(2).no_standard_ports().build();
    let zone = Zone::new("lab.test")
        .a("r1", topo.hop_v4(1))
        .a("r2", topo.hop_v4(2))
        .a("far", topo.target_v4());
    // The client namespace's resolv.conf names the lab DNS addresses this server listens on.
    let _dns = DnsServer::start_in(topo.client(), &[zone]);
    let target = topo.target_v4().to_string();
    let json = sockdiag(&["--json", "trace", "--multipath", &target])
        .in_ns(topo.client())
        .exits(0)
        .json();
    support::schema::assert_valid("trace-multipath", &json);
    let names: Vec<&Value> = json["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["name"])
        .collect();
    assert_eq!(names, ["r1.lab.test", "r2.lab.test", "far.lab.test"], "{json}");
    let text = sockdiag(&["trace", "--multipath", &target])
        .in_ns(topo.client())
        .exits(0)
        .stdout();
    assert!(
        text.contains(&format!("r2.lab.test ({})", topo.hop_v4(2))),
        "{text}"
    );
    // -n: no lookups at all.
    let json = sockdiag(&["--json", "trace", "-n", "--multipath", &target])
        .in_ns(topo.client())
        .exits(0)
        .json();
    let nodes = json["graph"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{json}");
    assert!(nodes.iter().all(|n| n["name"].is_null()), "{json}");
}

#[test]
fn bad_multipath_values_and_dot_without_multipath_are_usage_errors() {
    for args in [
        &["trace", "--multipath", "90", "127.0.0.1"][..],
        &["trace", "--multipath=90", "127.0.0.1"][..],
        &["trace", "--multipath", "99", "127.0.0.1"][..],
        &["--format", "dot", "trace", "127.0.0.1"][..],
        &["--format", "dot", "probe", "127.0.0.1:1"][..],
        &["trace", "--max-probes", "5", "127.0.0.1"][..],
        &["trace", "--per-node", "127.0.0.1"][..],
    ] {
        let out = sockdiag(args).exits(2);
        let err = out.stderr();
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
    let err = sockdiag(&["--format", "dot", "trace", "127.0.0.1"])
        .exits(2)
        .stderr();
    assert!(
        err.contains("--format dot") && err.contains("--multipath"),
        "{err}"
    );
}

/// The 95% promise measured: all 2 + 4 interfaces in at least 19 of 20 runs for ICMP and UDP, IPv4 and
/// IPv6 (SOCKDIAG_MP_RUNS to change 20). A measurement, so ignored by the suite: run with
/// `cargo test --test integration trace_multipath::measure -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement (80 runs): see its doc"]
fn measure_found_all_in_19_of_20_runs() {
    needs!(lab);
    let runs: usize = std::env::var("SOCKDIAG_MP_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, two_then_four());
    let mut low = Vec::new();
    for v6 in [false, true] {
        for flags in [&[][..], &["--udp"][..]] {
            let started = Instant::now();
            let (mut all, mut probes, mut probing) = (0, 0, 0.0);
            for _ in 0..runs {
                let (ok, r) = found_all(&sim, v6, flags, false);
                all += usize::from(ok);
                probes += r["probes_sent"].as_u64().unwrap_or(0);
                probing += r["probing_ms"].as_f64().unwrap_or(0.0);
                assert!(started.elapsed() < Duration::from_secs(300), "bounded");
            }
            let per = started.elapsed() / runs as u32;
            println!(
                "multipath {flags:?} v6={v6}: all 2+4 found in {all} of {runs} runs; on average {} probes, \
                 {:.1} ms probing, {per:?} a run with the process",
                probes / runs as u64,
                probing / runs as f64
            );
            if all * 20 < runs * 19 {
                low.push(format!("{flags:?} v6={v6}: {all} of {runs}"));
            }
        }
    }
    assert!(low.is_empty(), "below 19 of 20: {low:?}");
}

#[test]
fn a_nat_after_hop_three_marks_the_hop_four_interfaces_in_the_graph() {
    needs!(lab);
    let ns = Netns::new();
    // A 2-way balancer at hop 2, a source NAT at hop 3, plain hops 4 and 5, then the target.
    let scenario = Scenario::new()
        .hop(Hop::new(ms(1)))
        .hop(Hop::new(ms(2)).balanced(2))
        .hop(Hop::new(ms(3)).nat())
        .hop(Hop::new(ms(4)))
        .hop(Hop::new(ms(5)))
        .target(Target::echo(ms(6)));
    let sim = SimPath::start(&ns, scenario);
    for v6 in [false, true] {
        // Both branches at hop 2 (the rule may miss one in twenty runs: a few tries).
        let runs = (0..TRIES).map(|_| multipath(&sim, v6, &["--udp"], false));
        let mut runs = runs.skip_while(|(_, r)| found(r, 2) != branches(&sim, 2, v6));
        let (code, r) = runs
            .next()
            .unwrap_or_else(|| panic!("v6={v6}: a hop-2 branch missed {TRIES} times"));
        assert_eq!(code, Some(0), "v6={v6}: {r}");
        let marked: Vec<u64> = r["graph"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["nat"] == true)
            .map(|n| n["hop"].as_u64().unwrap())
            .collect();
        assert_eq!(marked, [4], "v6={v6}: {r}");
        let target = sim.target_addr(v6).to_string();
        let text = sockdiag(&["trace", "-n", "--udp", "--multipath", &target])
            .in_ns(&ns)
            .run()
            .stdout();
        assert_eq!(text.matches("(behind NAT)").count(), 1, "{text}");
    }
}
