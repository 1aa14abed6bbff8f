//! `sockdiag resolve --trace`: a lab hierarchy in a namespace, one NSD per server on its own address: the root
//! (203.0.113.1), the TLD `test.` (203.0.113.2), and `shop.test.` delegated to three servers: ns1 serves it
//! (and lists a fourth server the parent does not, and another address for ns2 than the parent's glue), ns2
//! serves another zone only (lame), ns3's packets are dropped (timeout). Every server is asked, every fault
//! is marked.

use crate::support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde_json::Value;
use support::dns::{DnsServer, Zone};
use support::{Netns, sockdiag};

use crate::resolve_formats::valid;

const ROOT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const TLD: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const NS1: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
const NS2: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 4);
const NS3: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);
const WWW: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 80);

fn at(ip: Ipv4Addr) -> [SocketAddr; 1] {
    [SocketAddr::new(IpAddr::V4(ip), 53)]
}

/// The four servers, each an NSD on its own address in `ns`.
fn hierarchy(ns: &Netns) -> Vec<DnsServer> {
    let mut batch = String::new();
    for ip in [ROOT, TLD, NS1, NS2, NS3] {
        batch += &format!("addr replace {ip}/32 dev lo\n");
    }
    ns.ip_batch(&batch);
    // ns3 is listed and glued but silent: its queries are dropped as they arrive (no port unreachable).
    ns.nft(&format!(
        "table inet trace_lab {{\n chain in {{\n  type filter hook input priority 0;\n  ip daddr {NS3} udp dport 53 drop\n }}\n}}\n"
    ));
    let root = Zone::bare("", "a.root.test")
        .ns("@", "a.root.test.")
        .a("a.root.test.", ROOT)
        .ns("test.", "ns1.tld.test.")
        .a("ns1.tld.test.", TLD);
    // The SOA's mailbox is made from the origin, which the root lacks: name one.
    let text = root
        .to_zone_file()
        .replace("hostmaster..", "hostmaster.root.test.");
    let root = root.with_signed_text(text);
    let tld = Zone::bare("test", "ns1.tld.test")
        .ns("@", "ns1.tld.test.")
        .a("ns1.tld", TLD)
        .ns("shop", "ns1.shop.test.")
        .ns("shop", "ns2.shop.test.")
        .ns("shop", "ns3.shop.test.")
        .a("ns1.shop", NS1)
        .a("ns2.shop", NS2)
        .a("ns3.shop", NS3);
    let shop = Zone::bare("shop.test", "ns1.shop.test")
        .ns("@", "ns1")
        .ns("@", "ns2")
        .ns("@", "ns3")
        .ns("@", "ns4")
        .a("ns1", NS1)
        .a("ns2", Ipv4Addr::new(203, 0, 113, 44))
        .a("ns3", NS3)
        .a("ns4", Ipv4Addr::new(203, 0, 113, 6))
        .a("www", WWW);
    let other = Zone::bare("other.test", "ns2.shop.test").ns("@", "ns2.shop.test.");
    vec![
        DnsServer::start_in_at(ns, &[root], &at(ROOT)),
        DnsServer::start_in_at(ns, &[tld], &at(TLD)),
        DnsServer::start_in_at(ns, &[shop], &at(NS1)),
        DnsServer::start_in_at(ns, &[other], &at(NS2)),
    ]
}

#[test]
fn trace_asks_every_server_and_marks_lame_silent_and_mismatched() {
    needs!(lab, "nsd", "nft");
    let ns = Netns::new();
    let _servers = hierarchy(&ns);
    let hints = std::env::temp_dir().join(format!("sdg-hints-{}", std::process::id()));
    std::fs::write(&hints, format!(". NS a.root.test.\na.root.test. A {ROOT}\n")).unwrap();
    let hints_arg = hints.to_str().unwrap().to_string();
    let args = [
        "resolve",
        "--json",
        "--trace",
        "--root-hints",
        &hints_arg,
        "-w",
        "1",
        "www.shop.test",
    ];
    let out = sockdiag(&args).in_ns(&ns).run();
    assert_eq!(out.code(), 1, "the marks make it negative: {out}");
    let doc: Value = valid(out.json());
    assert_eq!(doc["mode"], "trace");
    let run = &doc["traces"][0];
    assert_eq!(run["answered"], true, "{run}");
    assert!(
        run["result"]
            .as_str()
            .unwrap()
            .starts_with(&format!("A {WWW} from ns1.shop.test.")),
        "{run}"
    );
    let steps = run["steps"].as_array().unwrap();
    let zones: Vec<&str> = steps.iter().map(|s| s["zone"].as_str().unwrap()).collect();
    assert_eq!(zones, [".", "test.", "shop.test."]);
    let replies = |i: usize| -> Vec<(String, String)> {
        steps[i]["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["address"].as_str().unwrap().to_string(),
                    s["reply"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(replies(0), [(ROOT.to_string(), "referral".to_string())]);
    assert_eq!(replies(1), [(TLD.to_string(), "referral".to_string())]);
    assert!(
        steps[1]["servers"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("ns1.shop.test., ns2.shop.test., ns3.shop.test.")
    );
    let mut last = replies(2);
    last.sort();
    assert_eq!(
        last,
        [
            (NS1.to_string(), "answer".to_string()),
            (NS2.to_string(), "lame".to_string()),
            (NS3.to_string(), "timeout".to_string()),
        ]
    );
    let marks: Vec<&str> = steps[2]["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let has = |words: &str| marks.iter().any(|m| m.contains(words));
    assert!(
        has(&format!("lame delegation: ns2.shop.test. ({NS2})")),
        "{marks:?}"
    );
    assert!(has(&format!("ns3.shop.test. ({NS3}) timed out")), "{marks:?}");
    assert!(
        has(
            "NS sets differ: the parent lists ns1.shop.test., ns2.shop.test., ns3.shop.test., ns1.shop.test. (203.0.113.3) lists ns1.shop.test., ns2.shop.test., ns3.shop.test., ns4.shop.test."
        ),
        "{marks:?}"
    );
    assert!(
        has(&format!(
            "glue disagrees for ns2.shop.test.: the parent gives {NS2}, the zone itself says 203.0.113.44"
        )),
        "{marks:?}"
    );
    assert!(
        steps[0]["marks"].as_array().unwrap().is_empty() && steps[1]["marks"].as_array().unwrap().is_empty()
    );
    // The table shows every server and the marks.
    let table_args: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
    let text = sockdiag(&table_args).in_ns(&ns).run().stdout();
    let _ = std::fs::remove_file(&hints);
    assert!(
        text.contains("lame: refused")
            && text.contains("timed out")
            && text.contains("! www.shop.test. A shop.test.: lame delegation"),
        "{text}"
    );
}
