//! `sockdiag resolve --servers-compare`: the lab's server beside three that answer differently (another A
//! record, NXDOMAIN, silence), every one asked once and at once, and each difference named. Loopback only.

use crate::support;

use std::net::Ipv4Addr;
use std::str::FromStr;

use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::A;
use hickory_resolver::proto::rr::{Name, RData, Record};
use support::dns::script::answer;
use support::dns::{DnsServer, Reply, ScriptedServer, lab_zone as lz};
use support::sockdiag;

use crate::resolve_formats::valid;

const OTHER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 99);

#[test]
fn servers_side_by_side_name_each_difference_after_one_wait() {
    needs!(dns);
    let lab = DnsServer::start_loopback(&[lz::lab_zone()]);
    let other = ScriptedServer::loopback(|q| {
        let name = Name::from_str(&q.queries[0].name().to_ascii()).unwrap();
        vec![Reply::new(&answer(
            q,
            vec![Record::from_rdata(name, 300, RData::A(A(OTHER)))],
        ))]
    });
    let nx = ScriptedServer::loopback(|q| {
        let mut m = answer(q, vec![]);
        m.metadata.response_code = ResponseCode::NXDomain;
        vec![Reply::new(&m)]
    });
    let silent = ScriptedServer::loopback(|_| vec![]);
    let ats: Vec<String> = [lab.addr(), other.addr(), nx.addr(), silent.addr()]
        .iter()
        .map(|a| format!("@{a}"))
        .collect();
    let mut args = vec![
        "resolve",
        "--json",
        "--servers-compare",
        "-w",
        "1",
        "--attempts",
        "1",
        "host.lab.test",
    ];
    args.extend(ats.iter().map(String::as_str));
    let out = sockdiag(&args).run();
    assert_eq!(out.code(), 1, "{out}");
    let doc = valid(out.json());
    assert_eq!(doc["mode"], "servers");
    let row = &doc["rows"][0];
    let statuses: Vec<&str> = row["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["answer", "answer", "nxdomain", "timeout"]);
    // Each server was asked exactly once: the silent one cost one wait, side by side with the others.
    for a in row["answers"].as_array().unwrap() {
        assert_eq!(a["tries"].as_array().unwrap().len(), 1, "{a}");
    }
    let diffs: Vec<&str> = row["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        diffs.contains(&format!("no answer from {} (timeout)", silent.addr()).as_str()),
        "{diffs:?}"
    );
    assert!(
        diffs.contains(&format!("NXDOMAIN at {} only", nx.addr()).as_str()),
        "{diffs:?}"
    );
    let different = format!(
        "different data at {}: {OTHER} (others: {})",
        other.addr(),
        lz::HOST_V4
    );
    assert!(diffs.contains(&different.as_str()), "{diffs:?}");
    // The table has one column per server.
    let mut args = vec![
        "resolve",
        "--servers-compare",
        "-w",
        "1",
        "--attempts",
        "1",
        "host.lab.test",
    ];
    args.extend(ats.iter().map(String::as_str));
    let text = sockdiag(&args).env("COLUMNS", "400").run().stdout();
    for a in [lab.addr(), other.addr(), nx.addr(), silent.addr()] {
        assert!(text.lines().next().unwrap().contains(&a.to_string()), "{text}");
    }
}

#[test]
fn servers_that_agree_exit_zero_and_one_server_is_a_usage_error() {
    needs!(dns);
    let a = DnsServer::start_loopback(&[lz::lab_zone()]);
    let b = DnsServer::start_loopback(&[lz::lab_zone()]);
    let (at_a, at_b) = (format!("@{}", a.addr()), format!("@{}", b.addr()));
    let out = sockdiag(&[
        "resolve",
        "--json",
        "--servers-compare",
        &at_a,
        &at_b,
        "multi.lab.test",
    ])
    .exits(0);
    let doc = valid(out.json());
    assert_eq!(
        doc["rows"][0]["differences"].as_array().unwrap().len(),
        0,
        "{doc}"
    );
    let out = sockdiag(&["resolve", "--servers-compare", &at_a, "multi.lab.test"]).exits(2);
    assert!(out.stderr().contains("2 to 8 servers"), "{}", out.stderr());
}
