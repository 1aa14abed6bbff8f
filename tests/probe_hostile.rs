//! `sockdiag probe` against hosts that make verdicts hard (issue 19): servers that reset after accepting, runs
//! long enough to fill the local port range, ICMP rate limits, addresses that need explaining locally, and
//! Ctrl-C in the middle of a scan. Each case is built in the lab and its verdicts checked against the setup.

use crate::probe::{expect, interrupted, row};
use crate::support;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::netns::Netns;
use support::sockdiag;
use support::topo::{TcpPort, Topology, ports};

/// A listener in a lab namespace that accepts and closes every connection, until dropped (at most 10 minutes).
struct Acceptor {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    fn start(ns: &Netns, port: u16) -> Acceptor {
        let listener = ns.enter(|| {
            let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            sock.bind(&SocketAddr::from(([0, 0, 0, 0], port)).into())
                .expect("bind the lab acceptor");
            // A deep backlog: 4,096 probes in flight must not overflow it into dropped SYNs.
            sock.listen(4096).unwrap();
            TcpListener::from(sock)
        });
        // SO_RCVTIMEO bounds a blocking accept, so the loop sees the stop flag.
        socket2::SockRef::from(&listener)
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(600);
            while !flag.load(Ordering::Relaxed) && Instant::now() < until {
                match listener.accept() {
                    Ok((conn, _)) => drop(conn),
                    Err(_) => continue,
                }
            }
        });
        Acceptor {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Every repeat's state of one row.
fn repeat_states(r: &serde_json::Value) -> Vec<String> {
    r["repeats"]
        .as_array()
        .expect("repeats")
        .iter()
        .map(|x| x["state"].as_str().unwrap_or_default().to_string())
        .collect()
}

// ---------------------------------------------------------------- accept, then reset

/// The target completes the handshake and resets at our ACK (an nft rule answers it with a TCP reset), so the
/// reset often arrives before probe looks at the socket: still open, with the reset named.
#[test]
fn lab_accept_then_reset_is_open() {
    needs!(lab);
    let topo = Topology::builder()
        .no_standard_ports()
        .tcp(7001, TcpPort::Open)
        .build();
    topo.target().nft(
        "table inet rst {\n chain input { type filter hook input priority -10; policy accept;\n\
         tcp dport 7001 tcp flags & (syn | ack) == ack reject with tcp reset\n }\n}\n",
    );
    let t: IpAddr = topo.target_v4().into();
    let target = format!("{t}:7001");
    let out = sockdiag(&["--json", "probe", &target, "-c", "30", "-i", "10ms"])
        .in_ns(topo.client())
        .exits(0);
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    let p = row(&r, t, "tcp", 7001);
    let states = repeat_states(p);
    assert!(states.iter().all(|s| s == "open"), "{p:#}");
    let resets = p["repeats"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| {
            x["reason"]
                .as_str()
                .is_some_and(|w| w.contains("reset by the server after accepting"))
        })
        .count();
    assert!(resets > 0, "the lab's reset was never seen first: {p:#}");
}

// ---------------------------------------------------------------- the local port range

/// 60,000 connects to one port from one host: no TIME-WAIT is left on our side, so the local port range
/// (about 28,000 ports) never runs out and every repeat is counted.
#[test]
fn lab_sixty_thousand_connects_leave_no_time_wait() {
    needs!(lab);
    let topo = Topology::builder().no_standard_ports().build();
    let _server = Acceptor::start(topo.target(), 7002);
    let t: IpAddr = topo.target_v4().into();
    let target = format!("{t}:7002");
    let out = sockdiag(&["--format", "csv", "probe", &target, "-c", "60000", "-i", "0ms"])
        .in_ns(topo.client())
        .timeout(Duration::from_secs(600))
        .run();
    assert_eq!(out.code(), 0, "{}", out.stderr());
    // CSV has one record per repeat.
    let text = out.stdout();
    let records: Vec<&str> = text.lines().filter(|l| l.contains(",7002,")).collect();
    assert_eq!(records.len(), 60_000, "{}", out.stderr());
    let not_open: Vec<&&str> = records.iter().filter(|l| !l.contains(",open,")).take(5).collect();
    assert!(not_open.is_empty(), "{not_open:?}");
    let tw = topo.client().run_ok("ss", &["-Htn", "state", "time-wait"]);
    assert_eq!(tw.lines().count(), 0, "TIME-WAIT left behind: {tw}");
}

/// A local port range of two ports held by silent probes: the run stops after its patience with what it has,
/// the reason and the ports not probed, exit 3.
#[test]
fn lab_a_run_out_of_local_ports_prints_what_it_has() {
    needs!(lab);
    let topo = Topology::builder().build();
    topo.client()
        .sysctl("net.ipv4.ip_local_port_range", "40000 40001");
    let t: IpAddr = topo.target_v4().into();
    let list = format!("{},{}", ports::TCP_OPEN, ports::TCP_FILTERED);
    let out = sockdiag(&[
        "--json",
        "probe",
        &t.to_string(),
        &list,
        "-c",
        "6",
        "-i",
        "0ms",
        "-w",
        "30s",
    ])
    .in_ns(topo.client())
    .timeout(Duration::from_secs(60))
    .exits(3);
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    let why = r["summary"]["stopped"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"));
    assert!(why.contains("no free local port"), "{why}");
    // The open port's repeats that got a port finished before the stop, and are in the report.
    let open = row(&r, t, "tcp", ports::TCP_OPEN);
    assert!(repeat_states(open).iter().any(|s| s == "open"), "{open:#}");
}

// ---------------------------------------------------------------- local explanations

#[test]
fn link_local_without_scope_needs_an_interface() {
    let out = sockdiag(&["probe", "fe80::1", "22"]).exits(2);
    assert!(out.stderr().contains("needs %interface"), "{}", out.stderr());
}

#[test]
fn lab_unknown_interface_index_is_a_usage_error() {
    needs!(lab);
    let ns = Netns::new();
    let out = sockdiag(&["probe", "fe80::1%99", "22"]).in_ns(&ns).exits(2);
    assert!(out.stderr().contains("unknown scope '99'"), "{}", out.stderr());
}

/// UDP to the limited and the link's own broadcast address: refused by this host for want of SO_BROADCAST.
#[test]
fn lab_udp_to_broadcast_says_so_broadcast() {
    needs!(lab);
    let topo = Topology::builder().no_standard_ports().build();
    // 255.255.255.255 is routed like any address first: give the client a default route (to the target).
    topo.client()
        .ip(&["route", "add", "default", "via", &topo.target_v4().to_string()]);
    // Link 0 is 198.51.100.0/30: its broadcast address is .3.
    for bcast in ["255.255.255.255", "198.51.100.3"] {
        let out = sockdiag(&["--json", "probe", "--udp", bcast, "9"])
            .in_ns(topo.client())
            .exits(1);
        let r = out.json();
        expect(
            &r,
            bcast.parse().unwrap(),
            "udp",
            9,
            "error",
            "broadcast needs SO_BROADCAST",
        );
    }
}

/// `::` and `0.0.0.0` name this host: nothing listens on UDP 53 in a fresh namespace, so closed.
#[test]
fn lab_unspecified_address_probes_this_host() {
    needs!(lab);
    let ns = Netns::new();
    for any in ["::", "0.0.0.0"] {
        let out = sockdiag(&["--json", "probe", any, "-p", "u:53"])
            .in_ns(&ns)
            .exits(1);
        let r = out.json();
        expect(&r, any.parse().unwrap(), "udp", 53, "closed", "port unreachable");
    }
}

// ---------------------------------------------------------------- Ctrl-C

/// Ctrl-C in a scan: the report so far, the ports not probed, exit 130.
#[test]
fn lab_ctrl_c_lists_the_ports_not_probed() {
    needs!(lab);
    let topo = Topology::builder().build();
    let t = topo.target_v4().to_string();
    let list = format!(
        "{},{},{}",
        ports::TCP_FILTERED,
        ports::TCP_OPEN,
        ports::TCP_CLOSED
    );
    let child = sockdiag(&["--json", "probe", &t, &list, "--parallel", "1", "-w", "5s"])
        .in_ns(topo.client())
        .spawn();
    std::thread::sleep(Duration::from_millis(1500));
    child.signal(libc::SIGINT);
    let out = child.wait(Duration::from_secs(10));
    assert_eq!(out.code(), 130, "{out}");
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    assert_eq!(r["summary"]["interrupted"], true);
    let want = format!(
        "{t} tcp {},{}-{}",
        ports::TCP_FILTERED,
        ports::TCP_OPEN,
        ports::TCP_CLOSED
    );
    assert_eq!(r["summary"]["not_probed"], serde_json::json!([want]), "{r:#}");
    // The same in words on the table's closing line.
    let child = sockdiag(&["probe", &t, &list, "--parallel", "1", "-w", "5s"])
        .in_ns(topo.client())
        .spawn();
    std::thread::sleep(Duration::from_millis(1500));
    child.signal(libc::SIGINT);
    let out = child.wait(Duration::from_secs(10));
    assert_eq!(out.code(), 130, "{out}");
    assert!(
        out.stdout().contains(&format!("not probed: {want}")),
        "{}",
        out.stdout()
    );
}

#[test]
fn ctrl_c_during_repeats_exits_130_and_count_zero_by_its_result() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let out = interrupted(&["--json", "probe", &target, "-c", "100", "-i", "50ms"], 130);
    assert_eq!(out.json()["summary"]["interrupted"], true);
    // -c 0 ends with Ctrl-C by design: the exit code follows what was found (open: 0).
    interrupted(&["--json", "probe", &target, "-c", "0", "-i", "50ms"], 0);
}

// ---------------------------------------------------------------- ICMP rate limits

/// A target that rejects TCP and UDP 3000-3999 with admin-prohibited, with Linux's default ICMP rate limit.
fn rate_limited_lab() -> Topology {
    let topo = Topology::builder()
        .no_standard_ports()
        .icmp_ratelimit(true)
        .build();
    topo.target().nft(
        "table inet rl {\n chain input { type filter hook input priority 0; policy accept;\n\
         tcp dport 3000-3999 reject with icmpx type admin-prohibited\n\
         udp dport 3000-3999 reject with icmpx type admin-prohibited\n }\n}\n",
    );
    topo
}

/// Ten rejected ports, more than the host's ICMP burst: every one is found rejected, none silent.
#[test]
fn lab_rate_limited_icmp_ten_ports_all_right() {
    needs!(lab);
    let topo = rate_limited_lab();
    // Each run on its own address: the host's ICMP budget is per destination, and the first run spends it.
    let t4: IpAddr = topo.target_v4().into();
    let t6: IpAddr = topo.target_v6().into();
    for (t, proto, flag) in [(t4, "tcp", "--tcp"), (t6, "udp", "--udp")] {
        let out = sockdiag(&["--json", "probe", flag, &t.to_string(), "-p", "3000-3009"])
            .in_ns(topo.client())
            .timeout(Duration::from_secs(60))
            .exits(1);
        let r = out.json();
        support::schema::assert_valid("probe", &r);
        let want = if proto == "tcp" { "unreachable" } else { "filtered" };
        for port in 3000..=3009 {
            expect(&r, t, proto, port, want, "administratively prohibited");
        }
    }
}

/// A thousand rejected ports: no port is called plainly filtered; what stays silent is unknown with the rate
/// limit named, and the summary names the host.
#[test]
fn lab_rate_limited_icmp_thousand_ports_never_plain_filtered() {
    needs!(lab);
    let topo = rate_limited_lab();
    let t: IpAddr = topo.target_v4().into();
    let out = sockdiag(&[
        "--json",
        "probe",
        &t.to_string(),
        "-p",
        "3000-3999",
        "--all-ports",
    ])
    .in_ns(topo.client())
    .timeout(Duration::from_secs(120))
    .exits(1);
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    let rows = crate::probe::rows(&r);
    assert_eq!(rows.len(), 1000);
    for p in &rows {
        let state = p["state"].as_str().unwrap();
        let reason = p["reason"].as_str().unwrap();
        match state {
            "unreachable" => assert!(reason.contains("administratively prohibited"), "{p:#}"),
            "unknown" => assert!(reason.contains("rate-limits ICMP"), "{p:#}"),
            _ => panic!("neither rejected nor unknown: {p:#}"),
        }
    }
    let limited = r["summary"]["rate_limited"].as_array().expect("rate_limited");
    assert_eq!(limited.len(), 1, "{r:#}");
    assert_eq!(limited[0]["address"], t.to_string());
}
