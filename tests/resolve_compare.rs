//! `sockdiag resolve --compare`: getaddrinfo beside DNS inside lab namespaces whose hosts file, resolv.conf
//! search list and addresses create each kind of difference; every address and reason is checked against
//! what the namespace and the zone hold. No query goes to the host's own resolver.

use crate::support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde_json::Value;
use support::dns::{DnsServer, Zone, lab_zone as lz};
use support::netns::DEFAULT_HOSTS;
use support::{Netns, Run, addr, sockdiag};

use crate::resolve_formats::valid;

const PINNED_HOSTS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 77);
const PINNED_DNS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 78);
const DB_EXPANDED: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
const DB_AS_GIVEN: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 20);

fn zones() -> Vec<Zone> {
    vec![
        lz::lab_zone().a("pinned", PINNED_DNS).a("db", DB_EXPANDED),
        // A top-level zone "db", so the bare name exists as given too.
        Zone::new("db").a("@", DB_AS_GIVEN),
    ]
}

/// Runs `sockdiag resolve ARGS` in `ns`.
fn run(ns: &Netns, args: &[&str]) -> Run {
    sockdiag(&["resolve"]).args(args).in_ns(ns).run()
}

/// Runs `sockdiag resolve --json --compare ARGS` in `ns`; returns the document and the exit code.
fn json(ns: &Netns, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["--json", "--compare"];
    all.extend_from_slice(args);
    let out = run(ns, &all);
    (valid(out.json()), out.code())
}

fn ips(v: &Value) -> Vec<IpAddr> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect()
}

/// (address, in system, in DNS, reason) for each row of a name.
fn rows(n: &Value) -> Vec<(IpAddr, bool, bool, String)> {
    n["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().parse().unwrap(),
                r["system"].as_bool().unwrap(),
                r["dns"].as_bool().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn why(n: &Value, i: usize) -> String {
    n["rows"][i]["why"].as_str().unwrap().to_string()
}

#[test]
fn compare_explains_hosts_search_cname_and_agreement() {
    needs!(lab);
    let hosts = format!("{DEFAULT_HOSTS}{PINNED_HOSTS} pinned.lab.test pinned\n");
    let resolv = format!(
        "nameserver {}\nsearch lab.test\noptions ndots:1 timeout:1 attempts:1\n",
        addr::LAB_DNS_V4
    );
    let ns = Netns::builder().hosts(&hosts).resolv_conf(&resolv).build();
    let _dns = DnsServer::start_in(&ns, &zones());
    let hosts_line = hosts.lines().position(|l| l.contains("pinned")).unwrap() + 1;
    let host4 = IpAddr::V4(lz::HOST_V4);
    let host6 = IpAddr::V6(lz::HOST_V6);

    let (doc, code) = json(
        &ns,
        &[
            "host.lab.test",
            "pinned.lab.test",
            "host",
            "db",
            "alias.lab.test",
            lz::MISSING,
        ],
    );
    assert_eq!(code, 1, "host (as given) and missing have no DNS address");
    let n = &doc["names"];
    assert_eq!(
        doc["dns_servers"][0],
        SocketAddr::new(IpAddr::V4(addr::LAB_DNS_V4), 53).to_string()
    );
    assert_eq!(
        doc["dns_server_source"]["resolv_conf"]["search"],
        serde_json::json!(["lab.test"])
    );

    // Agreement, stated plainly.
    let host = &n[0];
    assert_eq!(host["agree"], true);
    let mut sys = ips(&host["system"]["addresses"]);
    sys.sort();
    assert_eq!(sys, [host4, host6]);
    assert!(rows(host).iter().all(|r| r.1 && r.2 && r.3 == "agree"), "{host}");
    assert!(
        host["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("agree: the system and DNS both give"),
        "{host}"
    );

    // The hosts file answers first: its line is cited, and DNS's different address is shadowed.
    let pinned = &n[1];
    assert_eq!(pinned["agree"], false);
    assert_eq!(ips(&pinned["system"]["addresses"]), [IpAddr::V4(PINNED_HOSTS)]);
    assert_eq!(ips(&pinned["dns"]["addresses"]), [IpAddr::V4(PINNED_DNS)]);
    assert_eq!(pinned["hosts"][0]["line"], hosts_line);
    assert_eq!(
        rows(pinned),
        [
            (IpAddr::V4(PINNED_HOSTS), true, false, "hosts".to_string()),
            (IpAddr::V4(PINNED_DNS), false, true, "hosts_first".to_string())
        ]
    );
    assert!(why(pinned, 0).starts_with(&format!(
        "/etc/hosts line {hosts_line} ({PINNED_HOSTS} pinned.lab.test pinned)"
    )));
    assert_eq!(pinned["system_source"], format!("/etc/hosts line {hosts_line}"));

    // A bare name: the search list expanded it (0 dots < ndots 1); DNS for "host." has nothing.
    let bare = &n[2];
    assert_eq!(bare["dns"]["name"], "host.");
    assert!(ips(&bare["dns"]["addresses"]).is_empty());
    assert_eq!(bare["system"]["canonical_name"], "host.lab.test");
    let r = rows(bare);
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|r| r.1 && !r.2 && r.3 == "search"), "{bare}");
    let text = why(bare, 0);
    assert!(
        text.contains("the system asked host.lab.test. (suffix 'lab.test' from /etc/resolv.conf)"),
        "{text}"
    );
    assert!(text.contains("'host' has 0 dots, fewer than ndots:1"), "{text}");
    assert_eq!(bare["search"]["rule"]["ndots"], 1);
    let cands: Vec<&str> = bare["search"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cands, ["host.lab.test.", "host."]);

    // A bare name that exists both ways: the expansion wins, so DNS's answer for the name as given is unused.
    let db = &n[3];
    assert_eq!(
        rows(db),
        [
            (IpAddr::V4(DB_EXPANDED), true, false, "search".to_string()),
            (IpAddr::V4(DB_AS_GIVEN), false, true, "search_first".to_string())
        ]
    );
    assert!(
        why(db, 1).contains("not used: a search-list expansion answered first: db.lab.test."),
        "{}",
        why(db, 1)
    );

    // A CNAME chain the system followed: same addresses, canonical name explained.
    let alias = &n[4];
    assert_eq!(alias["agree"], true);
    assert_eq!(
        alias["dns"]["cname_chain"],
        serde_json::json!(["alias.lab.test.", "www.lab.test.", "host.lab.test."])
    );
    assert_eq!(alias["system"]["canonical_name"], "host.lab.test");
    let notes: Vec<&str> = alias["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        notes.contains(
            &"CNAME followed: the system went alias.lab.test. -> www.lab.test. -> host.lab.test. to its canonical name host.lab.test"
        ),
        "{notes:?}"
    );

    // Nothing on either side agrees too, and says why.
    let missing = &n[5];
    assert_eq!(missing["agree"], true);
    assert!(rows(missing).is_empty());
    let note = missing["notes"][0].as_str().unwrap();
    assert!(
        note.starts_with("agree: no address on either side (system: EAI_NONAME"),
        "{note}"
    );
    assert!(note.contains("A: NXDOMAIN (negative TTL 30)"), "{note}");

    // The table carries the same verdicts.
    let out = run(&ns, &["--compare", "pinned.lab.test", "db"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "ADDRESS", "SYSTEM", "DNS", "WHY"]);
    let line = text
        .lines()
        .find(|l| l.contains(&PINNED_HOSTS.to_string()))
        .unwrap();
    assert_eq!(
        line.split_whitespace().take(4).collect::<Vec<_>>(),
        ["pinned.lab.test", "198.51.100.77", "yes", "-"]
    );
    assert!(
        text.contains("# db: differ; system answer from DNS, as db.lab.test."),
        "{text}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "every name has addresses on both sides"
    );
}

#[test]
fn compare_explains_a_family_dropped_by_ai_addrconfig() {
    needs!(lab);
    // Only IPv4 beyond loopback: the DNS server's IPv4 address on lo and no IPv6 address but ::1.
    let resolv = format!("nameserver {}\noptions timeout:1 attempts:1\n", addr::LAB_DNS_V4);
    let ns = Netns::builder().resolv_conf(&resolv).build();
    ns.ip(&["addr", "add", &format!("{}/32", addr::LAB_DNS_V4), "dev", "lo"]);
    let at = SocketAddr::new(IpAddr::V4(addr::LAB_DNS_V4), 53);
    let _dns = DnsServer::start_in_at(&ns, &[lz::lab_zone()], &[at]);
    let (host4, host6) = (IpAddr::V4(lz::HOST_V4), IpAddr::V6(lz::HOST_V6));

    let (doc, code) = json(&ns, &["--ai-addrconfig", "host.lab.test"]);
    assert_eq!(code, 0);
    assert_eq!(
        doc["host_families"],
        serde_json::json!({"ipv4": true, "ipv6": false})
    );
    let n = &doc["names"][0];
    assert_eq!(
        ips(&n["system"]["addresses"]),
        [host4],
        "glibc dropped the AAAA answer"
    );
    assert_eq!(
        rows(n),
        [
            (host4, true, true, "agree".to_string()),
            (host6, false, true, "addrconfig".to_string())
        ]
    );
    assert_eq!(
        why(n, 1),
        "AI_ADDRCONFIG dropped IPv6: this host has no IPv6 address other than ::1"
    );
    assert_eq!(n["agree"], false);

    // Without AI_ADDRCONFIG the same namespace agrees: the flag made the difference.
    let (doc, _) = json(&ns, &["host.lab.test"]);
    assert_eq!(doc["names"][0]["agree"], true);
    assert!(doc["host_families"].is_null(), "{doc}");
    assert_eq!(doc["mode"], "compare");
}
