//! `sockdiag resolve` through the system resolver inside lab namespaces, where getaddrinfo reads the
//! namespace's own /etc/hosts and asks the lab's DNS server; every row is checked against the zone written here.

use crate::support;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use serde_json::Value;
use support::dns::{DnsServer, lab_zone as lz};
use support::{Netns, addr, sockdiag};

use crate::resolve_formats::valid;

/// A namespace whose resolver is the lab DNS server with the standard zone, plus extra /etc/hosts lines.
fn lab(extra_hosts: &str) -> (Netns, DnsServer) {
    let ns = Netns::builder()
        .hosts(&format!("{}{extra_hosts}", support::netns::DEFAULT_HOSTS))
        .build();
    let dns = DnsServer::start_in(&ns, &[lz::lab_zone()]);
    (ns, dns)
}

/// Runs `sockdiag resolve --json ARGS` in `ns`; returns the document and the exit code.
fn resolve(ns: &Netns, args: &[&str]) -> (Value, i32) {
    let out = sockdiag(&["resolve", "--json"]).args(args).in_ns(ns).run();
    (valid(out.json()), out.code())
}

/// Distinct addresses of one result.
fn addrs(result: &Value) -> BTreeSet<IpAddr> {
    result["addresses"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r["address"].as_str().unwrap().parse().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// (address, socket type, protocol) rows of one result.
fn rows(result: &Value) -> BTreeSet<(String, String, String)> {
    result["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("address"), s("socket_type"), s("protocol"))
        })
        .collect()
}

fn set<const N: usize>(ips: [IpAddr; N]) -> BTreeSet<IpAddr> {
    ips.into_iter().collect()
}

#[test]
fn dual_stack_name_gives_every_family_and_socket_type() {
    needs!(lab);
    let (ns, _dns) = lab("");
    let (doc, code) = resolve(&ns, &["host.lab.test"]);
    assert_eq!(code, 0, "{doc}");
    let r = &doc["results"][0];
    assert_eq!(r["canonical_name"], "host.lab.test");
    let mut want = BTreeSet::new();
    for ip in [lz::HOST_V4.to_string(), lz::HOST_V6.to_string()] {
        for (t, p) in [("stream", "tcp"), ("dgram", "udp"), ("raw", "any")] {
            want.insert((ip.clone(), t.to_string(), p.to_string()));
        }
    }
    assert_eq!(rows(r), want);
    for a in r["addresses"].as_array().unwrap() {
        let v4 = a["address"]
            .as_str()
            .unwrap()
            .parse::<IpAddr>()
            .unwrap()
            .is_ipv4();
        assert_eq!(a["family"], if v4 { "inet" } else { "inet6" }, "{a}");
    }

    let (doc, _) = resolve(&ns, &["multi.lab.test", "-6", "--socket-type", "stream"]);
    let r = &doc["results"][0];
    assert_eq!(addrs(r), set([lz::MULTI_V6[0].into(), lz::MULTI_V6[1].into()]));
    assert!(
        r["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["socket_type"] == "stream" && a["family"] == "inet6")
    );
}

#[test]
fn cname_chain_reports_the_canonical_name() {
    needs!(lab);
    let (ns, _dns) = lab("");
    let (doc, code) = resolve(&ns, &["alias.lab.test", "-4", "--socket-type", "stream"]);
    assert_eq!(code, 0);
    let r = &doc["results"][0];
    // alias -> www -> host: the canonical name is the chain's end.
    assert_eq!(r["canonical_name"], "host.lab.test");
    assert_eq!(addrs(r), set([lz::HOST_V4.into()]));

    let (doc, _) = resolve(&ns, &["alias.lab.test", "--no-ai-canonname", "-4"]);
    assert!(doc["results"][0]["canonical_name"].is_null(), "{doc}");
    assert!(
        !doc["settings"]["flags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("AI_CANONNAME"))
    );
}

#[test]
fn missing_family_and_missing_name_are_negative_results() {
    needs!(lab);
    let (ns, _dns) = lab("");
    let (doc, code) = resolve(&ns, &["v4only.lab.test"]);
    assert_eq!(code, 0);
    assert_eq!(addrs(&doc["results"][0]), set([lz::V4ONLY_V4.into()]));

    let (doc, code) = resolve(&ns, &["v4only.lab.test", "-6"]);
    assert_eq!(code, 1, "{doc}");
    let e = &doc["results"][0]["error"];
    assert!(
        ["EAI_NODATA", "EAI_ADDRFAMILY", "EAI_NONAME"].contains(&e["code"].as_str().unwrap()),
        "{e}"
    );

    let (doc, code) = resolve(&ns, &[lz::MISSING]);
    assert_eq!(code, 1);
    assert_eq!(doc["results"][0]["status"], "error");
    assert_eq!(doc["results"][0]["error"]["code"], "EAI_NONAME");
    assert_eq!(
        doc["results"][0]["error"]["message"],
        "no such name (or it has no address)"
    );

    // The table says so plainly, on stdout, with the exit code.
    let out = sockdiag(&["resolve", lz::MISSING]).in_ns(&ns).run();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with(lz::MISSING) && l.contains("(EAI_NONAME)")),
        "{text}"
    );
}

#[test]
fn many_names_concurrently_in_order_one_failing() {
    needs!(lab);
    let (ns, _dns) = lab("");
    let names = [
        "host.lab.test",
        lz::MISSING,
        "multi.lab.test",
        "v4only.lab.test",
        "www.lab.test",
        "short.lab.test",
    ];
    let mut args = names.to_vec();
    args.extend(["-4", "--parallel", "3"]);
    let started = std::time::Instant::now();
    let (doc, code) = resolve(&ns, &args);
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(code, 1, "one name fails");
    let results = doc["results"].as_array().unwrap();
    let got: Vec<&str> = results.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(got, names, "results come back in input order");
    let expect: [BTreeSet<IpAddr>; 6] = [
        set([lz::HOST_V4.into()]),
        BTreeSet::new(),
        set([lz::MULTI_V4[0].into(), lz::MULTI_V4[1].into()]),
        set([lz::V4ONLY_V4.into()]),
        set([lz::HOST_V4.into()]),
        set([lz::SHORT_V4.into()]),
    ];
    for (r, want) in results.iter().zip(expect) {
        assert_eq!(addrs(r), want, "{r}");
        // Each lookup really took time, and no more than the whole run did.
        let took = r["elapsed_ms"].as_f64().unwrap();
        assert!(
            took > 0.0 && took < wall_ms,
            "lookup {took} ms, run {wall_ms} ms: {r}"
        );
    }
    assert_eq!(results[1]["status"], "error");
    assert!(
        results
            .iter()
            .enumerate()
            .all(|(i, r)| (r["status"] == "ok") == (i != 1))
    );
}

#[test]
fn hosts_file_entries_come_before_dns() {
    needs!(lab);
    // host.lab.test is in DNS too; the namespace's /etc/hosts wins, as nsswitch "files dns" says.
    let (ns, _dns) = lab("198.51.100.77 host.lab.test\n198.51.100.78 files-only.lab.test fo\n");
    let (doc, code) = resolve(&ns, &["host.lab.test", "-4", "--socket-type", "stream"]);
    assert_eq!(code, 0);
    assert_eq!(addrs(&doc["results"][0]), set(["198.51.100.77".parse().unwrap()]));
    let (doc, _) = resolve(&ns, &["fo", "--socket-type", "stream"]);
    assert_eq!(addrs(&doc["results"][0]), set(["198.51.100.78".parse().unwrap()]));
    assert_eq!(doc["results"][0]["canonical_name"], "files-only.lab.test");
}

#[test]
fn services_fill_ports_per_socket_type() {
    needs!(lab);
    let (ns, _dns) = lab("");
    let (doc, code) = resolve(&ns, &["host.lab.test", "--service", "domain", "-4"]);
    assert_eq!(code, 0);
    let r = &doc["results"][0];
    let got: BTreeSet<(u64, String)> = r["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["port"].as_u64().unwrap(),
                a["protocol"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // domain is 53/tcp and 53/udp; there is no raw row for a service.
    assert_eq!(
        got,
        [(53, "tcp".to_string()), (53, "udp".to_string())]
            .into_iter()
            .collect()
    );
    assert_eq!(doc["settings"]["service"], "domain");
}

#[test]
fn reverse_lookups_use_the_lab_ptr_records() {
    needs!(lab);
    let (ns, _dns) = lab("");
    let v4 = lz::HOST_V4.to_string();
    let v6 = lz::HOST_V6.to_string();
    let (doc, code) = resolve(&ns, &[&v4, &v6, "--service", "443"]);
    assert_eq!(code, 0, "{doc}");
    for r in doc["results"].as_array().unwrap() {
        assert_eq!(r["lookup"], "reverse");
        assert_eq!(r["host"], "host.lab.test");
        assert_eq!(r["service_name"], "https");
    }
    // An address in the lab's reverse zone with no PTR: no name, a negative result.
    let (doc, code) = resolve(&ns, &["198.51.100.99"]);
    assert_eq!(code, 1);
    assert_eq!(doc["results"][0]["error"]["code"], "EAI_NONAME");
    assert_eq!(doc["results"][0]["error"]["message"], "no name for this address");
}

#[test]
fn addrconfig_drops_a_family_the_host_has_no_address_for() {
    needs!(lab);
    // This namespace has IPv4 only: the server address is added on lo, and lo's ::1 does not count.
    let resolv = format!("nameserver {}\noptions timeout:1 attempts:2\n", addr::LAB_DNS_V4);
    let ns = Netns::builder().resolv_conf(&resolv).build();
    ns.ip(&["addr", "add", &format!("{}/32", addr::LAB_DNS_V4), "dev", "lo"]);
    let _dns = DnsServer::start_in_at(
        &ns,
        &[lz::lab_zone()],
        &[SocketAddr::new(addr::LAB_DNS_V4.into(), 53)],
    );

    let (doc, _) = resolve(&ns, &["host.lab.test", "--socket-type", "stream"]);
    assert_eq!(
        addrs(&doc["results"][0]),
        set([lz::HOST_V4.into(), lz::HOST_V6.into()])
    );
    let (doc, code) = resolve(
        &ns,
        &["host.lab.test", "--socket-type", "stream", "--ai-addrconfig"],
    );
    assert_eq!(code, 0);
    assert_eq!(addrs(&doc["results"][0]), set([lz::HOST_V4.into()]));
    assert!(
        doc["settings"]["flags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("AI_ADDRCONFIG"))
    );
}

#[test]
fn v4mapped_with_all_adds_mapped_ipv4() {
    needs!(lab);
    let (ns, _dns) = lab("");
    let (doc, code) = resolve(
        &ns,
        &[
            "v4only.lab.test",
            "-6",
            "--ai-v4mapped",
            "--socket-type",
            "stream",
        ],
    );
    assert_eq!(code, 0, "{doc}");
    let mapped: IpAddr = format!("::ffff:{}", lz::V4ONLY_V4).parse().unwrap();
    assert_eq!(addrs(&doc["results"][0]), set([mapped]));

    let (doc, _) = resolve(
        &ns,
        &[
            "host.lab.test",
            "-6",
            "--ai-v4mapped",
            "--ai-all",
            "--socket-type",
            "stream",
        ],
    );
    let mapped: IpAddr = format!("::ffff:{}", lz::HOST_V4).parse().unwrap();
    assert_eq!(addrs(&doc["results"][0]), set([lz::HOST_V6.into(), mapped]));
}
