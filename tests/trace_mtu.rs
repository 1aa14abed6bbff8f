//! `sockdiag trace --mtu` against kernel routers in namespaces and on the simulated path (with real
//! round-trip times): a path whose link after hop 5 takes at most 1400 bytes reports the drop at hop 5 and a
//! path MTU of 1400, for IPv4 and IPv6, ICMP and UDP; a path of one MTU reports the interface's and resends
//! nothing.

use crate::support;

use std::net::IpAddr;

use serde_json::Value;
use support::netns::Netns;
use support::sim::{Hop, Scenario, SimPath, Target};
use support::sockdiag;
use support::topo::Topology;
use support::wait::ms;

/// The narrow link's MTU.
const NARROW: u16 = 1400;
/// The veth links' MTU everywhere else.
const VETH: u16 = 1500;

/// A chain of `routers` routers whose link after router 5 (to router 6) has an MTU of 1400.
fn narrow_after_hop_5(routers: usize) -> Topology {
    let topo = Topology::builder().routers(routers).no_standard_ports().build();
    let mtu = NARROW.to_string();
    topo.router(5).ip(&["link", "set", "dev", "next", "mtu", &mtu]);
    topo.router(6).ip(&["link", "set", "dev", "prev", "mtu", &mtu]);
    topo
}

/// A JSON trace with `extra` flags in `ns`: the exit code and the report, checked against the schema.
fn trace_json(ns: &Netns, target: IpAddr, extra: &[&str]) -> (Option<i32>, Value) {
    let target = target.to_string();
    let mut args = vec!["--json", "trace", "-n"];
    args.extend_from_slice(extra);
    args.push(&target);
    let out = sockdiag(&args).in_ns(ns).run();
    let json = out.json();
    let name = if json.get("error").is_some() {
        "error"
    } else {
        "trace"
    };
    support::schema::assert_valid(name, &json);
    (out.status.code(), json)
}

/// The hop rows' `pmtu` marks: (ttl, before, mtu) for each row that has one.
fn marked_hops(report: &Value) -> Vec<(u64, u64, u64)> {
    report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| !h["pmtu"].is_null())
        .map(|h| {
            let p = &h["pmtu"];
            (
                h["ttl"].as_u64().unwrap(),
                p["before"].as_u64().unwrap(),
                p["mtu"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_narrow_link_after_hop_5_shows_at_hop_5_for_ipv4_and_ipv6() {
    needs!(lab);
    let topo = narrow_after_hop_5(7);
    for v6 in [false, true] {
        for proto in [&[][..], &["--udp"][..]] {
            let target = topo.target_addr(v6);
            let mut extra = vec!["--mtu"];
            extra.extend_from_slice(proto);
            let (code, report) = trace_json(topo.client(), target, &extra);
            let what = format!("v6={v6} {proto:?}: {report}");
            assert_eq!(code, Some(0), "{what}");
            assert_eq!(report["stop"]["reason"], "reached", "{what}");
            assert_eq!(report["stop"]["hop"], 8, "{what}");
            let pmtu = &report["pmtu"];
            assert_eq!(pmtu["interface_mtu"], VETH, "{what}");
            assert_eq!(pmtu["path_mtu"], NARROW, "{what}");
            let drops = pmtu["drops"].as_array().unwrap();
            assert_eq!(drops.len(), 1, "{what}");
            assert_eq!(drops[0]["hop"], 5, "{what}");
            assert_eq!(drops[0]["from"], topo.hop(5, v6).to_string(), "{what}");
            assert_eq!(
                marked_hops(&report),
                vec![(5, u64::from(VETH), u64::from(NARROW))],
                "{what}"
            );
            let message = report["stop"]["message"].as_str().unwrap();
            assert!(message.ends_with("; path MTU 1400"), "{what}");
            // Every hop answered every probe: a refusal is not a loss, the probe went again smaller.
            for hop in report["hops"].as_array().unwrap() {
                assert_eq!(hop["received"], hop["sent"], "{what}");
                assert_eq!(hop["sent"], 3, "{what}");
            }
            // What got through past hop 5 was at most 1400 bytes; hops 1-5 saw full-size probes.
            let samples = report["samples"].as_array().unwrap();
            assert!(samples.iter().all(|s| s["kind"] != "packet_too_big"), "{what}");
        }
    }
}

#[test]
fn the_table_marks_the_hop_and_the_last_line_states_the_path_mtu() {
    needs!(lab);
    let topo = narrow_after_hop_5(6);
    let target = topo.target_v4().to_string();
    let out = sockdiag(&["trace", "-n", "--mtu", &target])
        .in_ns(topo.client())
        .run();
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr());
    let text = out.stdout();
    let hop5 = text
        .lines()
        .find(|l| l.trim_start().starts_with("5 "))
        .unwrap_or_else(|| panic!("no hop 5 row:\n{text}"));
    assert!(hop5.contains("pmtu 1500 -> 1400"), "{text}");
    assert_eq!(text.matches("pmtu 1500 -> 1400").count(), 1, "{text}");
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(
        last.contains("reached") && last.contains("path MTU 1400"),
        "{text}"
    );
}

#[test]
fn a_path_of_one_mtu_reports_the_interface_mtu_and_resends_nothing() {
    needs!(lab);
    let topo = Topology::builder().routers(4).no_standard_ports().build();
    for v6 in [false, true] {
        let target = topo.target_addr(v6);
        let (code, report) = trace_json(topo.client(), target, &["--mtu"]);
        assert_eq!(code, Some(0), "{report}");
        assert_eq!(report["pmtu"]["path_mtu"], VETH, "{report}");
        assert_eq!(report["pmtu"]["drops"], serde_json::json!([]), "{report}");
        assert!(marked_hops(&report).is_empty(), "{report}");
        // As many probes as a plain trace of the same path sends: no extra round.
        let (_, plain) = trace_json(topo.client(), target, &[]);
        assert_eq!(report["probes_sent"], plain["probes_sent"], "{report}\n{plain}");
        assert!(plain["pmtu"].is_null());
    }
}

#[test]
fn mtu_refuses_tcp_and_repeated_cycles_with_exit_2() {
    for (args, says) in [
        (
            &["trace", "--mtu", "--tcp", "127.0.0.1"][..],
            "--mtu needs --icmp or --udp",
        ),
        (
            &["trace", "--mtu", "-c", "3", "127.0.0.1"][..],
            "--mtu measures once",
        ),
    ] {
        let out = sockdiag(args).run();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = out.stderr();
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn on_the_simulated_path_the_drop_shows_at_hop_5_with_real_round_trips() {
    needs!(lab);
    let ns = Netns::new();
    let mut scenario = Scenario::new();
    for k in 1..=8u64 {
        let hop = Hop::new(ms(2 * k));
        scenario = scenario.hop(if k == 5 { hop.narrow(NARROW) } else { hop });
    }
    let sim = SimPath::start(&ns, scenario.target(Target::echo(ms(18))));
    for v6 in [false, true] {
        for proto in [&[][..], &["--udp"][..]] {
            let mut extra = vec!["--mtu"];
            extra.extend_from_slice(proto);
            let (code, report) = trace_json(&ns, sim.target_addr(v6), &extra);
            let what = format!("v6={v6} {proto:?}: {report}");
            assert_eq!(code, Some(0), "{what}");
            assert_eq!(report["stop"]["hop"], 9, "{what}");
            assert_eq!(report["pmtu"]["path_mtu"], NARROW, "{what}");
            let drops = report["pmtu"]["drops"].as_array().unwrap();
            assert_eq!(drops.len(), 1, "{what}");
            assert_eq!(drops[0]["hop"], 5, "{what}");
            assert_eq!(drops[0]["from"], sim.hop_addr(5, v6).to_string(), "{what}");
            assert_eq!(
                marked_hops(&report),
                vec![(5, u64::from(VETH), u64::from(NARROW))],
                "{what}"
            );
            for hop in report["hops"].as_array().unwrap() {
                assert_eq!((&hop["sent"], &hop["received"]), (&3.into(), &3.into()), "{what}");
            }
        }
    }
}

#[test]
fn without_privilege_the_drop_comes_through_ping_sockets_and_the_error_queue() {
    needs!(lab, "setpriv");
    let topo = narrow_after_hop_5(6);
    let nobody = support::binary::NOBODY;
    topo.client()
        .sysctl("net.ipv4.ping_group_range", &format!("{nobody} {nobody}"));
    for v6 in [false, true] {
        for (proto, method) in [(&[][..], "ping_socket"), (&["--udp"][..], "udp_error_queue")] {
            let target = topo.target_addr(v6).to_string();
            let mut args = vec!["--json", "trace", "-n", "--mtu"];
            args.extend_from_slice(proto);
            args.push(&target);
            let out = sockdiag(&args).in_ns(topo.client()).unprivileged().run();
            let report = out.json();
            support::schema::assert_valid("trace", &report);
            let what = format!("v6={v6} {proto:?}: {report}");
            assert_eq!(out.status.code(), Some(0), "{what}");
            assert_eq!(report["method"], method, "{what}");
            assert_eq!(report["pmtu"]["path_mtu"], NARROW, "{what}");
            assert_eq!(
                marked_hops(&report),
                vec![(5, u64::from(VETH), u64::from(NARROW))],
                "{what}"
            );
        }
    }
}
