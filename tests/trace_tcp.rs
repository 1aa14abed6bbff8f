//! `sockdiag trace --tcp` with raw sockets against kernel routers and a kernel target: one flow, the
//! target's verdict (open, closed, filtered), and no connection state left on either side afterwards (the
//! client's kernel resets the target's SYN-ACK; no firewall rule is involved).

use crate::support;

use serde_json::Value;
use support::netns::Netns;
use support::sockdiag;
use support::topo::{Topology, ports};

/// A JSON TCP trace to `port` with `extra` flags: the exit code and the report, checked against the schema.
fn tcp_trace(topo: &Topology, v6: bool, port: u16, extra: &[&str]) -> (Option<i32>, Value) {
    let target = topo.target_addr(v6).to_string();
    let port = port.to_string();
    let mut args = vec![
        "--json",
        "trace",
        "-n",
        "--tcp",
        "-p",
        &port,
        "--deadline",
        "800ms",
    ];
    args.extend_from_slice(extra);
    args.push(&target);
    let out = sockdiag(&args).in_ns(topo.client()).run();
    let json = out.json();
    support::schema::assert_valid("trace", &json);
    (out.status.code(), json)
}

/// TCP sockets of `ns` in any state but listening (`ss -Htan` without listeners), one per line.
fn tcp_state(ns: &Netns) -> Vec<String> {
    ns.run_ok("ss", &["-Htan", "state", "all", "exclude", "listening"])
        .lines()
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn raw_tcp_says_open_closed_or_filtered_and_leaves_no_connection_behind() {
    needs!(lab, "ss");
    let topo = Topology::builder().routers(2).build();
    for v6 in [false, true] {
        let cases = [
            (
                ports::TCP_OPEN,
                Some(0),
                "reached",
                format!(": tcp/{} open", ports::TCP_OPEN),
            ),
            (
                ports::TCP_CLOSED,
                Some(0),
                "reached",
                format!(": tcp/{} closed", ports::TCP_CLOSED),
            ),
            (
                ports::TCP_FILTERED,
                Some(1),
                "deadline",
                format!("; tcp/{} filtered (no SYN-ACK or RST)", ports::TCP_FILTERED),
            ),
        ];
        for (port, code, reason, ending) in cases {
            let what = format!("v6={v6} port {port}");
            let (got, report) = tcp_trace(&topo, v6, port, &[]);
            assert_eq!(got, code, "{what}: {report}");
            assert_eq!(report["method"], "tcp_raw", "{what}");
            assert_eq!(report["stop"]["reason"], reason, "{what}: {report}");
            let message = report["stop"]["message"].as_str().unwrap();
            assert!(message.ends_with(&ending), "{what}: {message}");
            let hops: Vec<&str> = report["hops"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|h| h["addresses"][0]["address"].as_str())
                .collect();
            let (r1, r2) = (topo.hop(1, v6).to_string(), topo.hop(2, v6).to_string());
            assert_eq!(&hops[..2], [r1.as_str(), r2.as_str()], "{what}: {report}");
            // Every probe of the run on one flow, which the report names.
            let flow = report["flow"].as_str().unwrap();
            assert!(
                flow.starts_with("tcp ") && flow.ends_with(&format!(" -> {port}")),
                "{flow}"
            );
            // Nothing half-open at the target, nothing left here: the client's kernel reset the SYN-ACKs.
            assert_eq!(tcp_state(topo.target()), Vec::<String>::new(), "{what}");
            assert_eq!(tcp_state(topo.client()), Vec::<String>::new(), "{what}");
        }
    }
}

#[test]
fn raw_tcp_keeps_the_source_port_flow_asks_for() {
    needs!(lab);
    let topo = Topology::builder().routers(1).build();
    let (code, report) = tcp_trace(&topo, false, ports::TCP_OPEN, &["--flow", "40123"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["flow"], format!("tcp 40123 -> {}", ports::TCP_OPEN));
    // The same port again right away: the first run held it only while it ran.
    let (code, report) = tcp_trace(&topo, true, ports::TCP_OPEN, &["--flow", "40123"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["flow"], format!("tcp 40123 -> {}", ports::TCP_OPEN));
}
