//! NAT detection on the simulated path (root-only): a source NAT after hop 3 rewrites the UDP probes'
//! source port and checksum; hop 4's errors quote the checksum rewritten, so hop 4 alone is marked.

use crate::support;

use serde_json::Value;
use support::sim::{Hop, Scenario, SimPath, Target};
use support::topo::Topology;
use support::wait::ms;
use support::{Netns, sockdiag};

use crate::trace_protocols::trace;

/// Five routers 1 ms apart, the third a source NAT when `nat`, then the target.
fn path(nat: bool) -> Scenario {
    let mut s = Scenario::new();
    for k in 1..=5u64 {
        let hop = Hop::new(ms(k));
        s = s.hop(if nat && k == 3 { hop.nat() } else { hop });
    }
    s.target(Target::echo(ms(6)))
}

/// The TTLs (1-based) of the hops the report marks as behind a NAT.
fn marked(report: &Value) -> Vec<usize> {
    let hops = report["hops"].as_array().unwrap();
    hops.iter()
        .enumerate()
        .filter(|(_, h)| h["nat"].as_bool().unwrap())
        .map(|(i, _)| i + 1)
        .collect()
}

/// Every hop answered from the scenario's address: a NAT that lost replies would leave holes.
fn assert_whole_path(sim: &SimPath<'_>, v6: bool, report: &Value, what: &str) {
    let hops = report["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 6, "{what}: {report}");
    for (i, h) in hops.iter().enumerate().take(5) {
        let want = sim.hop_addr(i + 1, v6).to_string();
        assert_eq!(h["addresses"][0]["address"], want.as_str(), "{what}: {report}");
    }
    assert_eq!(report["stop"]["reason"], "reached", "{what}: {report}");
}

#[test]
fn a_nat_after_hop_three_marks_hop_four_and_no_other() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, path(true));
    for v6 in [false, true] {
        let what = format!("--udp v6={v6}");
        let (code, report) = trace(&sim, v6, &["--udp"], false);
        assert_eq!(code, Some(0), "{what}: {report}");
        assert_eq!(report["method"], "udp_raw_icmp", "{what}");
        assert_whole_path(&sim, v6, &report, &what);
        assert_eq!(marked(&report), [4], "{what}: {report}");
        // The table says it on hop 4's line only.
        let target = sim.target_addr(v6).to_string();
        let out = sockdiag(&["trace", "-n", "--udp", &target]).in_ns(&ns).run();
        let text = out.stdout();
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("NAT")).collect();
        let hop4 = sim.hop_addr(4, v6).to_string();
        assert_eq!(lines.len(), 1, "{what}: {text}");
        assert!(lines[0].contains(&hop4), "{what}: {text}");
    }
}

#[test]
fn without_a_nat_no_hop_is_marked() {
    needs!(lab);
    let ns = Netns::new();
    let sim = SimPath::start(&ns, path(false));
    for v6 in [false, true] {
        let what = format!("--udp v6={v6}");
        let (code, report) = trace(&sim, v6, &["--udp"], false);
        assert_eq!(code, Some(0), "{what}: {report}");
        assert_whole_path(&sim, v6, &report, &what);
        assert_eq!(marked(&report), Vec::<usize>::new(), "{what}: {report}");
    }
}

#[test]
fn icmp_and_unprivileged_udp_cross_the_nat_without_a_mark() {
    needs!(lab);
    let ns = Netns::new();
    ns.sysctl(
        "net.ipv4.ping_group_range",
        &format!("{n} {n}", n = support::binary::NOBODY),
    );
    let sim = SimPath::start(&ns, path(true));
    // ICMP probes have no UDP checksum to compare, and the UDP socket's error queue hands back no
    // quoted header: both still cross the NAT (identifiers and ports come back restored), unmarked.
    let runs: [(&[&str], bool); 3] = [(&[], false), (&[], true), (&["--udp"], true)];
    for v6 in [false, true] {
        for (flags, as_nobody) in runs {
            let what = format!("{flags:?} v6={v6} nobody={as_nobody}");
            let (code, report) = trace(&sim, v6, flags, as_nobody);
            assert_eq!(code, Some(0), "{what}: {report}");
            assert_whole_path(&sim, v6, &report, &what);
            assert_eq!(marked(&report), Vec::<usize>::new(), "{what}: {report}");
        }
    }
}

#[test]
fn kernel_routers_without_a_nat_mark_no_hop() {
    needs!(lab);
    // Linux routers over veth links quote a UDP probe whose checksum may still be left to hardware (only
    // the pseudo-header sum in it): that is no translation.
    let topo = Topology::builder().routers(2).no_standard_ports().build();
    for v6 in [false, true] {
        let target = topo.target_addr(v6).to_string();
        let out = sockdiag(&["--json", "trace", "-n", "--udp", &target])
            .in_ns(topo.client())
            .run();
        let report = out.json();
        let what = format!("kernel routers v6={v6}");
        assert_eq!(out.status.code(), Some(0), "{what}: {report}");
        assert_eq!(report["method"], "udp_raw_icmp", "{what}");
        let hops = report["hops"].as_array().unwrap();
        assert_eq!(hops.len(), 3, "{what}: {report}");
        assert!(
            hops.iter().all(|h| h["received"].as_u64() > Some(0)),
            "{what}: {report}"
        );
        assert_eq!(marked(&report), Vec::<usize>::new(), "{what}: {report}");
    }
}
