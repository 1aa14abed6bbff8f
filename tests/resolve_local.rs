//! `sockdiag resolve` on this host without a lab: only `localhost` and literals, checked against getent.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::resolve_formats::valid;
use crate::support::sockdiag;

/// Runs sockdiag with `args` and `--json`; returns the document and the exit code.
fn json(args: &[&str]) -> (Value, i32) {
    let out = sockdiag(args).arg("--json").run();
    (valid(out.json()), out.code())
}

/// (address, socket type) pairs glibc gives `getent ahosts NAME`, the reference for the same hints.
fn getent_ahosts(name: &str) -> BTreeSet<(String, String)> {
    let out = Command::new("getent")
        .args(["ahosts", name])
        .output()
        .expect("getent");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?.to_string(), f.next()?.to_lowercase()))
        })
        .collect()
}

#[test]
fn localhost_rows_match_getent_ahosts() {
    let (doc, code) = json(&["resolve", "localhost"]);
    assert_eq!(code, 0);
    let r = &doc["results"][0];
    assert_eq!(r["name"], "localhost");
    assert_eq!(r["status"], "ok");
    assert_eq!(r["canonical_name"], "localhost");
    let ours: BTreeSet<(String, String)> = r["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["address"].as_str().unwrap().to_string(),
                a["socket_type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ours, getent_ahosts("localhost"));
    assert_eq!(doc["settings"]["flags"], serde_json::json!(["AI_CANONNAME"]));
    assert_eq!(doc["settings"]["socket_type"], "any");
    assert_eq!(doc["mode"], "system");
}

#[test]
fn piped_output_is_bare_columns_and_colour_only_when_forced() {
    let text = sockdiag(&["resolve", "localhost"]).exits(0).stdout();
    let header = text.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["NAME", "FAMILY", "TYPE", "PROTO", "ADDRESS", "CANONICAL", "TIME"]
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("localhost") && l.contains("127.0.0.1")),
        "{text}"
    );
    assert!(!text.contains('│') && !text.contains('\u{1b}'), "{text}");
    assert!(
        text.contains("# hints: family=any socket_type=any protocol=any flags=AI_CANONNAME"),
        "{text}"
    );

    let coloured = sockdiag(&["resolve", "localhost", "--color", "always"])
        .run()
        .stdout();
    assert!(coloured.contains('\u{1b}'), "{coloured}");
}

#[test]
fn service_hints_and_numeric_host() {
    let (doc, code) = json(&[
        "resolve",
        "127.0.0.1",
        "--ai-numerichost",
        "--service",
        "http",
        "--socket-type",
        "stream",
    ]);
    assert_eq!(code, 0);
    let rows = doc["results"][0]["addresses"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{doc}");
    assert_eq!(rows[0]["port"], 80);
    assert_eq!(rows[0]["protocol"], "tcp");
    assert_eq!(
        doc["settings"]["flags"],
        serde_json::json!(["AI_CANONNAME", "AI_NUMERICHOST"])
    );

    // domain is both tcp and udp in /etc/services; dgram keeps only the udp row.
    let (doc, _) = json(&[
        "resolve",
        "127.0.0.1",
        "--ai-numerichost",
        "--service",
        "domain",
        "--socket-type",
        "dgram",
    ]);
    let rows = doc["results"][0]["addresses"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["port"].as_u64(), rows[0]["protocol"].as_str()),
        (Some(53), Some("udp"))
    );
}

#[test]
fn passive_without_name_gives_wildcard_addresses() {
    let (doc, code) = json(&[
        "resolve",
        "--ai-passive",
        "--service",
        "8080",
        "-4",
        "--socket-type",
        "stream",
    ]);
    assert_eq!(code, 0);
    let r = &doc["results"][0];
    assert_eq!(r["name"], Value::Null);
    assert_eq!(r["addresses"][0]["address"], "0.0.0.0");
    assert_eq!(r["addresses"][0]["port"], 8080);
    let flags = doc["settings"]["flags"].as_array().unwrap();
    assert!(flags.contains(&Value::from("AI_PASSIVE")));

    assert!(
        !flags.contains(&Value::from("AI_CANONNAME")),
        "no name to canonicalise: {flags:?}"
    );
}

#[test]
fn loopback_reverse_lookup_names_host_and_service() {
    let (doc, code) = json(&["resolve", "127.0.0.1", "--service", "80"]);
    assert_eq!(code, 0);
    let r = &doc["results"][0];
    assert_eq!(r["lookup"], "reverse");
    assert_eq!(r["host"], "localhost");
    assert_eq!(r["port"], 80);
    assert_eq!(r["service_name"], "http");

    let text = sockdiag(&["resolve", "127.0.0.1", "--service", "22"])
        .run()
        .stdout();
    assert!(text.contains("# Reverse lookups (getnameinfo)"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("127.0.0.1") && l.contains("localhost") && l.contains("22 (ssh)")),
        "{text}"
    );
}

#[test]
fn link_local_literals_keep_their_scope() {
    let (doc, code) = json(&[
        "resolve",
        "fe80::1%lo",
        "--ai-numerichost",
        "--socket-type",
        "stream",
    ]);
    assert_eq!(code, 0, "{doc}");
    let row = &doc["results"][0]["addresses"][0];
    assert_eq!(row["address"], "fe80::1");
    assert_eq!(row["scope"], "lo");
    assert_eq!(row["scope_id"].as_u64(), Some(1), "lo is interface 1");

    let text = sockdiag(&[
        "resolve",
        "fe80::1%1",
        "--ai-numerichost",
        "--socket-type",
        "stream",
    ])
    .run()
    .stdout();
    assert!(text.contains("fe80::1%lo"), "{text}");
}

/// Asserts a usage error: exit 2, one line on stderr with each fragment and the command's help named, no stdout.
fn assert_usage(args: &[&str], fragments: &[&str]) {
    let out = sockdiag(&["resolve"]).args(args).run();
    let err = out.stderr();
    assert_eq!(out.code(), 2, "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    for f in fragments.iter().chain(&["see 'sockdiag resolve --help'"]) {
        assert!(err.contains(f), "{args:?}: {err:?} lacks {f:?}");
    }
    assert!(out.stdout().is_empty(), "{args:?}");
}

#[test]
fn what_is_not_one_host_is_refused_before_any_lookup() {
    // Each would otherwise reach a resolver: the DNS ones are pointed at a closed loopback port all the same.
    for mode in [
        &[][..],
        &["-t", "A", "@127.0.0.1:9"],
        &["--compare", "@127.0.0.1:9"],
    ] {
        let with = |name: &'static str| [mode, &[name]].concat();
        assert_usage(
            &with("::1x"),
            &["bad name '::1x'", "not an IPv6 address", "accepted"],
        );
        assert_usage(
            &with("203.0.113.0/33"),
            &[
                "'203.0.113.0/33'",
                "'/33' is not a prefix length of an IPv4 address (0-32)",
            ],
        );
        assert_usage(&with("a/b"), &["'a/b'", "a '/' belongs only in a CIDR block"]);
        assert_usage(
            &with("198.51.100.0/24"),
            &["'198.51.100.0/24': a CIDR block; resolve looks up one host at a time"],
        );
        assert_usage(&with("198.51.100.1-20"), &["an address range"]);
        assert_usage(&with("localhost:80"), &["give it with --service 80"]);
    }
    assert_usage(
        &["-x", "198.51.100.0/24", "@127.0.0.1:9"],
        &["-x needs an IP address", "a CIDR block"],
    );
    assert_usage(
        &["@198.51.100.0/24", "-t", "A", "a.test"],
        &["bad server", "a CIDR block"],
    );
}

#[test]
fn dns_only_flags_are_refused_for_the_system_resolver() {
    for flag in [&["-w", "1"][..], &["--tcp"], &["--attempts", "3"]] {
        let args = [flag, &["localhost"]].concat();
        assert_usage(
            &args,
            &[flag[0], "does not apply to the system resolver's lookup"],
        );
    }
    // Refused by the argument parser, whose messages point to the top-level help.
    let out = sockdiag(&["resolve", "-w", "0", "-t", "A", "a.test"]).exits(2);
    assert!(
        out.stderr().contains("'0' is zero; accepted: more than zero"),
        "{}",
        out.stderr()
    );
}
