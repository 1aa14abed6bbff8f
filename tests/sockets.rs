//! `sockdiag sockets` in a namespace of the test's own, holding sockets the test made and knows: listeners on
//! loopback and on every address, an established pair, a connect stuck in SYN-SENT behind a drop rule, a UDP
//! socket, a Unix listener and a listener whose accept queue is full. Every one must appear with its state, ends,
//! queues and owner, with the diagnoses; and the set must equal what `ss -tuan` sees in the same namespace.

use crate::support;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::UnixListener;
use std::time::Duration;

use serde_json::Value;
use sockdiag::cli::examples::SOCKETS;
use socket2::{Domain, Socket, Type};

use support::{Netns, schema, sockdiag};

/// Everything the namespace holds; dropping it closes the sockets.
struct Held {
    _sockets: Vec<Box<dyn std::any::Any + Send>>,
    unix_path: String,
}

/// Ports of the known sockets.
const LOOPBACK_ONLY: u16 = 7001;
const ALL_ADDRESSES: u16 = 7002;
const UDP: u16 = 7003;
const FULL_QUEUE: u16 = 7004;
const FILTERED: u16 = 7009;

/// Opens the known sockets from a thread inside `ns`, so they belong to it (and to this test process).
fn hold_sockets(ns: &Netns) -> Held {
    ns.nft(&format!(
        "table inet t {{\nchain input {{ type filter hook input priority 0; policy accept;\ntcp dport {FILTERED} drop\n}}\n}}\n"
    ));
    let unix_path = format!("/tmp/sockdiag-{}.sock", ns.name());
    let path = unix_path.clone();
    let sockets = ns.enter(move || {
        let mut held: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
        held.push(Box::new(TcpListener::bind(("127.0.0.1", LOOPBACK_ONLY)).unwrap()));
        let all = TcpListener::bind(("0.0.0.0", ALL_ADDRESSES)).unwrap();
        let client = TcpStream::connect(("127.0.0.1", ALL_ADDRESSES)).unwrap();
        let (server, _) = all.accept().unwrap();
        held.extend([
            Box::new(all) as Box<dyn std::any::Any + Send>,
            Box::new(client),
            Box::new(server),
        ]);
        held.push(Box::new(UdpSocket::bind(("0.0.0.0", UDP)).unwrap()));
        let _ = std::fs::remove_file(&path);
        held.push(Box::new(UnixListener::bind(&path).unwrap()));
        // Backlog 1: two handshakes complete and wait to be accepted, and nobody accepts them.
        let full = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        full.bind(&SocketAddr::from(([127, 0, 0, 1], FULL_QUEUE)).into())
            .unwrap();
        full.listen(1).unwrap();
        held.push(Box::new(full));
        for _ in 0..2 {
            held.push(Box::new(TcpStream::connect(("127.0.0.1", FULL_QUEUE)).unwrap()));
        }
        // A connect the drop rule leaves unanswered: SYN-SENT for as long as the test needs.
        let stuck = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        stuck.set_nonblocking(true).unwrap();
        let _ = stuck.connect(&SocketAddr::from(([127, 0, 0, 1], FILTERED)).into());
        held.push(Box::new(stuck));
        held
    });
    Held {
        _sockets: sockets,
        unix_path,
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.unix_path);
    }
}

fn rows(doc: &Value) -> &Vec<Value> {
    doc["sockets"].as_array().expect("a sockets array")
}

fn find<'a>(doc: &'a Value, proto: &str, state: &str, local: &str) -> &'a Value {
    rows(doc)
        .iter()
        .find(|r| r["proto"] == proto && r["state"] == state && r["local"] == local)
        .unwrap_or_else(|| panic!("no {proto} {state} {local} in {doc:#}"))
}

fn notes(row: &Value) -> String {
    row["notes"].to_string()
}

#[test]
fn known_sockets_appear_with_state_queues_owner_and_diagnosis() {
    needs!(lab, "ss", "nft");
    let ns = Netns::new();
    ns.ip(&["link", "set", "lo", "up"]);
    let held = hold_sockets(&ns);
    let doc = sockdiag(&["--json", "sockets"]).in_ns(&ns).exits(0).json();
    schema::assert_valid("sockets", &doc);
    let me = std::process::id();
    let owned = |row: &Value| row["owners"].as_array().unwrap().iter().any(|o| o["pid"] == me);

    let lo = find(&doc, "tcp", "LISTEN", &format!("127.0.0.1:{LOOPBACK_ONLY}"));
    assert!(notes(lo).contains("loopback only"), "{lo}");
    assert!(owned(lo), "{lo}");
    let all = find(&doc, "tcp", "LISTEN", &format!("0.0.0.0:{ALL_ADDRESSES}"));
    assert!(!notes(all).contains("loopback only"), "{all}");
    let estab: Vec<&Value> = rows(&doc)
        .iter()
        .filter(|r| r["state"] == "ESTAB" && r["proto"] == "tcp")
        .collect();
    let pair = format!("127.0.0.1:{ALL_ADDRESSES}");
    assert!(estab.iter().any(|r| r["local"] == pair), "{estab:?}");
    assert!(estab.iter().any(|r| r["peer"] == pair), "{estab:?}");
    let ends_of_pair = estab.iter().filter(|r| r["local"] == pair || r["peer"] == pair);
    assert!(
        ends_of_pair.clone().count() == 2 && ends_of_pair.clone().all(|r| owned(r)),
        "{estab:?}"
    );
    assert!(
        ends_of_pair
            .clone()
            .all(|r| r["tcp"]["rtt_us"].as_u64().is_some()),
        "{estab:?}"
    );

    let udp = find(&doc, "udp", "UNCONN", &format!("0.0.0.0:{UDP}"));
    assert!(owned(udp), "{udp}");
    let unix = find(&doc, "unix", "LISTEN", &held.unix_path);
    assert_eq!(unix["kind"], "stream");
    assert!(owned(unix), "{unix}");

    let full = find(&doc, "tcp", "LISTEN", &format!("127.0.0.1:{FULL_QUEUE}"));
    assert_eq!(
        (full["recv_q"].as_u64(), full["send_q"].as_u64()),
        (Some(2), Some(1)),
        "{full}"
    );
    assert!(notes(full).contains("accept queue full"), "{full}");
    let stuck = rows(&doc)
        .iter()
        .find(|r| r["state"] == "SYN-SENT" && r["peer"] == format!("127.0.0.1:{FILTERED}"))
        .unwrap_or_else(|| panic!("no SYN-SENT to {FILTERED}: {doc:#}"));
    assert!(notes(stuck).contains("no SYN-ACK yet"), "{stuck}");

    // The table says the same in words.
    let table = sockdiag(&["sockets", "tcp", "listening"])
        .in_ns(&ns)
        .exits(0)
        .stdout();
    assert!(
        table.contains("accept queue full") && table.contains("loopback only"),
        "{table}"
    );
    assert!(
        !table.contains("ESTAB"),
        "the filter keeps listeners only: {table}"
    );
}

/// (proto, state, local, peer) with every wildcard written one way, as ss and sockdiag each write them.
fn key(proto: &str, state: &str, local: &str, peer: &str) -> (String, String, String, String) {
    let norm = |end: &str| {
        let end = end.replace("0.0.0.0:", "*:").replace("[::]:", "*:");
        if end.ends_with(":*") || end == "*" {
            "*".to_string()
        } else {
            end
        }
    };
    (proto.into(), state.into(), norm(local), norm(peer))
}

#[test]
fn the_same_sockets_as_ss_sees() {
    needs!(lab, "ss", "nft");
    let ns = Netns::new();
    ns.ip(&["link", "set", "lo", "up"]);
    let _held = hold_sockets(&ns);
    let ss = ns.run_ok("ss", &["-tuanH"]);
    let doc = sockdiag(&["--json", "sockets", "tcp", "udp"])
        .in_ns(&ns)
        .exits(0)
        .json();
    let theirs: BTreeSet<_> = ss
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            key(f[0], f[1], f[4], f[5])
        })
        .collect();
    let ours: BTreeSet<_> = rows(&doc)
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            key(&s("proto"), &s("state"), &s("local"), &s("peer"))
        })
        .collect();
    assert!(theirs.len() >= 8, "the namespace holds the known sockets: {ss}");
    assert_eq!(ours, theirs, "ss -tuan:\n{ss}");
}

#[test]
fn an_ordinary_user_sees_every_socket_and_is_told_whose_owner_is_hidden() {
    needs!(lab, "nft");
    let ns = Netns::new();
    ns.ip(&["link", "set", "lo", "up"]);
    let _held = hold_sockets(&ns);
    let root = sockdiag(&["--json", "sockets"]).in_ns(&ns).exits(0).json();
    let user = sockdiag(&["--json", "sockets"])
        .in_ns(&ns)
        .unprivileged()
        .exits(0)
        .json();
    assert_eq!(rows(&user).len(), rows(&root).len(), "{user:#}");
    assert_eq!(root["owners_hidden"], 0);
    let hidden = user["owners_hidden"].as_u64().unwrap();
    assert!(hidden >= 8, "the test's own sockets are root's: {user:#}");
    let text = sockdiag(&["sockets"]).in_ns(&ns).unprivileged().exits(0).stdout();
    assert!(
        text.contains(&format!("owners of {hidden} sockets not visible")),
        "{text}"
    );
}

#[test]
fn samples_show_retransmissions_climbing_on_a_connection_whose_peer_went_silent() {
    needs!(lab, "nft");
    let ns = Netns::new();
    ns.ip(&["link", "set", "lo", "up"]);
    let (client, server, listener) = ns.enter(|| {
        let listener = TcpListener::bind("127.0.0.1:7100").unwrap();
        let client = TcpStream::connect("127.0.0.1:7100").unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server, listener)
    });
    // From now on the server end hears nothing: what the client sends is retransmitted.
    ns.nft("table inet t {\nchain input { type filter hook input priority 0; policy accept;\ntcp dport 7100 drop\n}\n}\n");
    std::io::Write::write_all(&mut &client, b"hello").unwrap();
    let doc = sockdiag(&[
        "--json",
        "sockets",
        "established",
        ":7100",
        "-c",
        "3",
        "-i",
        "700ms",
    ])
    .in_ns(&ns)
    .timeout(Duration::from_secs(30))
    .exits(0)
    .json();
    let row = rows(&doc)
        .iter()
        .find(|r| r["peer"] == "127.0.0.1:7100")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert!(notes(row).contains("retransmitting"), "{row}");
    assert!(row["tcp"]["total_retrans"].as_u64().unwrap() >= 1, "{row}");
    assert_eq!(doc["samples"], 3);
    drop((client, server, listener));
}

#[test]
fn every_help_example_runs() {
    needs!(lab, "nft");
    let ns = Netns::new();
    ns.ip(&["link", "set", "lo", "up"]);
    let _held = hold_sockets(&ns);
    for example in SOCKETS {
        let words: Vec<&str> = example.command.split_whitespace().skip(1).collect();
        let words: Vec<&str> = words
            .iter()
            .map(|w| if *w == "1s" { "100ms" } else { w })
            .collect();
        let mut args = vec!["--json"];
        args.extend(&words);
        let doc = sockdiag(&args).in_ns(&ns).exits(0).json();
        schema::assert_valid("sockets", &doc);
        let listed = rows(&doc);
        if example.command.contains("listening") {
            assert!(
                listed
                    .iter()
                    .all(|r| r["state"] == "LISTEN" && r["proto"] == "tcp"),
                "{listed:?}"
            );
            assert!(listed.len() >= 3, "{}: {listed:?}", example.command);
        }
        if example.command.contains("syn-sent") {
            assert_eq!(listed.len(), 1, "{listed:?}");
        }
    }
}

#[test]
fn bad_filter_words_are_usage_errors() {
    let out = sockdiag(&["sockets", "tcp", "sideways"]).exits(2);
    assert!(out.stderr().contains("unknown filter word 'sideways'"), "{out}");
    assert!(out.stderr().contains("accepted: tcp"), "{out}");
    let out = sockdiag(&["sockets", "state", "dozing"]).exits(2);
    assert!(out.stderr().contains("syn-sent"), "{out}");
}

#[test]
fn ndjson_samples_stream_one_document_each() {
    let out = sockdiag(&["--format", "ndjson", "sockets", "tcp", "-c", "3", "-i", "100ms"]).exits(0);
    let lines: Vec<Value> = out
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (i, doc) in lines.iter().enumerate() {
        schema::assert_valid("sockets", doc);
        assert_eq!(doc["samples"], i as u64 + 1, "{doc}");
    }
}

#[test]
fn probe_of_a_closed_local_port_names_the_listener_on_another_address() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let doc = sockdiag(&["--json", "probe", "127.0.0.2", "-p", &port])
        .exits(1)
        .json();
    let probe = &doc["targets"][0]["probes"][0];
    assert_eq!(probe["state"], "closed", "{probe}");
    let me = std::fs::read_to_string("/proc/self/comm").unwrap();
    let note = format!(
        "closed on 127.0.0.2, but {} (pid {}) listens on 127.0.0.1:{port} only",
        me.trim_end(),
        std::process::id()
    );
    assert!(probe["reason"].as_str().unwrap().ends_with(&note), "{probe}");
}

#[test]
fn ctrl_c_during_sampling_prints_the_last_sample_and_exits_130() {
    // 100 samples a second apart: only Ctrl-C ends this run in time.
    let out = crate::probe::interrupted(&["--json", "sockets", "tcp", "-c", "100", "-i", "1s"], 130);
    let doc = out.json();
    schema::assert_valid("sockets", &doc);
    assert_eq!(doc["interrupted"], true, "{doc}");
    assert!(doc["samples"].as_u64().unwrap() < 100, "{doc}");
}

/// Cuts a plain line into cells at the columns where the header's words start.
fn cells(header: &str, line: &str) -> Vec<String> {
    let starts: Vec<usize> = header
        .char_indices()
        .filter(|&(i, c)| c != ' ' && (i == 0 || header.as_bytes()[i - 1] == b' '))
        .map(|(i, _)| i)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = starts.get(n + 1).copied().unwrap_or(usize::MAX).min(line.len());
            line.get(start.min(line.len())..end)
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .collect()
}

#[test]
fn plain_columns_stream_the_same_rows_in_the_same_order_as_json() {
    needs!(lab, "nft");
    let ns = Netns::new();
    ns.ip(&["link", "set", "lo", "up"]);
    let _held = hold_sockets(&ns);
    // Two connections closed by their client: two TIME-WAIT sockets, one counted row.
    ns.enter(|| {
        let server = TcpListener::bind(("127.0.0.1", 7010)).unwrap();
        for _ in 0..2 {
            let client = TcpStream::connect(("127.0.0.1", 7010)).unwrap();
            let (accepted, _) = server.accept().unwrap();
            drop(client);
            drop(accepted);
        }
    });
    let doc = sockdiag(&["--json", "sockets"]).in_ns(&ns).exits(0).json();
    let text = sockdiag(&["--format", "plain", "sockets"])
        .in_ns(&ns)
        .exits(0)
        .stdout();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header = lines.next().expect("a header line");
    assert!(header.starts_with("PROTO"), "{text}");
    let plain: Vec<Vec<String>> = lines.map(|l| cells(header, l)).collect();
    let json: Vec<Vec<String>> = rows(&doc)
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
            let proto = match r["kind"].as_str() {
                Some(kind) => format!("{}/{kind}", s("proto")),
                None => s("proto"),
            };
            let owner = r["owners"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| format!("{} ({})", o["process"].as_str().unwrap(), o["pid"]))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                proto,
                s("state"),
                s("local"),
                s("peer"),
                r["recv_q"].to_string(),
                r["send_q"].to_string(),
                owner,
            ]
        })
        .collect();
    let plain_front: Vec<Vec<String>> = plain.iter().map(|c| c[..7].to_vec()).collect();
    assert_eq!(plain_front, json, "plain:\n{text}");
    assert!(
        json.iter()
            .any(|r| r[1] == "TIME-WAIT" && r[3] == "127.0.0.1:7010"),
        "the TIME-WAIT pair is grouped on its service port: {doc:#}"
    );
    let me = format!("({})", std::process::id());
    assert!(json.iter().filter(|r| r[6].contains(&me)).count() >= 8, "{text}");
    let total = doc["states"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum::<u64>();
    assert!(text.contains(&format!("# {total} sockets: ")), "{text}");
}
