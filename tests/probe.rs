//! End-to-end tests of `sockdiag probe`: the built binary against real sockets on loopback and the lab's
//! routed namespaces and simulated path; every verdict is checked against what the lab set up.

use crate::support;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use serde_json::Value;
use support::dns::{DnsServer, lab_zone};
use support::netns::Netns;
use support::sim::{Scenario, SimPath, Target};
use support::topo::{RouterMode, Topology, Unreach, ports};
use support::{Run, sockdiag};

/// Every probe row of a report.
pub(crate) fn rows(report: &Value) -> Vec<&Value> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .flat_map(|t| t["probes"].as_array().expect("probes"))
        .collect()
}

/// The row for an address, protocol and port.
pub(crate) fn row<'a>(report: &'a Value, addr: IpAddr, proto: &str, port: u16) -> &'a Value {
    rows(report)
        .into_iter()
        .find(|r| r["address"] == addr.to_string() && r["protocol"] == proto && r["port"] == port)
        .unwrap_or_else(|| panic!("no row for {addr} {proto} {port} in {report:#}"))
}

/// Asserts a row's state and that its reason contains `reason`.
pub(crate) fn expect(report: &Value, addr: IpAddr, proto: &str, port: u16, state: &str, reason: &str) {
    let r = row(report, addr, proto, port);
    assert_eq!(r["state"], state, "{addr} {proto}/{port}: {r:#}");
    let why = r["reason"].as_str().unwrap_or_default();
    assert!(
        why.contains(reason),
        "{addr} {proto}/{port}: reason {why:?} lacks {reason:?}"
    );
}

/// A loopback port with nothing listening (bound then released: nothing else picks ports this high
/// on purpose, and the test re-checks the verdict against the listener list when in doubt).
pub(crate) fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------- input errors (no network)

#[test]
fn bad_input_exits_2_and_says_what_is_accepted() {
    for (args, says) in [
        (vec!["probe", "127.0.0.1", "0"], "bad port '0'"),
        (vec!["probe", "127.0.0.1", "-p", "70000"], "bad port '70000'"),
        (vec!["probe", "127.0.0.1", "-p", "22,,80"], "empty item"),
        (vec!["probe", "127.0.0.1", "-p", ""], "empty port list"),
        (
            vec!["probe", "127.0.0.1", "-p", "90-80"],
            "reversed range '90-80'",
        ),
        (
            vec!["probe", "127.0.0.1", "-p", "no-such-svc"],
            "unknown service 'no-such-svc'",
        ),
        (vec!["probe", "127.0.0.1:no-such-svc"], "unknown service"),
        (vec!["probe", "2001:db8::1:80:x", "80"], "unparsable target"),
        (vec!["probe", "[198.51.100.1]:80"], "unparsable target"),
        (vec!["probe", "a..b", "80"], "unparsable target"),
        (
            vec!["probe", "127.0.0.1%lo:80"],
            "a %scope goes only with an IPv6 address",
        ),
        (vec!["probe", "127.0.0.1"], "no ports for '127.0.0.1'"),
        (vec!["probe", "127.0.0.1", "80", "-w", "5x"], "bad duration '5x'"),
        (
            vec!["probe", "127.0.0.1", "80", "-w", "0s"],
            "for '--timeout <DURATION>': '0s' is zero; accepted: more than zero",
        ),
        (
            vec!["probe", "127.0.0.1", "80", "-i", "1d"],
            "bad duration '1d': unknown unit 'd'",
        ),
        (
            vec!["probe", "127.0.0.1", "80", "--send", "\\q"],
            "bad --send data",
        ),
        (vec!["probe", "-4", "::1", "80"], "is an IPv6 address"),
        (
            vec!["probe", "127.0.0.1", "80", "--send-hex", "abc"],
            "bad --send-hex",
        ),
        (vec!["probe", "127.0.0.1", "80", "-s", "nonsense"], "bad source"),
    ] {
        let out = sockdiag(&args).exits(2);
        let err = out.stderr();
        assert!(err.starts_with("sockdiag: "), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line only: {err}");
        assert!(
            err.trim_end().ends_with("--help')"),
            "{args:?}: points to the help: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    // Port-list errors say what is accepted.
    let out = sockdiag(&["probe", "127.0.0.1", "-p", "90-80"]).run();
    assert!(String::from_utf8_lossy(&out.stderr).contains("accepted:"));
}

// ---------------------------------------------------------------- loopback (no root)

#[test]
fn loopback_tcp_open_and_closed_with_exit_codes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = free_tcp_port();
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    let list = format!("{open},{closed}");
    // A closed port is a negative result.
    let out = sockdiag(&["--json", "probe", "127.0.0.1", &list]).exits(1);
    let report = out.json();
    support::schema::assert_valid("probe", &report);
    // Unknown is null, never left out; the timeout setting has one type.
    let r = row(&report, lo, "tcp", closed);
    for key in ["service", "banner", "stats", "scope"] {
        assert!(r.get(key).is_some_and(Value::is_null), "{key} in {r:#}");
    }
    assert_eq!(report["settings"]["timeout"], "adaptive");
    assert!(report["settings"]["timeout_ms"].is_null());
    assert_eq!(report["settings"]["adaptive_cap_ms"], 2000.0);
    expect(&report, lo, "tcp", open, "open", "connected");
    expect(&report, lo, "tcp", closed, "closed", "refused (TCP RST)");
    assert!(row(&report, lo, "tcp", open)["rtt_ms"].as_f64().unwrap() > 0.0);
    // Only open ports: exit 0; host:port form.
    let out = sockdiag(&["probe", &format!("127.0.0.1:{open}")]).exits(0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("open") && text.contains(&open.to_string()),
        "{text}"
    );
}

#[test]
fn loopback_ipv6_literal_with_port() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("SKIP loopback_ipv6_literal_with_port: no IPv6 loopback here");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let out = sockdiag(&["--json", "probe", &format!("[::1]:{port}")]).exits(0);
    let report = out.json();
    let r = row(&report, "::1".parse().unwrap(), "tcp", port);
    assert_eq!(r["state"], "open");
    assert_eq!(r["family"], "inet6");
}

#[test]
fn loopback_udp_reply_and_port_unreachable() {
    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let open = echo.local_addr().unwrap().port();
    echo.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let server = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        if let Ok((n, peer)) = echo.recv_from(&mut buf) {
            let mut reply = b"echo:".to_vec();
            reply.extend_from_slice(&buf[..n]);
            let _ = echo.send_to(&reply, peer);
        }
    });
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    let out = sockdiag(&[
        "--json",
        "probe",
        "--udp",
        "127.0.0.1",
        &format!("{open},{closed}"),
        "--send",
        "hi\\n",
    ])
    .run();
    server.join().unwrap();
    assert_eq!(out.code(), 1, "{out}");
    let report = out.json();
    support::schema::assert_valid("probe", &report);
    expect(&report, lo, "udp", open, "open", "reply received");
    assert_eq!(row(&report, lo, "udp", open)["banner"], "echo:hi\\n");
    expect(
        &report,
        lo,
        "udp",
        closed,
        "closed",
        "ICMP port unreachable from 127.0.0.1",
    );
}

#[test]
fn send_shows_the_first_bytes_the_server_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf).unwrap_or(0);
        let mut reply = b"+PONG ".to_vec();
        reply.extend_from_slice(&buf[..n]);
        reply.extend_from_slice(b"\x00\xff");
        let _ = conn.write_all(&reply);
    });
    let out = sockdiag(&[
        "--json",
        "probe",
        &format!("127.0.0.1:{port}"),
        "--send",
        "PING\\r\\n",
    ])
    .run();
    server.join().unwrap();
    assert_eq!(out.code(), 0, "{out}");
    let report = out.json();
    let r = row(&report, "127.0.0.1".parse().unwrap(), "tcp", port);
    assert_eq!(r["banner"], "+PONG PING\\r\\n\\x00\\xff");
    assert_eq!(report["settings"]["send"], "PING\\r\\n");
}

/// Runs sockdiag with `args`, interrupts it with Ctrl-C once it has had time to start probing, and returns the
/// finished run, checking its exit code: 130 for an interrupted run, the result's own code (here a closed port,
/// 1) for `-c 0`, whose normal end Ctrl-C is.
pub(crate) fn interrupted(args: &[&str], code: i32) -> support::Run {
    let child = sockdiag(args).spawn();
    // Long enough for the handler to be installed even on a loaded machine.
    std::thread::sleep(Duration::from_millis(1500));
    child.signal(libc::SIGINT);
    let out = child.wait(Duration::from_secs(10));
    assert_eq!(out.code(), code, "{out}");
    out
}

#[test]
fn ctrl_c_during_count_prints_the_summary_so_far() {
    let closed = free_tcp_port();
    // The run itself would last 50 s.
    let target = format!("127.0.0.1:{closed}");
    let out = interrupted(&["--json", "probe", &target, "-c", "1000", "-i", "50ms"], 130);
    let report = out.json();
    support::schema::assert_valid("probe", &report);
    assert_eq!(report["summary"]["interrupted"], true);
    let r = row(&report, "127.0.0.1".parse().unwrap(), "tcp", closed);
    let sent = r["stats"]["sent"].as_u64().unwrap();
    // Interrupted part-way: some probes went out, far from all 1000 (no wall-clock precision assumed).
    assert!((1..1000).contains(&sent), "interrupted mid-run: {sent} sent");
    assert_eq!(r["stats"]["received"].as_u64().unwrap(), sent, "RSTs are answers");
    assert_eq!(r["repeats"].as_array().unwrap().len() as u64, sent);
}

#[test]
fn count_zero_repeats_until_ctrl_c() {
    let closed = free_tcp_port();
    let target = format!("127.0.0.1:{closed}");
    let out = interrupted(&["--json", "probe", &target, "-c", "0", "-i", "50ms"], 1);
    let report = out.json();
    support::schema::assert_valid("probe", &report);
    assert_eq!(report["settings"]["count"], 0);
    assert_eq!(report["summary"]["interrupted"], true);
    let r = row(&report, "127.0.0.1".parse().unwrap(), "tcp", closed);
    assert!(r["stats"]["sent"].as_u64().unwrap() >= 2, "{r:#}");
}

#[test]
fn ndjson_streams_each_repeat_as_it_ends_and_the_summary_last() {
    let closed = free_tcp_port();
    let target = format!("127.0.0.1:{closed}");
    let out = interrupted(
        &["--format", "ndjson", "probe", &target, "-c", "0", "-i", "0.05"],
        1,
    );
    let text = out.stdout();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (summary, probes) = lines.split_last().expect("at least the summary");
    support::schema::assert_valid("probe", summary);
    assert!(probes.len() >= 2, "{text}");
    for (seq, line) in probes.iter().enumerate() {
        support::schema::assert_valid("probe-line", line);
        assert_eq!(line["event"], "probe");
        assert_eq!(line["port"], closed);
        assert_eq!(line["seq"], seq as u64, "one flow: lines in repeat order");
        assert_eq!(line["state"], "closed", "nothing listens on {closed}");
    }
    // Every streamed repeat is in the summary, and the summary has no repeat that was not streamed.
    let r = row(summary, "127.0.0.1".parse().unwrap(), "tcp", closed);
    assert_eq!(r["repeats"].as_array().unwrap().len(), probes.len(), "{text}");
}

#[test]
fn csv_has_a_header_and_one_record_per_port() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = free_tcp_port();
    let out = sockdiag(&[
        "--format",
        "csv",
        "probe",
        "127.0.0.1",
        &format!("{open},{closed}"),
    ])
    .exits(1);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2, "{out}");
    assert_eq!(&records[0][col("port")], open.to_string().as_str());
    assert_eq!(&records[0][col("state")], "open");
    assert_eq!(&records[1][col("state")], "closed");
    assert!(records[0][col("rtt_ms")].parse::<f64>().unwrap() > 0.0);
}

#[test]
fn all_ports_lists_every_closed_port() {
    let first = free_tcp_port().saturating_sub(40).max(1024);
    let range = format!("{first}-{}", first + 29);
    let summarised = sockdiag(&["probe", "127.0.0.1", &range]).run();
    let listed = sockdiag(&["probe", "127.0.0.1", &range, "--all-ports"]).run();
    let lines = |r: &Run| r.stdout().lines().filter(|l| l.starts_with("127.0.0.1")).count();
    assert!(
        summarised.stdout().contains("--all-ports lists them"),
        "{summarised}"
    );
    assert!(lines(&listed) >= 29, "{listed}");
    assert!(lines(&summarised) < lines(&listed));
}

// ---------------------------------------------------------------- the routed lab (root)

/// The standard target ports, both families, through two routers: every verdict against the ground truth.
#[test]
fn lab_tcp_and_udp_verdicts_match_the_ground_truth() {
    needs!(lab);
    let topo = Topology::builder().routers(2).build();
    for v6 in [false, true] {
        let t = topo.target_addr(v6);
        let target = t.to_string();
        let out = sockdiag(&["--json", "probe", &target, "8001-8004"])
            .in_ns(topo.client())
            .exits(1);
        let r = out.json();
        expect(&r, t, "tcp", ports::TCP_OPEN, "open", "connected");
        expect(&r, t, "tcp", ports::TCP_CLOSED, "closed", "refused (TCP RST)");
        expect(&r, t, "tcp", ports::TCP_FILTERED, "filtered", "no answer");
        // nftables on the target rejects with admin-prohibited (ICMP 3/13, ICMPv6 1/1), sent by the target.
        let prohibited = format!("ICMP communication administratively prohibited from {t}");
        expect(&r, t, "tcp", ports::TCP_REJECTED, "unreachable", &prohibited);
        // The filtered port waited for the adaptive timeout, not the 2 s cap: answers came in microseconds.
        let waited = row(&r, t, "tcp", ports::TCP_FILTERED)["reason"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(waited.contains("2 tries of 200 ms"), "{waited}");

        // The default (empty) datagram: the lab's echo answers it with an empty one.
        let out = sockdiag(&["--json", "probe", "--udp", &target, "9001-9003"])
            .in_ns(topo.client())
            .exits(1);
        let r = out.json();
        expect(&r, t, "udp", ports::UDP_ANSWERED, "open", "reply received");
        assert_eq!(row(&r, t, "udp", ports::UDP_ANSWERED)["banner"], "");
        // With --send, the echo's reply is the data sent.
        let out = sockdiag(&["--json", "probe", "--udp", &target, "9001-9003", "--send", "ping"])
            .in_ns(topo.client())
            .exits(1);
        let r = out.json();
        expect(&r, t, "udp", ports::UDP_ANSWERED, "open", "reply received");
        assert_eq!(row(&r, t, "udp", ports::UDP_ANSWERED)["banner"], "ping");
        expect(
            &r,
            t,
            "udp",
            ports::UDP_CLOSED,
            "closed",
            &format!("ICMP port unreachable from {t}"),
        );
        expect(&r, t, "udp", ports::UDP_DROPPED, "open_filtered", "no reply");
        // UDP silence is not open unless asked.
        let host = if v6 { format!("[{target}]") } else { target.clone() };
        let dropped = format!("{host}:u:{}", ports::UDP_DROPPED);
        let open = format!("{host}:u:{}", ports::UDP_ANSWERED);
        sockdiag(&["probe", &dropped, "-w", "300ms"])
            .in_ns(topo.client())
            .exits(1);
        sockdiag(&["probe", &dropped, &open, "-w", "300ms", "--udp-open-filtered-ok"])
            .in_ns(topo.client())
            .exits(0);
    }
}

/// Routers that refuse to forward: the ICMP reason and the router that sent it are named.
#[test]
fn lab_router_unreachables_are_named_with_their_sender() {
    needs!(lab);
    for (kind, v4_name, v6_name) in [
        (Unreach::Host, "host unreachable", "address unreachable"),
        (Unreach::Net, "net unreachable", "no route to destination"),
        (
            Unreach::AdminProhibited,
            "communication administratively prohibited",
            "communication administratively prohibited",
        ),
    ] {
        let topo = Topology::builder()
            .routers(2)
            .router(2, RouterMode::Unreachable(kind))
            .build();
        for v6 in [false, true] {
            let t = topo.target_addr(v6);
            let hop = topo.hop(2, v6);
            let name = if v6 { v6_name } else { v4_name };
            let args = [
                "--json",
                "probe",
                &t.to_string(),
                "-p",
                "t:8001,u:9001",
                "--send",
                "x",
            ];
            let out = sockdiag(&args).in_ns(topo.client()).exits(1);
            let r = out.json();
            let why = format!("ICMP {name} from {hop}");
            expect(&r, t, "tcp", ports::TCP_OPEN, "unreachable", &why);
            expect(&r, t, "udp", ports::UDP_ANSWERED, "filtered", &why);
        }
    }
}

/// A real DNS server on the target answers the probe's DNS query; an empty datagram gets silence.
#[test]
fn lab_udp_dns_payload_makes_a_real_server_answer() {
    needs!(lab);
    let topo = Topology::builder().routers(1).no_standard_ports().build();
    let addrs = [
        SocketAddr::new(topo.target_v4().into(), 53),
        SocketAddr::new(topo.target_v6().into(), 53),
    ];
    let _dns = DnsServer::start_in_at(topo.target(), &[lab_zone()], &addrs);
    for v6 in [false, true] {
        let t = topo.target_addr(v6);
        let out = sockdiag(&["--json", "probe", "--udp", &t.to_string(), "domain"])
            .in_ns(topo.client())
            .exits(0);
        let r = out.json();
        expect(&r, t, "udp", 53, "open", "reply received");
        assert_eq!(row(&r, t, "udp", 53)["service"], "domain");
        // Without the query (an empty datagram), the same server stays silent: the payload mattered.
        let out = sockdiag(&[
            "--json",
            "probe",
            "--udp",
            &t.to_string(),
            "53",
            "--send",
            "",
            "-w",
            "500ms",
        ])
        .in_ns(topo.client())
        .run();
        expect(&out.json(), t, "udp", 53, "open_filtered", "no reply");
    }
}

/// A name with both families: every address is probed, rows grouped under the name; -4/-6 restrict.
#[test]
fn lab_name_with_both_families_probes_every_address() {
    needs!(lab);
    let topo = Topology::builder().routers(1).dns().build();
    let name = format!("target.{}", support::dns::lab_zone::ORIGIN);
    let (v4, v6): (IpAddr, IpAddr) = (topo.target_v4().into(), topo.target_v6().into());
    let out = sockdiag(&["--json", "probe", &name, "8001,8002"])
        .in_ns(topo.client())
        .exits(1);
    let r = out.json();
    assert_eq!(r["targets"].as_array().unwrap().len(), 1);
    let t = &r["targets"][0];
    assert_eq!(t["target"], name.as_str());
    let addrs: Vec<&str> = t["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(addrs.len(), 2, "{addrs:?}");
    assert!(addrs.contains(&v4.to_string().as_str()) && addrs.contains(&v6.to_string().as_str()));
    for a in [v4, v6] {
        expect(&r, a, "tcp", 8001, "open", "connected");
        expect(&r, a, "tcp", 8002, "closed", "RST");
    }
    for (flag, want) in [("-4", v4), ("-6", v6)] {
        let out = sockdiag(&["--json", "probe", flag, &name, "8001"])
            .in_ns(topo.client())
            .exits(0);
        let r = out.json();
        assert_eq!(rows(&r).len(), 1, "{r:#}");
        expect(&r, want, "tcp", 8001, "open", "connected");
    }
    // The table groups by name; an unknown name is a negative result, not a usage error.
    let out = sockdiag(&["probe", &name, "8001"]).in_ns(topo.client()).run();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().filter(|l| l.starts_with(&name)).count(), 2, "{text}");
    let missing = support::dns::lab_zone::MISSING;
    let out = sockdiag(&["probe", missing, "80"]).in_ns(topo.client()).exits(1);
    assert!(out.stdout().contains("name lookup failed"), "{out}");
    let out = sockdiag(&["--json", "probe", missing, "80", "-w", "1"])
        .in_ns(topo.client())
        .exits(1);
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    assert!(
        r["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("name lookup failed")
    );
    assert_eq!(r["settings"]["timeout"], "fixed");
    assert_eq!(r["settings"]["timeout_ms"], 1000.0);
    assert!(r["settings"]["adaptive_cap_ms"].is_null());
}

/// `--send` against the lab's echo listener; `--source` binds the local side.
#[test]
fn lab_send_and_source() {
    needs!(lab);
    let topo = Topology::builder().routers(1).build();
    let t: IpAddr = topo.target_v4().into();
    let target = format!("{t}:{}", ports::TCP_OPEN);
    let src = format!("{}:40404", topo.client_v4());
    let out = sockdiag(&["--json", "probe", &target, "--send", "hello lab\\n", "-s", &src])
        .in_ns(topo.client())
        .exits(0);
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    assert_eq!(r["settings"]["source"], src.as_str());
    let p = row(&r, t, "tcp", ports::TCP_OPEN);
    assert_eq!(p["banner"], "hello lab\\n");
    assert_eq!(p["local"], src.as_str());
    // A source address this host does not have is a system problem, reported once.
    let out = sockdiag(&["probe", &target, "-s", "198.51.100.250"])
        .in_ns(topo.client())
        .exits(3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("binding the source address 198.51.100.250"));
}

/// No route in the client's own table: a local error, stated as such.
#[test]
fn lab_local_no_route_is_a_local_error() {
    needs!(lab);
    let ns = Netns::new();
    let out = sockdiag(&["--json", "probe", "198.51.100.77", "80"])
        .in_ns(&ns)
        .exits(1);
    let r = out.json();
    expect(
        &r,
        "198.51.100.77".parse().unwrap(),
        "tcp",
        80,
        "error",
        "local: no route to the network",
    );
}

/// Ctrl-C during `--count` at 100% loss still prints the counts.
#[test]
fn lab_ctrl_c_at_full_loss_prints_the_summary() {
    needs!(lab);
    let topo = Topology::builder().routers(1).build();
    let target = format!("{}:{}", topo.target_v4(), ports::TCP_FILTERED);
    let child = sockdiag(&[
        "--json", "probe", &target, "-c", "100", "-i", "100ms", "-w", "300ms",
    ])
    .in_ns(topo.client())
    .spawn();
    std::thread::sleep(Duration::from_millis(1500));
    child.signal(libc::SIGINT);
    let out = child.wait(Duration::from_secs(10));
    assert_eq!(out.code(), 130, "{out}");
    let r = out.json();
    assert_eq!(r["summary"]["interrupted"], true);
    let p = row(&r, topo.target_v4().into(), "tcp", ports::TCP_FILTERED);
    let stats = &p["stats"];
    let sent = stats["sent"].as_u64().unwrap();
    // Repeats start every 100 ms and end 300 ms later: about 12 finished in 1.5 s.
    assert!((6..=15).contains(&sent), "{stats:#}");
    assert_eq!(stats["received"], 0);
    assert_eq!(stats["loss_pct"], 100.0);
    assert!(stats["rtt"].is_null());
    assert_eq!(p["state"], "filtered");
}

/// All 65,535 TCP ports of a lab host: the right counts, at the default limit and a lowered one.
#[test]
fn lab_full_port_scan_counts_under_a_low_file_limit() {
    needs!(lab);
    let topo = Topology::builder().build();
    let t: IpAddr = topo.target_v4().into();
    let target = t.to_string();
    let check = |out: Run, parallel_at_most: Option<u64>| {
        assert_eq!(out.code(), 1, "{out}");
        let r = out.json();
        let states = &r["summary"]["states"];
        assert_eq!(r["summary"]["ports"], 65535, "{states:#}");
        assert_eq!(states["open"], 1, "{states:#}");
        assert_eq!(states["filtered"], 1, "{states:#}");
        assert_eq!(states["unreachable"], 1, "{states:#}");
        assert_eq!(states["closed"], 65532, "{states:#}");
        assert!(states.get("error").is_none(), "{states:#}");
        expect(&r, t, "tcp", ports::TCP_OPEN, "open", "connected");
        expect(&r, t, "tcp", ports::TCP_FILTERED, "filtered", "no answer");
        expect(&r, t, "tcp", ports::TCP_REJECTED, "unreachable", "prohibited");
        if let Some(most) = parallel_at_most {
            let p = r["settings"]["parallel"].as_u64().unwrap();
            assert!(p < most, "parallel {p} must stay under the limit {most}");
        }
    };
    let out = sockdiag(&["--json", "probe", &target, "-"])
        .in_ns(topo.client())
        .run();
    check(out, None);
    // The same scan with 64 descriptors allowed (soft and hard): it must fit, not fail.
    let low = |args: &[&str]| {
        let scan = sockdiag(&["--json", "probe", &target]).args(args);
        scan.in_ns(topo.client())
            .file_limit(64)
            .timeout(Duration::from_secs(120))
            .run()
    };
    check(low(&["1-65535"]), Some(64));
    // Asking for more than the limit allows is clamped, not fatal.
    check(low(&["-", "--parallel", "10000"]), Some(64));
}

/// Loopback in a namespace of its own: every port closed but one listener, and no probe that met itself
/// (the kernel can pick the probed port as the source port) counted as open.
#[test]
fn lab_loopback_full_scan_has_exactly_the_listener_open() {
    needs!(lab);
    let ns = Netns::new();
    let _listener = ns.spawn(
        "socat",
        &["TCP-LISTEN:4242,bind=127.0.0.1,reuseaddr,fork", "PIPE"],
    );
    support::wait::until("loopback listener", Duration::from_secs(10), || {
        String::from_utf8_lossy(&ns.run("ss", &["-Hltn"]).stdout).contains(":4242")
    });
    for _ in 0..2 {
        let out = sockdiag(&["--json", "probe", "127.0.0.1", "-"]).in_ns(&ns).run();
        let r = out.json();
        let states = &r["summary"]["states"];
        assert_eq!(states["open"], 1, "{states:#}");
        assert_eq!(states["closed"], 65534, "{states:#}");
        expect(&r, "127.0.0.1".parse().unwrap(), "tcp", 4242, "open", "connected");
    }
}

// ---------------------------------------------------------------- the simulated path (root)

/// `--count` on a simulated path: statistics match the scenario's round trip.
#[test]
fn sim_count_statistics_match_the_path_rtt() {
    needs!(lab);
    let ns = Netns::new();
    let rtt = Duration::from_millis(40);
    let sim = SimPath::start(
        &ns,
        Scenario::linear(3, Duration::from_millis(10)).target(Target::echo(rtt)),
    );
    let want = rtt.as_secs_f64() * 1000.0;
    for v6 in [false, true] {
        let t = sim.target_addr(v6);
        let mut last = String::new();
        // A loaded machine can only add time: measure again (at most 3 times) when it did.
        let ok = (0..3).any(|_| {
            let out = sockdiag(&[
                "--json",
                "probe",
                &SocketAddr::new(t, 443).to_string(),
                "-c",
                "5",
                "-i",
                "100ms",
            ])
            .in_ns(&ns)
            .exits(0);
            let r = out.json();
            let p = row(&r, t, "tcp", 443);
            let s = &p["stats"];
            assert_eq!(
                (s["sent"].as_u64(), s["received"].as_u64()),
                (Some(5), Some(5)),
                "{s:#}"
            );
            assert_eq!(s["loss_pct"], 0.0);
            let rtt = &s["rtt"];
            let (min, avg, max) = (
                rtt["min_ms"].as_f64().unwrap(),
                rtt["avg_ms"].as_f64().unwrap(),
                rtt["max_ms"].as_f64().unwrap(),
            );
            assert!(min >= want - 0.5, "faster than the path: {rtt:#}");
            assert!(min <= avg && avg <= max);
            let p50 = rtt["p50_ms"].as_f64().unwrap();
            assert!(min <= p50 && p50 <= max);
            last = format!("{rtt:#}");
            max <= want + 20.0
        });
        assert!(
            ok,
            "RTT statistics far from the path's {want} ms in 3 runs; last: {last}"
        );
    }
    // The same path answering RST: closed, and the round trip is still measured.
    drop(sim);
    let sim = SimPath::start(&ns, Scenario::new().target(Target::echo(rtt).rst()));
    let t = sim.target_addr(false);
    let out = sockdiag(&[
        "--json",
        "probe",
        &SocketAddr::new(t, 22).to_string(),
        "-c",
        "3",
        "-i",
        "50ms",
    ])
    .in_ns(&ns)
    .run();
    let r = out.json();
    let p = row(&r, t, "tcp", 22);
    assert_eq!(p["state"], "closed");
    assert_eq!(p["stats"]["received"], 3);
    assert!(p["stats"]["rtt"]["min_ms"].as_f64().unwrap() >= want - 0.5);
}
