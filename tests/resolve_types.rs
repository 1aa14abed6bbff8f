//! `sockdiag resolve -t TYPE` for the newer and DNSSEC record types, numeric types (RFC 3597) and ANY, against
//! the lab zone's records of each (tests/support/dns/lab_zone.rs, `types`); `--short`; `-t common`'s exit
//! code. NSD on a loopback port the test owns.

use crate::support;

use serde_json::Value;
use support::dns::{DnsServer, lab_zone as lz};
use support::sockdiag;

use crate::resolve_formats::valid;

/// The first query of `sockdiag resolve --json -t TYPE @SERVER NAME`, with the exit code.
fn ask(dns: &DnsServer, rtype: &str, name: &str) -> (Value, i32) {
    let at = format!("@{}", dns.addr());
    let out = sockdiag(&["resolve", "--json", "-t", rtype, &at, name]).run();
    let doc = valid(out.json());
    (doc["queries"][0].clone(), out.code())
}

/// The fields of the only record of the type asked.
fn fields(q: &Value, rtype: &str) -> Value {
    let recs: Vec<&Value> = q["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == rtype)
        .collect();
    assert_eq!(recs.len(), 1, "{q}");
    recs[0]["fields"].clone()
}

#[test]
fn newer_record_types_come_with_their_fields() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let (q, code) = ask(&dns, "https", "types.lab.test");
    assert_eq!(code, 0, "{q}");
    let f = fields(&q, "HTTPS");
    assert_eq!(f["priority"], 1);
    assert_eq!(f["target"], ".");
    assert_eq!(f["alpn"], serde_json::json!(["h2", "h3"]));
    assert_eq!(f["port"], 8443);
    assert_eq!(f["ipv4hint"], serde_json::json!(["198.51.100.50"]));
    assert_eq!(f["ech"], true);
    let (q, _) = ask(&dns, "SVCB", "_dns.types.lab.test");
    let f = fields(&q, "SVCB");
    assert_eq!(
        (f["target"].as_str(), f["port"].as_u64()),
        (Some("dns.lab.test."), Some(853))
    );
    assert_eq!(f["alpn"], serde_json::json!(["dot"]));
    let (q, _) = ask(&dns, "TLSA", "_443._tcp.types.lab.test");
    let f = fields(&q, "TLSA");
    assert_eq!(
        (
            f["usage"].as_u64(),
            f["selector"].as_u64(),
            f["matching_type"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(f["data"], lz::types::TLSA.rsplit(' ').next().unwrap());
    let (q, _) = ask(&dns, "SSHFP", "types.lab.test");
    let f = fields(&q, "SSHFP");
    assert_eq!(
        (f["algorithm"].as_u64(), f["fingerprint_type"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(f["fingerprint"], lz::types::SSHFP.rsplit(' ').next().unwrap());
    let (q, _) = ask(&dns, "NAPTR", "types.lab.test");
    let f = fields(&q, "NAPTR");
    assert_eq!(
        (f["order"].as_u64(), f["preference"].as_u64()),
        (Some(100), Some(10))
    );
    assert_eq!(
        (f["flags"].as_str(), f["services"].as_str()),
        (Some("S"), Some("SIP+D2U"))
    );
    assert_eq!(f["replacement"], "_sip._udp.lab.test.");
}

#[test]
fn dnssec_types_come_with_key_tag_algorithm_and_digest_type() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let (q, code) = ask(&dns, "DS", "signed.lab.test");
    assert_eq!(code, 0, "{q}");
    let f = fields(&q, "DS");
    assert_eq!(
        (
            f["key_tag"].as_u64(),
            f["algorithm"].as_u64(),
            f["digest_type"].as_u64()
        ),
        (Some(12345), Some(13), Some(2))
    );
    assert_eq!(f["digest"], lz::types::DS.rsplit(' ').next().unwrap());
    let (q, _) = ask(&dns, "DNSKEY", "types.lab.test");
    let f = fields(&q, "DNSKEY");
    assert_eq!(
        (
            f["flags"].as_u64(),
            f["protocol"].as_u64(),
            f["algorithm"].as_u64()
        ),
        (Some(257), Some(3), Some(13))
    );
    assert_eq!(f["key"], lz::types::DNSKEY.rsplit(' ').next().unwrap());
    assert!(f["key_tag"].as_u64().is_some(), "{f}");
}

#[test]
fn numeric_types_are_asked_and_unknown_ones_shown_as_rfc3597_hex() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let (q, code) = ask(&dns, "TYPE65280", "types.lab.test");
    assert_eq!(code, 0, "{q}");
    assert_eq!(q["type"], "TYPE65280");
    let r = &q["records"][0];
    assert_eq!(r["type"], "TYPE65280");
    assert_eq!(r["data"], "\\# 4 DEADBEEF");
    assert_eq!(r["fields"], serde_json::json!({"code": 65280, "hex": "deadbeef"}));
    // TYPE65 is HTTPS by number.
    let (q, _) = ask(&dns, "TYPE65", "types.lab.test");
    assert_eq!(
        (q["type"].as_str(), q["records"][0]["type"].as_str()),
        (Some("HTTPS"), Some("HTTPS"))
    );
}

#[test]
fn any_shows_what_the_server_sent_and_says_servers_may_answer_it_minimally() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let (q, code) = ask(&dns, "ANY", "types.lab.test");
    assert_eq!(code, 0, "{q}");
    // NSD answers ANY with one RRset of the name (RFC 8482's minimal answer): whatever came is the name's.
    let types: Vec<&str> = q["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert!(!types.is_empty(), "{q}");
    for t in &types {
        assert!(
            ["DNSKEY", "HTTPS", "NAPTR", "SSHFP", "TYPE65280"].contains(t),
            "{t} is not at types.lab.test"
        );
    }
    assert_eq!(q["status"], "answer");
    let at = format!("@{}", dns.addr());
    let text = sockdiag(&["resolve", "-t", "ANY", &at, "types.lab.test"])
        .exits(0)
        .stdout();
    assert!(text.contains("RFC 8482"), "{text}");
}

#[test]
fn short_prints_only_the_data_one_a_line() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let at = format!("@{}", dns.addr());
    let out = sockdiag(&["resolve", "--short", &at, "www.lab.test", "multi.lab.test"]).exits(0);
    let mut want = vec!["host.lab.test.".to_string(), lz::HOST_V4.to_string()];
    let mut multi: Vec<String> = lz::MULTI_V4.iter().map(|a| a.to_string()).collect();
    let mut got: Vec<String> = out.stdout().lines().map(String::from).collect();
    // An RRset has no order: compare the multi addresses as a set.
    let mut got_multi = got.split_off(2);
    got_multi.sort();
    multi.sort();
    want.extend(multi.clone());
    assert_eq!(got, want[..2]);
    assert_eq!(got_multi, multi);
    let out = sockdiag(&["resolve", "--short", &at, "missing.lab.test"]).exits(1);
    assert!(out.stdout().is_empty(), "{}", out.stdout());
    sockdiag(&["resolve", "--short", "--json", &at, "www.lab.test"]).exits(2);
}

#[test]
fn common_exits_zero_when_any_of_its_types_has_data() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let at = format!("@{}", dns.addr());
    // The apex has no A record, but MX, NS, SOA and CAA.
    let out = sockdiag(&["resolve", "--json", "-t", "common", &at, "lab.test"]).exits(0);
    let doc = valid(out.json());
    assert!(
        doc["queries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["status"] == "nodata")
    );
    sockdiag(&["resolve", "-t", "common", &at, "missing.lab.test"]).exits(1);
    // Without common, one NODATA is still negative.
    sockdiag(&["resolve", "-t", "A,MX", &at, "lab.test"]).exits(1);
}

#[test]
fn special_use_names_are_answered_here_and_bad_names_refused_before_any_query() {
    let server = support::dns::ScriptedServer::loopback(|_| vec![]);
    let at = format!("@{}", server.addr());
    let out = sockdiag(&[
        "resolve",
        "--json",
        "-t",
        "A",
        &at,
        "foo.invalid",
        "app.localhost",
    ])
    .run();
    let doc = valid(out.json());
    assert_eq!(out.code(), 1, "foo.invalid does not exist");
    let q = &doc["queries"];
    assert_eq!(
        (q[0]["status"].as_str(), q[0]["rcode"].as_str()),
        (Some("nxdomain"), Some("NXDOMAIN"))
    );
    assert!(q[0]["message"].as_str().unwrap().contains("RFC 6761"), "{q}");
    assert_eq!(q[1]["status"], "answer");
    assert_eq!(q[1]["records"][0]["data"], "127.0.0.1");
    assert_eq!(q[1]["tries"].as_array().unwrap().len(), 0);
    let text = sockdiag(&["resolve", "-t", "A", &at, "app.localhost"])
        .exits(0)
        .stdout();
    assert!(text.contains("here (RFC 6761)"), "{text}");
    for bad in ["::1x", "a/b"] {
        let out = sockdiag(&["resolve", "-t", "A", &at, "ok.test", bad]).exits(2);
        assert!(out.stderr().contains("bad name"), "{}", out.stderr());
    }
    assert_eq!(server.queries(), 0, "no query left this host");
}

#[test]
fn dnssec_sets_the_do_bit_and_shows_the_signatures() {
    use hickory_resolver::proto::rr::rdata::{A, NULL};
    use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
    use std::str::FromStr;
    // A server that sends the signature only when the query carries the DO bit, as signed zones do.
    let server = support::dns::ScriptedServer::loopback(|q| {
        let name = Name::from_str(&q.queries[0].name().to_ascii()).unwrap();
        let mut records = vec![Record::from_rdata(
            name.clone(),
            300,
            RData::A(A::new(198, 51, 100, 61)),
        )];
        if q.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok) {
            let mut sig = vec![0, 1, 13, 3, 0, 0, 1, 44, 0x70, 0, 0, 0, 0x60, 0, 0, 0, 0x30, 0x39];
            sig.extend_from_slice(b"\x03sec\x04test\x00\x01\x02\x03\x04");
            let rdata = RData::Unknown {
                code: RecordType::RRSIG,
                rdata: NULL::with(sig),
            };
            records.push(Record::from_rdata(name, 300, rdata));
        }
        let mut m = support::dns::script::answer(q, records);
        m.metadata.authentic_data = true;
        vec![support::dns::Reply::new(&m)]
    });
    let at = format!("@{}", server.addr());
    let out = sockdiag(&["resolve", "--json", "--dnssec", "-t", "A", &at, "host.sec.test"]).exits(0);
    let doc = valid(out.json());
    assert_eq!(doc["settings"]["dnssec"], true);
    let q = &doc["queries"][0];
    let f = fields(q, "RRSIG");
    assert_eq!(
        (f["type_covered"].as_str(), f["key_tag"].as_u64()),
        (Some("A"), Some(12345))
    );
    assert_eq!(
        (f["signer"].as_str(), f["algorithm"].as_u64()),
        (Some("sec.test."), Some(13))
    );
    assert_eq!(f["original_ttl"], 300);
    assert_eq!(q["authentic_data"], true);
    let text = sockdiag(&["resolve", "--dnssec", "-t", "A", &at, "host.sec.test"])
        .exits(0)
        .stdout();
    assert!(text.contains("udp AD"), "{text}");
    // Without the DO bit the server sends no signature.
    let out = sockdiag(&["resolve", "--json", "-t", "A", &at, "host.sec.test"]).exits(0);
    let doc = valid(out.json());
    let types: Vec<&str> = doc["queries"][0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["A"]);
}

#[test]
fn records_of_one_kind_show_their_fields_as_columns() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let at = format!("@{}", dns.addr());
    let plain = |rtype: &str, name: &str| {
        sockdiag(&["resolve", "--format", "plain", "-t", rtype, &at, name])
            .exits(0)
            .stdout()
    };
    let header = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("NAME"))
            .unwrap_or("")
            .to_string()
    };
    let tlsa = plain("TLSA", "_443._tcp.types.lab.test");
    assert!(
        header(&tlsa).ends_with("USAGE  SELECTOR  MATCHING  ASSOCIATION"),
        "{tlsa}"
    );
    let association = lz::types::TLSA.rsplit(' ').next().unwrap();
    let row = tlsa.lines().find(|l| l.contains("TLSA ")).unwrap_or("");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 4..], ["3", "1", "1", association], "{tlsa}");
    let ds = plain("DS", "signed.lab.test");
    assert!(
        header(&ds).ends_with("KEY-TAG  ALGORITHM  DIGEST-TYPE  DIGEST"),
        "{ds}"
    );
    let has_parts = |l: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.windows(3).any(|w| w == ["12345", "13", "2"])
    };
    assert!(ds.lines().any(has_parts), "{ds}");
    let https = plain("HTTPS", "types.lab.test");
    assert!(header(&https).contains("ALPN"), "{https}");
    assert!(
        https.contains("h2,h3") && https.contains("198.51.100.50"),
        "{https}"
    );
    // A query answered by a status (here NODATA) keeps the one DATA column for it.
    let a = sockdiag(&["resolve", "--format", "plain", "-t", "A", &at, "types.lab.test"])
        .exits(1)
        .stdout();
    assert!(header(&a).ends_with("DATA") && a.contains("NODATA"), "{a}");
}
