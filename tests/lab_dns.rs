//! Self-checks of the lab's DNS pieces: the zone as written is what getent and dig see.

use crate::support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::Command;

use support::cmd;
use support::dns::stub::StubMode;
use support::dns::{DnsServer, StubServer, Zone, lab_zone as lz};
use support::{Netns, addr};

/// One answer line of `dig +noall +answer`: owner, TTL, type, data.
#[derive(Debug, Clone, PartialEq)]
struct Rr {
    name: String,
    ttl: u32,
    rtype: String,
    data: String,
}

/// Runs dig against `server` (inside `ns` when given) and returns its full output.
fn dig(ns: Option<&Netns>, server: SocketAddr, args: &[&str]) -> String {
    let port = server.port().to_string();
    let at = format!("@{}", server.ip());
    let mut all = vec![at.as_str(), "-p", &port, "+time=1", "+tries=2"];
    all.extend_from_slice(args);
    let out = match ns {
        Some(ns) => ns.run("dig", &all),
        None => {
            let mut c = Command::new("dig");
            c.args(&all);
            cmd::output_with_timeout(c, None, std::time::Duration::from_secs(20))
        }
    };
    cmd::text(&out)
}

fn answers(ns: Option<&Netns>, server: SocketAddr, name: &str, rtype: &str) -> Vec<Rr> {
    parse_rrs(&dig(ns, server, &["+noall", "+answer", name, rtype]))
}

fn parse_rrs(text: &str) -> Vec<Rr> {
    text.lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?.trim_end_matches('.').to_string();
            let ttl = f.next()?.parse().ok()?;
            let _class = f.next()?;
            let rtype = f.next()?.to_string();
            let data = f.collect::<Vec<_>>().join(" ");
            Some(Rr {
                name,
                ttl,
                rtype,
                data,
            })
        })
        .collect()
}

fn status(out: &str) -> &str {
    out.split("status: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("<no status>")
}

/// getent output lines `ADDR STREAM|DGRAM|RAW [canonical]` reduced to distinct addresses, in order.
fn getent_addrs(out: &str) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = Vec::new();
    for ip in out
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
    {
        if !v.contains(&ip) {
            v.push(ip);
        }
    }
    v
}

#[test]
fn getent_in_a_namespace_sees_the_zone_the_test_wrote() {
    needs!(lab);
    let web4 = Ipv4Addr::new(198, 51, 100, 220);
    let web6: Ipv6Addr = "2001:db8:100::220".parse().unwrap();
    let only4 = Ipv4Addr::new(198, 51, 100, 221);
    let zone = Zone::new("check.test")
        .a("web", web4)
        .aaaa("web", web6)
        .cname("www", "web")
        .cname("alias", "www")
        .a("only4", only4);
    let ns = Netns::new();
    let _dns = DnsServer::start_in(&ns, &[zone]);

    let out = ns.run("getent", &["ahosts", "web.check.test"]);
    assert!(out.status.success(), "{}", cmd::text(&out));
    let mut got = getent_addrs(&String::from_utf8_lossy(&out.stdout));
    got.sort();
    assert_eq!(got, vec![IpAddr::V4(web4), IpAddr::V6(web6)]);

    // The CNAME chain alias -> www -> web yields web's address and canonical name.
    let out = ns.run("getent", &["ahostsv4", "alias.check.test"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(
        first.split_whitespace().collect::<Vec<_>>(),
        [&web4.to_string(), "STREAM", "web.check.test"]
    );

    let out = ns.run("getent", &["ahosts", "only4.check.test"]);
    assert_eq!(
        getent_addrs(&String::from_utf8_lossy(&out.stdout)),
        vec![IpAddr::V4(only4)]
    );

    let out = ns.run("getent", &["ahosts", "missing.check.test"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "NXDOMAIN: getent says not found: {}",
        cmd::text(&out)
    );
}

#[test]
fn dig_in_a_namespace_sees_answers_nxdomain_and_nodata() {
    needs!(lab);
    let ns = Netns::new();
    let dns = DnsServer::start_in(&ns, &[lz::lab_zone()]);
    assert_eq!(dns.addr(), SocketAddr::new(IpAddr::V4(addr::LAB_DNS_V4), 53));
    for server in dns.addrs() {
        let a = answers(Some(&ns), *server, "host.lab.test", "A");
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].ttl, a[0].data.as_str()),
            (lz::HOST_TTL, lz::HOST_V4.to_string().as_str())
        );
    }
    let out = dig(Some(&ns), dns.addr(), &[lz::MISSING, "A"]);
    assert_eq!(status(&out), "NXDOMAIN", "{out}");
    let soa = parse_rrs(&dig(
        Some(&ns),
        dns.addr(),
        &["+noall", "+authority", lz::MISSING, "A"],
    ));
    assert_eq!(soa.len(), 1, "NXDOMAIN carries the SOA: {soa:?}");
    assert_eq!((soa[0].rtype.as_str(), soa[0].ttl), ("SOA", lz::NEG_TTL));
    assert!(soa[0].data.ends_with(&format!(" {}", lz::NEG_TTL)), "{soa:?}");

    let out = dig(Some(&ns), dns.addr(), &["v4only.lab.test", "AAAA"]);
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert!(out.contains("ANSWER: 0,"), "NODATA: {out}");
}

#[test]
fn loopback_server_answers_every_record_type_with_its_ttl() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let s = dns.addr();
    assert!(s.ip().is_loopback() && s.port() != 53);
    let one = |name: &str, t: &str| {
        let v = answers(None, s, name, t);
        assert_eq!(v.len(), 1, "{name} {t}: {v:?}");
        v[0].clone()
    };

    let a = answers(None, s, "alias.lab.test", "AAAA");
    let chain: Vec<(&str, u32, &str)> = a
        .iter()
        .map(|r| (r.name.as_str(), r.ttl, r.rtype.as_str()))
        .collect();
    assert_eq!(
        chain,
        [
            ("alias.lab.test", lz::ALIAS_TTL, "CNAME"),
            ("www.lab.test", lz::WWW_TTL, "CNAME"),
            ("host.lab.test", lz::HOST_TTL, "AAAA")
        ]
    );
    assert_eq!(a[2].data, lz::HOST_V6.to_string());
    assert_eq!(one("short.lab.test", "A").ttl, lz::SHORT_TTL);
    let mut mx: Vec<String> = answers(None, s, "lab.test", "MX")
        .into_iter()
        .map(|r| r.data)
        .collect();
    mx.sort();
    assert_eq!(mx, ["10 mail.lab.test.", "20 mail2.lab.test."]);
    let txt = one("txt.lab.test", "TXT");
    assert_eq!(
        (txt.ttl, txt.data.as_str()),
        (lz::TXT_TTL, "\"v=lab1\" \"hello lab\"")
    );
    assert_eq!(one("lab.test", "NS").data, "ns1.lab.test.");
    assert!(
        one("lab.test", "SOA")
            .data
            .starts_with("ns1.lab.test. hostmaster.lab.test. 1 ")
    );
    assert_eq!(one("_lab._tcp.lab.test", "SRV").data, "10 5 8001 host.lab.test.");
    assert_eq!(one("lab.test", "CAA").data, "0 issue \"ca.lab.test\"");
    let ptr = parse_rrs(&dig(
        None,
        s,
        &["+noall", "+answer", "-x", &lz::HOST_V4.to_string()],
    ));
    assert_eq!(ptr[0].data, "host.lab.test.");
    let ptr = parse_rrs(&dig(
        None,
        s,
        &["+noall", "+answer", "-x", &lz::V6ONLY_V6.to_string()],
    ));
    assert_eq!(ptr[0].data, "v6only.lab.test.");
    let out = dig(None, s, &["-x", "198.51.100.99"]);
    assert_eq!(
        status(&out),
        "NXDOMAIN",
        "no PTR for an unlisted lab address: {out}"
    );
    assert_eq!(
        status(&dig(None, s, &["example.com", "A"])),
        "REFUSED",
        "out-of-zone names are refused"
    );
}

#[test]
fn large_txt_truncates_over_udp_and_answers_over_tcp() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let s = dns.addr();
    let udp_flags = |name: &str, edns: &str| {
        let out = dig(None, s, &[edns, "+ignore", "+notcp", name, "TXT"]);
        out.lines()
            .find(|l| l.starts_with(";; flags:"))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        udp_flags("big-txt.lab.test", "+noedns").contains(" tc"),
        "over 512 bytes without EDNS"
    );
    assert!(
        !udp_flags("big-txt.lab.test", "+edns=0").contains(" tc"),
        "fits the EDNS size"
    );
    assert!(
        udp_flags("huge-txt.lab.test", "+edns=0").contains(" tc"),
        "over the EDNS size"
    );
    for (name, len) in [
        ("big-txt.lab.test", lz::BIG_TXT_LEN),
        ("huge-txt.lab.test", lz::HUGE_TXT_LEN),
    ] {
        let rr = answers(None, s, name, "TXT");
        assert_eq!(rr.len(), 1, "dig retries over TCP after TC: {rr:?}");
        let text: String = rr[0].data.split('"').skip(1).step_by(2).collect();
        assert_eq!(text, lz::filler(len));
        let tcp = parse_rrs(&dig(None, s, &["+tcp", "+noall", "+answer", name, "TXT"]));
        assert_eq!(tcp, rr);
    }
}

#[test]
fn stubs_refuse_or_stay_silent() {
    needs!(dns);
    let refusing = StubServer::refusing_loopback();
    assert_eq!(status(&dig(None, refusing.addr(), &["host.lab.test"])), "REFUSED");
    assert_eq!(
        status(&dig(None, refusing.addr(), &["+tcp", "host.lab.test"])),
        "REFUSED"
    );
    let silent = StubServer::silent_loopback();
    let start = std::time::Instant::now();
    let out = dig(None, silent.addr(), &["+tries=1", "host.lab.test"]);
    assert!(
        out.contains("timed out") || out.contains("no servers could be reached"),
        "{out}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn refusing_stub_inside_a_namespace() {
    needs!(lab);
    let ns = Netns::new();
    ns.ip(&["addr", "add", &format!("{}/32", addr::LAB_DNS_V4), "dev", "lo"]);
    let at = SocketAddr::new(IpAddr::V4(addr::LAB_DNS_V4), 53);
    let _stub = StubServer::start_in(&ns, StubMode::Refuse, at);
    assert_eq!(status(&dig(Some(&ns), at, &["host.lab.test"])), "REFUSED");
    let out = ns.run("getent", &["ahosts", "host.lab.test"]);
    assert!(!out.status.success(), "getent fails against a refusing server");
}
