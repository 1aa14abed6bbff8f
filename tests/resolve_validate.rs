//! `sockdiag resolve --validate`: zones signed by the test with ldns and served by NSD on loopback, the
//! parent's key as the trust anchor: a signed child with its DS is secure, a child whose signatures expired is
//! bogus with that reason, an unsigned child without DS is insecure, a child signed with a key its DS does not
//! name is bogus with a key mismatch.

use crate::support;

use serde_json::Value;
use support::dns::DnsServer;
use support::dns::signed::{SignedLab, WWW};
use support::sockdiag;

use crate::resolve_formats::valid;

fn validate(lab: &SignedLab, dns: &DnsServer, names: &[&str]) -> (Value, i32, String) {
    let anchor = lab.anchor();
    let server = format!("@{}", dns.addr());
    let mut args = vec![
        "resolve",
        "--json",
        "--validate",
        "--trust-anchor",
        anchor.to_str().unwrap(),
        &server,
    ];
    args.extend(names);
    let out = sockdiag(&args).run();
    (valid(out.json()), out.code(), out.stderr())
}

#[test]
fn secure_bogus_and_insecure_as_the_signer_made_them() {
    needs!(dns);
    if !support::privilege::tool_or_skip("resolve_validate", "ldns-signzone") {
        return;
    }
    let lab = SignedLab::new();
    let dns = DnsServer::start_loopback(&lab.zones);
    let names: Vec<&str> = WWW.iter().map(|(n, _)| *n).collect();
    let (doc, code, err) = validate(&lab, &dns, &names);
    assert_eq!(code, 1, "the bogus answer makes the run negative: {err}");
    let q = doc["queries"].as_array().unwrap();
    for (i, (name, ip)) in WWW.iter().enumerate() {
        assert_eq!(q[i]["name"], format!("{name}."));
        assert_eq!(q[i]["status"], "answer", "{}", q[i]);
        let a: Vec<&Value> = q[i]["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "A")
            .collect();
        assert_eq!(a[0]["data"], ip.to_string());
    }
    let verdict = |i: usize| {
        (
            q[i]["validation"]["status"].as_str().unwrap(),
            q[i]["validation"]["reason"].clone(),
        )
    };
    assert_eq!(verdict(0).0, "secure", "{}", q[0]);
    assert_eq!(verdict(1).0, "secure", "{}", q[1]);
    assert_eq!(verdict(2).0, "bogus", "{}", q[2]);
    let reason = verdict(2).1;
    assert!(
        reason
            .as_str()
            .unwrap()
            .starts_with("expired signature: the RRSIG of www.stale.sec.test. A expired at 2020-02-01"),
        "{reason}"
    );
    assert_eq!(verdict(3).0, "insecure", "{}", q[3]);
    assert_eq!(verdict(4).0, "bogus", "{}", q[4]);
    let reason = verdict(4).1;
    assert!(
        reason
            .as_str()
            .unwrap()
            .starts_with("key mismatch: the DS at the parent names key tag"),
        "{reason}"
    );
    assert!(verdict(0).1.is_null() && verdict(3).1.is_null());
    // The table says it in the SERVER column and names the reason.
    let anchor = lab.anchor();
    let server = format!("@{}", dns.addr());
    let out = sockdiag(&[
        "resolve",
        "--validate",
        "--trust-anchor",
        anchor.to_str().unwrap(),
        &server,
        "www.stale.sec.test",
        "www.good.sec.test",
    ])
    .run();
    let text = out.stdout();
    assert!(text.contains(" bogus") && text.contains(" secure"), "{text}");
    assert!(text.contains("expired signature"), "{text}");
}

#[test]
fn a_bad_trust_anchor_file_is_a_usage_error() {
    let dir = std::env::temp_dir().join(format!("sdg-anchor-{}", std::process::id()));
    std::fs::write(&dir, "this is not a DNSKEY\n").unwrap();
    let out = sockdiag(&[
        "resolve",
        "--validate",
        "--trust-anchor",
        dir.to_str().unwrap(),
        "@127.0.0.1",
        "a.test",
    ])
    .run();
    let _ = std::fs::remove_file(&dir);
    assert_eq!(out.code(), 2, "{out}");
    assert!(
        out.stderr().contains("--trust-anchor") && out.stderr().contains("DNSKEY"),
        "{}",
        out.stderr()
    );
    let out = sockdiag(&["resolve", "--trust-anchor", "/x", "@127.0.0.1", "a.test"]).run();
    assert_eq!(out.code(), 2, "--trust-anchor needs --validate: {out}");
}
