//! `sockdiag resolve @tls://... / @https://...`: DNS over TLS (NSD's own) and over HTTPS (a test front to NSD)
//! on loopback, with certificates the test made: answers match the zone, the transport and certificate are
//! named, the handshake is timed apart, certificate problems are named, and 1,000 names share one connection.

use crate::support;

use std::net::SocketAddr;

use serde_json::Value;
use support::dns::tls::{CountingRelay, DohFront, Pki, Validity};
use support::dns::{DnsServer, lab_zone as lz};
use support::sockdiag;

use crate::resolve_formats::valid;

/// Runs `sockdiag resolve --json ARGS`: the document, the exit code and stderr.
fn json(args: &[&str]) -> (Value, i32, String) {
    let out = sockdiag(&["resolve", "--json", "-w", "3"]).args(args).run();
    (valid(out.json()), out.code(), out.stderr())
}

fn dot(addr: SocketAddr, name: &str) -> String {
    format!("@tls://{addr}#{name}")
}

/// A DoT server (NSD) whose certificate is for dns.test.
fn dot_server(validity: Validity) -> (Pki, DnsServer) {
    let pki = Pki::new(&["dns.test"], validity);
    let dns = DnsServer::start_loopback_tls(&[lz::lab_zone()], &pki);
    (pki, dns)
}

/// Checks one answered A query for host.lab.test over `transport`.
fn assert_host_answer(doc: &Value, transport: &str, server: SocketAddr) {
    let q = &doc["queries"][0];
    assert_eq!(q["status"], "answer", "{q}");
    assert_eq!(q["transport"], transport);
    assert_eq!(q["server"], server.to_string());
    assert_eq!(q["records"][0]["data"], lz::HOST_V4.to_string(), "{q}");
    assert_eq!(q["records"][0]["ttl"], lz::HOST_TTL);
    let enc = &doc["encrypted"];
    assert_eq!(enc["transport"], transport);
    assert_eq!(enc["tls_name"], "dns.test");
    assert!(enc["problem"].is_null(), "{enc}");
    assert_eq!(enc["certificate"]["names"][0], "dns.test", "{enc}");
    assert!(
        enc["certificate"]["issuer"]
            .as_str()
            .unwrap()
            .contains("sockdiag lab CA"),
        "{enc}"
    );
    assert!(enc["handshake_ms"].as_f64().unwrap() > 0.0, "{enc}");
    assert!(q["query_time_ms"].as_f64().is_some(), "{q}");
}

#[test]
fn dot_answers_name_the_transport_certificate_and_handshake() {
    needs!(dns);
    let (pki, dns) = dot_server(Validity::Current);
    let tls = dns.tls_addr().unwrap();
    let ca = pki.ca();
    let (doc, code, err) = json(&[
        "--ca",
        ca.to_str().unwrap(),
        &dot(tls, "dns.test"),
        "host.lab.test",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["settings"]["transport"], "tls");
    assert_host_answer(&doc, "tls", tls);
    // The table names the transport, the certificate and the handshake apart from the query time.
    let out = sockdiag(&[
        "resolve",
        "--ca",
        ca.to_str().unwrap(),
        &dot(tls, "dns.test"),
        "host.lab.test",
    ])
    .run();
    let text = out.stdout();
    assert!(text.contains(&format!("{tls} tls")), "{text}");
    assert!(
        text.contains("over TLS (DoT)") && text.contains("certificate for dns.test"),
        "{text}"
    );
    assert!(text.contains("connect and handshake"), "{text}");
}

#[test]
fn doh_answers_through_the_front() {
    needs!(dns);
    let pki = Pki::new(&["dns.test"], Validity::Current);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let front = DohFront::start(&pki, dns.addr());
    let url = format!("@https://{}/dns-query#dns.test", front.addr());
    let ca = pki.ca();
    let (doc, code, err) = json(&[
        "--ca",
        ca.to_str().unwrap(),
        &url,
        "host.lab.test",
        "nope.lab.test",
    ]);
    assert_eq!(code, 1, "NXDOMAIN for nope: {err}");
    assert_eq!(doc["settings"]["transport"], "https");
    assert_host_answer(&doc, "https", front.addr());
    assert_eq!(doc["queries"][1]["status"], "nxdomain", "{doc}");
}

#[test]
fn certificate_problems_are_named() {
    needs!(dns);
    let (pki, dns) = dot_server(Validity::Current);
    let tls = dns.tls_addr().unwrap();
    let ca = pki.ca();
    let ca = ca.to_str().unwrap();
    let (expired_pki, expired) = dot_server(Validity::Expired);
    let expired_ca = expired_pki.ca();
    let cases: [(Vec<String>, &str); 3] = [
        (
            vec!["--ca".into(), ca.into(), dot(tls, "other.test")],
            "name mismatch",
        ),
        (vec![dot(tls, "dns.test")], "unknown issuer"),
        (
            vec![
                "--ca".into(),
                expired_ca.to_str().unwrap().into(),
                dot(expired.tls_addr().unwrap(), "dns.test"),
            ],
            "certificate expired",
        ),
    ];
    for (args, words) in cases {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.push("host.lab.test");
        let (doc, code, err) = json(&all);
        assert_eq!(code, 1, "{args:?}: {err}");
        let q = &doc["queries"][0];
        assert_eq!(q["status"], "no_connection", "{q}");
        let problem = doc["encrypted"]["problem"].as_str().unwrap();
        assert!(problem.starts_with(words), "{args:?}: {problem}");
        assert!(q["message"].as_str().unwrap().contains(words), "{q}");
        assert!(err.contains(words), "stderr names it: {err}");
        // The certificate the server showed is still described.
        assert_eq!(doc["encrypted"]["certificate"]["names"][0], "dns.test");
    }
}

#[test]
fn a_thousand_names_share_one_dot_connection() {
    needs!(dns);
    let (pki, dns) = dot_server(Validity::Current);
    let relay = CountingRelay::start(dns.tls_addr().unwrap());
    let dir = std::env::temp_dir().join(format!("sdg-dot-bulk-{}", std::process::id()));
    let names: Vec<&str> = [
        "host.lab.test",
        "multi.lab.test",
        "v4only.lab.test",
        "nope.lab.test",
    ]
    .into_iter()
    .cycle()
    .take(1000)
    .collect();
    std::fs::write(&dir, names.join("\n") + "\n").unwrap();
    let ca = pki.ca();
    let (doc, code, err) = json(&[
        "--ca",
        ca.to_str().unwrap(),
        &dot(relay.addr(), "dns.test"),
        "-f",
        dir.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&dir);
    assert_eq!(code, 1, "nope.lab.test is NXDOMAIN: {err}");
    let queries = doc["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 1000);
    for (q, name) in queries.iter().zip(&names) {
        let want = if *name == "nope.lab.test" {
            "nxdomain"
        } else {
            "answer"
        };
        assert_eq!(q["status"], want, "{q}");
        assert_eq!(q["transport"], "tls");
    }
    assert_eq!(
        relay.connections(),
        1,
        "every chunk of names went over the first connection"
    );
}

#[test]
fn encrypted_server_usage_errors() {
    for (args, words) in [
        (vec!["@tls://127.0.0.1/x", "a.test"], "has no path"),
        (vec!["@quic://127.0.0.1", "a.test"], "bad server"),
        (vec!["@tls://127.0.0.1", "@127.0.0.1", "a.test"], "asked alone"),
        (
            vec!["--tcp", "@tls://127.0.0.1", "a.test"],
            "--tcp does not apply",
        ),
        (
            vec!["--ca", "/nonexistent", "@127.0.0.1", "a.test"],
            "--ca FILE checks",
        ),
        (
            vec!["--ca", "/nonexistent", "@tls://127.0.0.1", "a.test"],
            "PEM file",
        ),
    ] {
        let out = sockdiag(&["resolve"]).args(&args).run();
        assert_eq!(out.code(), 2, "{args:?}: {out}");
        assert!(out.stderr().contains(words), "{args:?}: {}", out.stderr());
        assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    }
}
