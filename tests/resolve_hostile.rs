//! `sockdiag resolve` against a hostile DNS server (tests/support/dns/script.rs): records for other names or
//! classes are never taken as the answer, and replies set aside (another ID, another question, another source
//! port) are counted and named instead of a bare timeout. Loopback only, or a lab namespace for `--compare`.

use crate::support;

use std::net::Ipv4Addr;
use std::str::FromStr;

use hickory_resolver::proto::op::{Message, Query};
use hickory_resolver::proto::rr::rdata::A;
use hickory_resolver::proto::rr::{DNSClass, Name, RData, Record, RecordType};
use serde_json::Value;
use support::dns::script::{answer, answer_to};
use support::dns::{Reply, ScriptedServer};
use support::{Netns, addr, sockdiag};

use crate::resolve_formats::valid;

const STRAY: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 9);
const RIGHT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

fn a(owner: &str, ip: Ipv4Addr) -> Record {
    Record::from_rdata(name(owner), 60, RData::A(A(ip)))
}

/// The query's own name, for scripts that answer it.
fn qname(query: &Message) -> String {
    query.queries[0].name().to_ascii()
}

/// Runs `sockdiag resolve --json -t A @SERVER ARGS`; returns the first query's JSON and the exit code.
fn ask(server: &ScriptedServer, args: &[&str]) -> (Value, i32, String) {
    let at = format!("@{}", server.addr());
    let out = sockdiag(&["resolve", "--json", "-t", "A", &at]).args(args).run();
    let doc = valid(out.json());
    (doc["queries"][0].clone(), out.code(), out.stdout())
}

#[test]
fn records_of_another_name_are_not_the_answer() {
    let server = ScriptedServer::loopback(|q| vec![Reply::new(&answer(q, vec![a("other.example.", STRAY)]))]);
    let (q, code, _) = ask(&server, &["www.lab.test"]);
    assert_eq!(code, 1, "{q}");
    assert_eq!(q["status"], "nodata", "{q}");
    assert_eq!(q["records"].as_array().unwrap().len(), 0, "{q}");
    let ignored = &q["ignored_records"][0];
    assert_eq!(ignored["name"], "other.example.");
    assert_eq!(ignored["data"], STRAY.to_string());
    assert_eq!(ignored["reason"], "owner is not www.lab.test., the name asked");
    // The table says so beside the record.
    let at = format!("@{}", server.addr());
    let text = sockdiag(&["resolve", "-t", "A", &at, "www.lab.test"])
        .exits(1)
        .stdout();
    assert!(
        text.contains("ignored (owner is not www.lab.test., the name asked): 203.0.113.9"),
        "{text}"
    );
}

#[test]
fn records_of_another_class_are_not_the_answer() {
    let server = ScriptedServer::loopback(|q| {
        let mut chaos = a(&qname(q), STRAY);
        chaos.dns_class = DNSClass::CH;
        vec![Reply::new(&answer(q, vec![chaos, a(&qname(q), RIGHT)]))]
    });
    let (q, code, _) = ask(&server, &["www.lab.test"]);
    assert_eq!(code, 0, "{q}");
    let data: Vec<&str> = q["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data"].as_str().unwrap())
        .collect();
    assert_eq!(data, [RIGHT.to_string()]);
    assert_eq!(q["ignored_records"][0]["reason"], "class CH, not IN");
}

#[test]
fn replies_with_a_wrong_id_are_counted_and_named() {
    let server = ScriptedServer::loopback(|q| {
        let mut forged = answer(q, vec![a(&qname(q), STRAY)]);
        forged.metadata.id = q.metadata.id.wrapping_add(1);
        vec![Reply::new(&forged); 3]
    });
    let (q, code, _) = ask(&server, &["www.lab.test", "-w", "300ms", "--attempts", "1"]);
    assert_eq!(code, 1);
    assert_eq!(q["status"], "timeout", "{q}");
    assert_eq!(q["ignored_replies"]["wrong_id"], 3, "{q}");
    let message = q["message"].as_str().unwrap();
    assert!(message.ends_with("; 3 replies ignored: wrong ID"), "{message}");
}

#[test]
fn replies_to_another_question_or_from_another_port_are_counted_and_the_real_answer_taken() {
    let server = ScriptedServer::loopback(|q| {
        let other = Query::query(name("other.example."), RecordType::A);
        vec![
            Reply::new(&answer_to(q, other, vec![a("other.example.", STRAY)])),
            Reply::new(&answer(q, vec![a(&qname(q), STRAY)])).via_other_port(),
            Reply::new(&answer(q, vec![a(&qname(q), RIGHT)])),
        ]
    });
    let (q, code, text) = ask(&server, &["www.lab.test"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(q["records"][0]["data"], RIGHT.to_string(), "{q}");
    assert_eq!(q["ignored_replies"]["wrong_question"], 1, "{q}");
    assert_eq!(q["ignored_replies"]["wrong_source"], 1, "{q}");
    let at = format!("@{}", server.addr());
    let table = sockdiag(&["resolve", "-t", "A", &at, "www.lab.test"])
        .exits(0)
        .stdout();
    assert!(
        table.contains("2 replies ignored: 1 wrong question, 1 wrong source address or port"),
        "{table}"
    );
}

#[test]
fn compare_does_not_list_another_names_address_as_the_names() {
    needs!(lab);
    let resolv = format!("nameserver {}\noptions timeout:1 attempts:1\n", addr::LAB_DNS_V4);
    let ns = Netns::builder().resolv_conf(&resolv).build();
    let _server = ScriptedServer::start_in(&ns, |q| match q.queries[0].query_type() {
        RecordType::A => vec![Reply::new(&answer(q, vec![a("other.example.", STRAY)]))],
        _ => vec![Reply::new(&answer(q, vec![]))],
    });
    let at = format!("@{}", addr::LAB_DNS_V4);
    let out = sockdiag(&["resolve", "--json", "--compare", &at, "www.lab.test"])
        .in_ns(&ns)
        .run();
    let doc = valid(out.json());
    let text = doc.to_string();
    let listed: Vec<&Value> = doc["names"][0]["rows"].as_array().unwrap().iter().collect();
    assert!(
        listed.iter().all(|r| r["address"] != STRAY.to_string()),
        "the stray address is not the name's: {text}"
    );
    assert_eq!(out.code(), 1, "{text}");
}
