//! `sockdiag resolve -t/-x/@SERVER`: direct DNS queries against the lab's real server (NSD on a loopback port
//! the test owns, or inside a lab namespace) and its refusing and silent stubs. Every row and TTL is checked
//! against the zone the test wrote. No query goes to the host's own resolver.

use crate::support;

use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};

use serde_json::Value;
use support::dns::zone::{RData, SOA_TTL};
use support::dns::{DnsServer, StubServer, Zone, lab_zone as lz};
use support::{Netns, addr, sockdiag};

use crate::resolve_formats::valid;

/// Runs `sockdiag resolve --json ARGS` and returns the document, the exit code and stderr.
fn json(args: &[&str]) -> (Value, i32, String) {
    let out = sockdiag(&["resolve", "--json"]).args(args).run();
    (valid(out.json()), out.code(), out.stderr())
}

fn at(server: SocketAddr) -> String {
    format!("@{server}")
}

/// (ttl, data) pairs of a query's records of one type, sorted (an RRset has no order).
fn rows_of(q: &Value, rtype: &str) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = q["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == rtype)
        .map(|r| {
            (
                r["ttl"].as_u64().unwrap(),
                r["data"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The absolute form (trailing dot) of a name written in `zone`.
fn abs(zone: &Zone, name: &str) -> String {
    format!("{}.", zone.fqdn(name))
}

/// dig-style text of a lab record, computed from the zone data itself.
fn dig_text(zone: &Zone, data: &RData) -> (&'static str, String) {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    match data {
        RData::A(ip) => ("A", ip.to_string()),
        RData::Aaaa(ip) => ("AAAA", ip.to_string()),
        RData::Cname(t) => ("CNAME", abs(zone, t)),
        RData::Mx(p, h) => ("MX", format!("{p} {}", abs(zone, h))),
        RData::Txt(parts) => {
            let strings: Vec<String> = parts
                .iter()
                .flat_map(|p| {
                    p.as_bytes()
                        .chunks(255)
                        .map(|c| quote(std::str::from_utf8(c).unwrap()))
                        .collect::<Vec<_>>()
                })
                .collect();
            ("TXT", strings.join(" "))
        }
        RData::Ns(h) => ("NS", abs(zone, h)),
        RData::Srv(p, w, port, t) => ("SRV", format!("{p} {w} {port} {}", abs(zone, t))),
        RData::Ptr(t) => ("PTR", abs(zone, t)),
        RData::Caa(f, tag, v) => ("CAA", format!("{f} {tag} {}", quote(v))),
        RData::Raw(rtype, text) => (rtype, text.clone()),
    }
}

/// What the zones say `owner` has of `rtype`: sorted (ttl, dig text) pairs.
fn expected(zones: &[Zone], owner: &str, rtype: &str) -> Vec<(u64, String)> {
    let owner = owner.trim_end_matches('.');
    let mut v = Vec::new();
    for z in zones {
        if rtype == "SOA" && z.origin().eq_ignore_ascii_case(owner) {
            let s = z.soa();
            v.push((
                u64::from(SOA_TTL),
                format!(
                    "{}. {}. {} 3600 600 86400 {}",
                    s.mname, s.rname, s.serial, s.minimum
                ),
            ));
        }
        for r in z.records() {
            let (t, text) = dig_text(z, &r.data);
            if t == rtype && z.fqdn(&r.name).eq_ignore_ascii_case(owner) {
                v.push((u64::from(r.ttl), text));
            }
        }
    }
    v.sort();
    v
}

#[test]
fn every_record_type_matches_the_zone_with_its_ttl() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let server = at(dns.addr());
    let cases = [
        ("host.lab.test", "A"),
        ("host.lab.test", "AAAA"),
        ("multi.lab.test", "A"),
        ("multi.lab.test", "AAAA"),
        ("www.lab.test", "CNAME"),
        ("lab.test", "MX"),
        ("txt.lab.test", "TXT"),
        ("lab.test", "NS"),
        ("lab.test", "SOA"),
        ("_lab._tcp.lab.test", "SRV"),
        ("lab.test", "CAA"),
        ("short.lab.test", "a"),
    ];
    for (name, rtype) in cases {
        let started = std::time::Instant::now();
        let (doc, code, err) = json(&[&server, "-t", rtype, name]);
        let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(code, 0, "{name} {rtype}: {err}");
        let q = &doc["queries"][0];
        let upper = rtype.to_ascii_uppercase();
        assert_eq!(q["status"], "answer", "{name} {rtype}: {q}");
        assert_eq!(q["name"], format!("{name}."));
        assert_eq!(q["type"], upper);
        assert_eq!(q["rcode"], "NOERROR");
        assert_eq!(q["server"], dns.addr().to_string());
        assert_eq!(q["transport"], "udp");
        assert_eq!(q["truncated_udp"], false);
        assert_eq!(q["authoritative"], true);
        let want = expected(dns.zones(), name, &upper);
        assert!(!want.is_empty(), "the zone has {name} {upper}");
        assert_eq!(rows_of(q, &upper), want, "{name} {upper}");
        assert_eq!(q["records"].as_array().unwrap().len(), want.len(), "{q}");
        // The query really took time, and no more than the whole run did.
        let took = q["query_time_ms"].as_f64().unwrap();
        assert!(
            took > 0.0 && took < wall_ms,
            "query time {took} ms, run {wall_ms} ms"
        );
    }
    // Typed fields for scripts, beside the dig-style text.
    let (doc, _, _) = json(&[&server, "-t", "MX,SRV,SOA", "lab.test", "_lab._tcp.lab.test"]);
    let mx = &doc["queries"][0]["records"];
    let pref10 = mx
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fields"]["preference"] == 10)
        .unwrap();
    assert_eq!(pref10["fields"]["exchange"], "mail.lab.test.");
    assert_eq!(doc["queries"][2]["records"][0]["fields"]["minimum"], lz::NEG_TTL);
    let srv = &doc["queries"][4]["records"][0]["fields"];
    assert_eq!(
        (
            srv["priority"].as_u64(),
            srv["weight"].as_u64(),
            srv["port"].as_u64()
        ),
        (Some(10), Some(5), Some(8001))
    );
    assert_eq!(srv["target"], "host.lab.test.");
}

#[test]
fn common_set_and_names_asked_as_given() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let (doc, code, _) = json(&[&at(dns.addr()), "-t", "common", "lab.test"]);
    let types: Vec<&str> = doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["A", "AAAA", "MX", "NS", "SOA", "TXT", "CAA"]);
    let statuses: Vec<&str> = doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["status"].as_str().unwrap())
        .collect();
    // The apex has MX, NS, SOA and CAA but no address or TXT: NODATA for those, yet `common` asks whether the
    // name has any of them (as dig exits 0), so the run exits 0.
    assert_eq!(
        statuses,
        [
            "nodata", "nodata", "answer", "answer", "answer", "nodata", "answer"
        ]
    );
    assert_eq!(code, 0);
    // A relative name is asked as given (no search list, like dig): "host." is outside the zone.
    let (doc, code, _) = json(&[&at(dns.addr()), "-t", "A", "host"]);
    assert_eq!(doc["queries"][0]["name"], "host.");
    assert_eq!(doc["queries"][0]["status"], "refused");
    assert_eq!(doc["settings"]["search_list_applied"], false);
    assert_eq!(doc["mode"], "dns");
    assert_eq!(code, 1);
}

#[test]
fn cname_chain_is_shown_in_order_with_each_ttl() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let (doc, code, _) = json(&[&at(dns.addr()), "-t", "A,AAAA", "alias.lab.test"]);
    assert_eq!(code, 0);
    for (i, (rtype, addr)) in [("A", lz::HOST_V4.to_string()), ("AAAA", lz::HOST_V6.to_string())]
        .into_iter()
        .enumerate()
    {
        let rows: Vec<(String, String, u64, String)> = doc["queries"][i]["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().into(),
                    r["type"].as_str().unwrap().into(),
                    r["ttl"].as_u64().unwrap(),
                    r["data"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "alias.lab.test.".into(),
                    "CNAME".into(),
                    u64::from(lz::ALIAS_TTL),
                    "www.lab.test.".into()
                ),
                (
                    "www.lab.test.".into(),
                    "CNAME".into(),
                    u64::from(lz::WWW_TTL),
                    "host.lab.test.".into()
                ),
                (
                    "host.lab.test.".into(),
                    rtype.into(),
                    u64::from(lz::HOST_TTL),
                    addr
                ),
            ]
        );
    }
    // The table shows the same rows in the same order, the answering server on the first.
    let out = sockdiag(&["resolve", &at(dns.addr()), "alias.lab.test"]).run();
    let text = out.stdout();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .take(3)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0][..4],
        ["alias.lab.test.", "CNAME", "60", &dns.addr().to_string()]
    );
    assert_eq!(lines[0][4], "udp");
    assert_eq!(lines[0].last(), Some(&"www.lab.test."));
    assert_eq!(lines[1], ["www.lab.test.", "CNAME", "120", "host.lab.test."]);
    assert_eq!(lines[2], ["host.lab.test.", "A", "300", &lz::HOST_V4.to_string()]);
}

#[test]
fn addresses_as_names_and_dash_x_ask_ptr_through_dns() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let v4 = lz::HOST_V4.to_string();
    let v6 = lz::V6ONLY_V6.to_string();
    let (doc, code, _) = json(&[&at(dns.addr()), "-t", "A", &v4, "-x", &v6, "-x", "198.51.100.99"]);
    let qs = doc["queries"].as_array().unwrap();
    assert_eq!(qs[0]["name"], "200.100.51.198.in-addr.arpa.");
    assert_eq!(qs[0]["type"], "PTR");
    let owner = qs[0]["name"].as_str().unwrap();
    assert_eq!(rows_of(&qs[0], "PTR"), expected(dns.zones(), owner, "PTR"));
    assert_eq!(rows_of(&qs[0], "PTR")[0].1, "host.lab.test.");
    assert!(
        qs[1]["name"]
            .as_str()
            .unwrap()
            .ends_with(".0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa."),
        "{}",
        qs[1]["name"]
    );
    assert_eq!(rows_of(&qs[1], "PTR")[0].1, "v6only.lab.test.");
    assert_eq!(
        rows_of(&qs[1], "PTR"),
        expected(dns.zones(), qs[1]["name"].as_str().unwrap(), "PTR")
    );
    assert_eq!(qs[2]["status"], "nxdomain", "no PTR for an unlisted address");
    assert_eq!(code, 1);
}

#[test]
fn nxdomain_and_nodata_carry_the_soa_negative_ttl() {
    needs!(dns);
    let zone = lz::lab_zone();
    let dns = DnsServer::start_loopback(std::slice::from_ref(&zone));
    let (doc, code, _) = json(&[&at(dns.addr()), lz::MISSING, "-t", "A"]);
    assert_eq!(code, 1);
    let q = &doc["queries"][0];
    assert_eq!(
        (q["status"].as_str(), q["rcode"].as_str()),
        (Some("nxdomain"), Some("NXDOMAIN"))
    );
    assert_eq!(q["negative_ttl"], zone.negative_ttl());
    assert_eq!(q["negative_ttl"], lz::NEG_TTL);
    assert_eq!(q["soa"]["name"], "lab.test.");
    assert_eq!(q["soa"]["fields"]["minimum"], zone.soa().minimum);
    assert!(q["records"].as_array().unwrap().is_empty());

    let (doc, code, _) = json(&[&at(dns.addr()), "v4only.lab.test", "-t", "AAAA"]);
    assert_eq!(code, 1);
    let q = &doc["queries"][0];
    assert_eq!(
        (q["status"].as_str(), q["rcode"].as_str()),
        (Some("nodata"), Some("NOERROR"))
    );
    assert_eq!(q["negative_ttl"], lz::NEG_TTL);
    assert!(
        q["message"]
            .as_str()
            .unwrap()
            .contains("exists but has no AAAA record"),
        "{q}"
    );

    // On a terminal (here: bare columns in a pipe) the outcome and the negative TTL are in the row.
    let out = sockdiag(&[
        "resolve",
        &at(dns.addr()),
        lz::MISSING,
        "v4only.lab.test",
        "-t",
        "AAAA",
    ])
    .run();
    assert_eq!(out.status.code(), Some(1));
    let text = out.stdout();
    let row = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let missing = row("missing.lab.test.");
    assert_eq!(missing[..3], ["missing.lab.test.", "AAAA", "30"]);
    assert!(missing.contains(&"NXDOMAIN:"), "{text}");
    let v4only = row("v4only.lab.test.");
    assert_eq!(v4only[..3], ["v4only.lab.test.", "AAAA", "30"]);
    assert!(v4only.contains(&"NODATA:"), "{text}");
    let summary = text.lines().last().unwrap();
    assert!(
        summary.starts_with("# 2 queries in ") && summary.ends_with(" ms: 1 NXDOMAIN, 1 NODATA"),
        "{text}"
    );
}

#[test]
fn truncated_udp_answer_is_asked_again_over_tcp() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    for (name, len) in [
        ("big-txt.lab.test", lz::BIG_TXT_LEN),
        ("huge-txt.lab.test", lz::HUGE_TXT_LEN),
    ] {
        let (doc, code, _) = json(&[&at(dns.addr()), "-t", "TXT", name]);
        assert_eq!(code, 0);
        let q = &doc["queries"][0];
        assert_eq!(q["status"], "answer");
        assert_eq!(q["truncated_udp"], true, "{name} is over 512 bytes: {q}");
        assert_eq!(q["transport"], "tcp");
        let tries: Vec<(&str, &str)> = q["tries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["transport"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(tries, [("udp", "truncated"), ("tcp", "answered")]);
        assert!(q["size_bytes"].as_u64().unwrap() > 512);
        let strings: Vec<&str> = q["records"][0]["fields"]["strings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(strings.concat(), lz::filler(len));
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert_eq!(rows_of(q, "TXT"), expected(dns.zones(), name, "TXT"));
    }
    let out = sockdiag(&["resolve", &at(dns.addr()), "-t", "TXT", "big-txt.lab.test"]).run();
    let text = out.stdout();
    assert!(
        text.contains(&format!("{} tcp (udp truncated)", dns.addr())),
        "{text}"
    );
    assert!(
        text.contains("1 truncated over udp and asked again over tcp"),
        "{text}"
    );
}

#[test]
fn tcp_flag_forces_tcp() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let (doc, code, _) = json(&[
        &at(dns.addr()),
        "--tcp",
        "-t",
        "A,TXT",
        "host.lab.test",
        "big-txt.lab.test",
    ]);
    assert_eq!(doc["settings"]["transport"], "tcp");
    let qs = doc["queries"].as_array().unwrap();
    for q in qs {
        let tries = q["tries"].as_array().unwrap();
        assert!(tries.iter().all(|t| t["transport"] == "tcp"), "{q}");
        assert_eq!(q["truncated_udp"], false);
    }
    assert_eq!(rows_of(&qs[0], "A"), expected(dns.zones(), "host.lab.test", "A"));
    assert_eq!(qs[0]["transport"], "tcp");
    assert_eq!(
        rows_of(&qs[3], "TXT"),
        expected(dns.zones(), "big-txt.lab.test", "TXT")
    );
    // host has no TXT and big-txt no A: NODATA twice, so exit 1.
    assert_eq!(
        (qs[1]["status"].as_str(), qs[2]["status"].as_str()),
        (Some("nodata"), Some("nodata"))
    );
    assert_eq!(code, 1);
}

#[test]
fn refusing_server_is_reported_as_refused() {
    needs!(dns);
    let stub = StubServer::refusing_loopback();
    for extra in [None, Some("--tcp")] {
        let mut args = vec![at(stub.addr()), "host.lab.test".to_string()];
        args.extend(extra.map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (doc, code, _) = json(&args);
        let q = &doc["queries"][0];
        assert_eq!(
            (q["status"].as_str(), q["rcode"].as_str()),
            (Some("refused"), Some("REFUSED")),
            "{q}"
        );
        assert_eq!(q["server"], stub.addr().to_string());
        assert_eq!(q["transport"], if extra.is_some() { "tcp" } else { "udp" });
        assert_eq!(code, 1);
    }
    let out = sockdiag(&["resolve", &at(stub.addr()), "host.lab.test"]).run();
    assert!(
        out.stdout().contains("REFUSED: the server refused to answer"),
        "{}",
        out.stdout()
    );
}

#[test]
fn silent_server_times_out_after_the_attempts() {
    needs!(dns);
    let stub = StubServer::silent_loopback();
    let (doc, code, err) = json(&[
        &at(stub.addr()),
        "-w",
        "200ms",
        "--attempts",
        "3",
        "host.lab.test",
    ]);
    assert_eq!(code, 1);
    let q = &doc["queries"][0];
    assert_eq!(q["status"], "timeout");
    assert!(q["server"].is_null(), "nobody answered: {q}");
    assert!(q["rcode"].is_null() && q["query_time_ms"].is_null(), "{q}");
    let tries = q["tries"].as_array().unwrap();
    assert_eq!(tries.len(), 3);
    assert!(
        tries
            .iter()
            .all(|t| t["outcome"] == "timed_out" && t["transport"] == "udp"),
        "{q}"
    );
    assert_eq!(doc["settings"]["timeout_ms"], 200.0);
    assert_eq!(doc["settings"]["attempts"], 3);
    assert!(tries.iter().all(|t| t["detail"].is_null()), "{q}");
    let expect = format!(
        "sockdiag: {} over udp: no answer after 3 tries of 200 ms each",
        stub.addr()
    );
    assert_eq!(err.trim(), expect);
    // Over TCP the silent stub accepts the connection and never answers.
    let (doc, code, err) = json(&[
        &at(stub.addr()),
        "-w",
        "200ms",
        "--attempts",
        "1",
        "--tcp",
        "host.lab.test",
    ]);
    assert_eq!(code, 1);
    assert_eq!(doc["queries"][0]["status"], "timeout");
    assert_eq!(doc["queries"][0]["tries"][0]["transport"], "tcp");
    assert!(
        err.contains(&format!(
            "{} over tcp: no answer after 1 try of 200 ms",
            stub.addr()
        )),
        "{err}"
    );
    // The table says the same.
    let out = sockdiag(&[
        "resolve",
        &at(stub.addr()),
        "-w",
        "200ms",
        "--attempts",
        "2",
        "host.lab.test",
    ])
    .run();
    assert!(
        out.stdout()
            .contains("timeout: no answer after 2 tries of 200 ms each"),
        "{}",
        out.stdout()
    );
}

/// A loopback port with nothing bound on UDP or TCP (free when probed).
fn closed_port() -> SocketAddr {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = udp.local_addr().unwrap();
    assert!(TcpListener::bind(addr).is_ok());
    addr
}

#[test]
fn closed_port_is_no_connection_naming_server_and_transport() {
    let closed = closed_port();
    let (doc, code, err) = json(&[&at(closed), "-w", "2s", "host.lab.test"]);
    assert_eq!(code, 1);
    let q = &doc["queries"][0];
    assert_eq!(q["status"], "no_connection");
    // The ICMP port unreachable comes back at once: one try, no second round for an unreachable server.
    let tries = q["tries"].as_array().unwrap();
    assert_eq!(tries.len(), 1, "{q}");
    assert_eq!(tries[0]["outcome"], "no_connection");
    assert_eq!(tries[0]["detail"], "connection refused");
    assert_eq!(
        err.trim(),
        format!("sockdiag: {closed} over udp: no connection: connection refused")
    );
    let (doc, code, err) = json(&[&at(closed), "--tcp", "host.lab.test"]);
    assert_eq!(
        (doc["queries"][0]["status"].as_str(), code),
        (Some("no_connection"), 1)
    );
    assert_eq!(
        err.trim(),
        format!("sockdiag: {closed} over tcp: no connection: connection refused")
    );
    let out = sockdiag(&["resolve", &at(closed), "host.lab.test"]).run();
    assert!(
        out.stdout().contains("no connection: connection refused"),
        "{}",
        out.stdout()
    );
}

#[test]
fn names_from_a_file_come_back_in_input_order() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let dir = std::env::temp_dir().join(format!("sdg-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("names.txt");
    let hosts = [
        "host", "multi", "v4only", "short", "mail", "mail2", "missing", "v6only",
    ];
    let names: Vec<String> = (0..120)
        .map(|i| format!("{}.lab.test", hosts[i % hosts.len()]))
        .collect();
    std::fs::write(&file, format!("# lab names\n{}\n", names.join("\n"))).unwrap();
    let (doc, code, _) = json(&[&at(dns.addr()), "-f", file.to_str().unwrap(), "--parallel", "8"]);
    let _ = std::fs::remove_dir_all(&dir);
    let qs = doc["queries"].as_array().unwrap();
    assert_eq!(qs.len(), names.len());
    for (q, name) in qs.iter().zip(&names) {
        assert_eq!(q["name"], format!("{name}."));
        let want = expected(dns.zones(), name, "A");
        if name.starts_with("missing") {
            assert_eq!(q["status"], "nxdomain");
        } else if want.is_empty() {
            assert_eq!(q["status"], "nodata", "{name}");
        } else {
            assert_eq!(rows_of(q, "A"), want, "{name}");
        }
    }
    assert_eq!(code, 1, "missing and v6only are negative");

    // `-f -` reads stdin.
    let out = sockdiag(&["resolve", "--json", &at(dns.addr()), "-f", "-", "-t", "AAAA"])
        .stdin(b"host.lab.test\nv6only.lab.test\n")
        .timeout(std::time::Duration::from_secs(20))
        .run();
    let doc = valid(out.json());
    let got: Vec<(&str, &str)> = doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["name"].as_str().unwrap(),
                q["records"][0]["data"].as_str().unwrap(),
            )
        })
        .collect();
    let (h6, o6) = (lz::HOST_V6.to_string(), lz::V6ONLY_V6.to_string());
    assert_eq!(
        got,
        [("host.lab.test.", h6.as_str()), ("v6only.lab.test.", o6.as_str())]
    );
    assert_eq!(out.status.code(), Some(0));
}

/// A closed loopback port: if a usage check ever let one of these through, the query stays on loopback
/// instead of reaching the host's resolver.
const NOWHERE: &str = "@127.0.0.1:9";

#[test]
fn malformed_input_exits_2_with_what_is_accepted() {
    let cases: [(&[&str], &str); 9] = [
        (
            &[NOWHERE, "-t", "AXFR", "a.test"],
            "bad record type 'AXFR': a zone transfer, not a question resolve asks; accepted: a type name",
        ),
        (&["@127.0.0.1:0", "a.test"], "bad server '127.0.0.1:0'"),
        (&["--server", "[::1", "a.test"], "bad server '[::1'"),
        (&[NOWHERE, "-x", "a.test"], "-x needs an IP address"),
        (
            &[NOWHERE, "-t", "A", "-w", "2x", "a.test"],
            "bad duration '2x': unknown unit 'x'",
        ),
        (
            &[NOWHERE, "-t", "A", "-w", "0s", "a.test"],
            "'0s' is zero; accepted: more than zero",
        ),
        (
            &[NOWHERE, "-t", "A", "--service", "http", "a.test"],
            "--service shapes the system resolver's lookup",
        ),
        (&[NOWHERE, "-t", "A", "a..test"], "bad name 'a..test'"),
        (&["--compare", "-t", "A", "a.test"], "cannot be used with"),
    ];
    for (args, want) in cases {
        let out = sockdiag(&["resolve"]).args(args).run();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", out.stderr());
        assert!(out.stderr().contains(want), "{args:?}: {}", out.stderr());
        assert!(out.stdout().is_empty(), "{args:?}");
    }
    let dir = std::env::temp_dir().join(format!("sdg-bad-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("names.txt");
    std::fs::write(&file, "ok.test\nnot ok\n").unwrap();
    let out = sockdiag(&["resolve", NOWHERE, "-t", "A", "-f", file.to_str().unwrap()]).run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr().contains("names.txt line 2: bad name 'not ok'"),
        "{}",
        out.stderr()
    );
    let out = sockdiag(&[
        "resolve",
        NOWHERE,
        "-t",
        "A",
        "-f",
        dir.join("absent.txt").to_str().unwrap(),
    ])
    .run();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr().contains("absent.txt': no such file"),
        "{}",
        out.stderr()
    );
    // With --json the error is a JSON document too.
    let out = sockdiag(&["resolve", "--json", NOWHERE, "-t", "BOGUS", "a.test"]).run();
    assert_eq!(valid(out.json())["error"]["exit_code"], 2);
}

/// A namespace whose resolv.conf names a silent server first and the lab server second.
fn namespace_with_system_servers(resolv: &str) -> (Netns, DnsServer) {
    let ns = Netns::builder().resolv_conf(resolv).build();
    let dns = DnsServer::start_in(&ns, &[lz::lab_zone()]);
    (ns, dns)
}

#[test]
fn system_servers_from_resolv_conf_are_shown_and_asked_in_order() {
    needs!(lab);
    let silent_ip = "203.0.113.254";
    let resolv = format!(
        "nameserver {silent_ip}\nnameserver {}\nsearch lab.test corp.test\noptions ndots:2 timeout:1\n",
        addr::LAB_DNS_V4
    );
    let (ns, dns) = namespace_with_system_servers(&resolv);
    ns.ip(&["addr", "add", &format!("{silent_ip}/32"), "dev", "lo"]);
    let silent_at: SocketAddr = format!("{silent_ip}:53").parse().unwrap();
    let _silent = StubServer::start_in(&ns, support::dns::stub::StubMode::Silent, silent_at);
    let out = sockdiag(&[
        "resolve",
        "--json",
        "-t",
        "A",
        "-w",
        "300ms",
        "--attempts",
        "1",
        "host.lab.test",
    ])
    .in_ns(&ns)
    .run();
    let doc = valid(out.json());
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr());
    let src = &doc["server_source"];
    assert_eq!(src["source"], "system");
    assert_eq!(src["resolv_conf"]["path"], "/etc/resolv.conf");
    assert_eq!(
        src["resolv_conf"]["search"],
        serde_json::json!(["lab.test", "corp.test"])
    );
    assert_eq!(src["resolv_conf"]["ndots"], 2);
    let q = &doc["queries"][0];
    assert_eq!(
        q["server"],
        dns.addr().to_string(),
        "the second nameserver answered"
    );
    let tries: Vec<(&str, &str)> = q["tries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["server"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tries,
        [
            ("203.0.113.254:53", "timed_out"),
            (dns.addr().to_string().as_str(), "answered")
        ]
    );
    assert_eq!(rows_of(q, "A"), expected(dns.zones(), "host.lab.test", "A"));

    let out = sockdiag(&[
        "resolve",
        "-t",
        "A",
        "-w",
        "300ms",
        "--attempts",
        "1",
        "host.lab.test",
    ])
    .in_ns(&ns)
    .run();
    let text = out.stdout();
    assert!(
        text.contains(&format!(
            "# server: the system's, from /etc/resolv.conf: nameserver {silent_ip}, {}; search lab.test corp.test; ndots 2",
            addr::LAB_DNS_V4
        )),
        "{text}"
    );
    assert!(text.contains(&format!("{} udp", dns.addr())), "{text}");

    // An IPv6 server chosen with @[V6]:PORT, and -6 keeping only the IPv6 system server.
    let v6 = SocketAddr::new(IpAddr::V6(addr::LAB_DNS_V6), 53);
    let out = sockdiag(&[
        "resolve",
        "--json",
        &format!("@[{}]:53", addr::LAB_DNS_V6),
        "-t",
        "AAAA",
        "host.lab.test",
    ])
    .in_ns(&ns)
    .run();
    let doc = valid(out.json());
    assert_eq!(doc["queries"][0]["server"], v6.to_string());
    assert_eq!(
        rows_of(&doc["queries"][0], "AAAA"),
        expected(dns.zones(), "host.lab.test", "AAAA")
    );
    let out = sockdiag(&["resolve", "-6", "-t", "A", "host.lab.test"])
        .in_ns(&ns)
        .run();
    assert_eq!(
        out.status.code(),
        Some(2),
        "no IPv6 nameserver in this resolv.conf: {}",
        out.stderr()
    );
    assert!(
        out.stderr().contains("no inet6 nameserver in /etc/resolv.conf"),
        "{}",
        out.stderr()
    );
}

#[test]
fn names_file_without_dns_flags_keeps_the_system_view() {
    needs!(lab);
    let ns = Netns::new();
    let _dns = DnsServer::start_in(&ns, &[lz::lab_zone()]);
    let file = std::env::temp_dir().join(format!("sdg-sysnames-{}.txt", std::process::id()));
    std::fs::write(&file, "host.lab.test\nv4only.lab.test\n").unwrap();
    let out = sockdiag(&["resolve", "--json", "-f", file.to_str().unwrap()])
        .in_ns(&ns)
        .run();
    let _ = std::fs::remove_file(&file);
    let doc = valid(out.json());
    let results = doc["results"].as_array().expect("the getaddrinfo report");
    assert_eq!(results.len(), 2);
    let addrs = |r: &Value| {
        let mut v: Vec<String> = r["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["address"].as_str().unwrap().to_string())
            .collect();
        v.dedup();
        v
    };
    let mut host = addrs(&results[0]);
    host.sort();
    host.dedup();
    assert_eq!(host, [lz::HOST_V4.to_string(), lz::HOST_V6.to_string()]);
    assert_eq!(addrs(&results[1]), [lz::V4ONLY_V4.to_string()]);
}
