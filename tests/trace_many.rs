//! `sockdiag trace HOST HOST ...` against kernel routers in namespaces: several hosts traced at once, one
//! report (one table) each, in the order given, each with the hops that really lie on its path.

use crate::support;

use serde_json::Value;
use support::sockdiag;
use support::topo::Topology;

/// The answering addresses of a report's hop rows, in TTL order (None for a silent hop).
fn hop_addrs(report: &Value) -> Vec<Option<String>> {
    report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["addresses"][0]["address"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn two_hosts_are_traced_at_once_with_one_report_each() {
    needs!(lab);
    let topo = Topology::builder().routers(3).no_standard_ports().build();
    let target = topo.target_v4().to_string();
    let router2 = topo.hop_v4(2).to_string();
    let target6 = topo.target_v6().to_string();
    for extra in [&[][..], &["--udp"][..]] {
        let mut args = vec!["--json", "trace", "-n"];
        args.extend_from_slice(extra);
        args.extend([target.as_str(), router2.as_str(), target6.as_str()]);
        let out = sockdiag(&args).in_ns(topo.client()).run();
        let json = out.json();
        support::schema::assert_valid("trace-many", &json);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {json}");
        let traces = json["traces"].as_array().unwrap();
        assert_eq!(traces.len(), 3, "{json}");
        assert_eq!(json["failed"], serde_json::json!([]));
        let hop = |i| Some(topo.hop_v4(i).to_string());
        let hop6 = |i| Some(topo.hop_v6(i).to_string());
        // In the order given, each with its own path: the target behind three routers, router 2 itself,
        // and the target again over IPv6.
        assert_eq!(traces[0]["target"], target.as_str());
        assert_eq!(
            hop_addrs(&traces[0]),
            vec![hop(1), hop(2), hop(3), Some(target.clone())]
        );
        assert_eq!(traces[1]["target"], router2.as_str());
        assert_eq!(hop_addrs(&traces[1]), vec![hop(1), Some(router2.clone())]);
        assert_eq!(traces[2]["target"], target6.as_str());
        assert_eq!(
            hop_addrs(&traces[2]),
            vec![hop6(1), hop6(2), hop6(3), Some(target6.clone())]
        );
        for t in traces {
            assert_eq!(t["stop"]["reason"], "reached", "{t}");
            // Each trace matched only its own answers: every hop answered all three probes.
            for h in t["hops"].as_array().unwrap() {
                assert_eq!(h["received"], 3, "{t}");
            }
        }
    }
}

#[test]
fn the_table_has_one_section_per_host_and_one_unreached_host_exits_1() {
    needs!(lab);
    let topo = Topology::builder().routers(2).no_standard_ports().build();
    let target = topo.target_v4().to_string();
    // Inside the lab's range but on no link: the target, which routes nothing on, says unreachable.
    let nowhere = "198.51.100.250";
    let out = sockdiag(&["trace", "-n", &target, nowhere])
        .in_ns(topo.client())
        .run();
    assert_eq!(out.status.code(), Some(1), "{out}");
    let text = out.stdout();
    assert!(
        text.contains(&format!("# trace to {target} ({target})")),
        "{text}"
    );
    assert!(
        text.contains(&format!("# trace to {nowhere} ({nowhere})")),
        "{text}"
    );
    assert!(text.contains(&format!("# reached {target} at hop 3")), "{text}");
    assert_eq!(text.matches("# reached").count(), 1, "{text}");
    // The first table ends before the second begins.
    let first = text.find(&format!("# trace to {target}")).unwrap();
    let second = text.find(&format!("# trace to {nowhere}")).unwrap();
    assert!(first < second, "{text}");
}

#[test]
fn several_hosts_with_cycles_is_a_usage_error() {
    let out = sockdiag(&["trace", "-c", "3", "127.0.0.1", "::1"]).run();
    assert_eq!(out.status.code(), Some(2));
    let err = out.stderr();
    assert!(err.contains("-c 3 repeats one host's trace"), "{err}");
    // A bad host among several: nothing is traced, the bad one is named.
    let out = sockdiag(&["trace", "127.0.0.1", "0.0.0.0"]).run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr().contains("0.0.0.0 is the unspecified address"),
        "{}",
        out.stderr()
    );
}
