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
        Self::speaking(ns, port, b"")
    }

    /// An acceptor that writes `greeting` to every client first, as SSH and SMTP servers do.
    fn speaking(ns: &Netns, port: u16, greeting: &'static [u8]) -> Acceptor {
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
                    Ok((mut conn, _)) => {
                        let _ = std::io::Write::write_all(&mut conn, greeting);
                        // Let the client read before the close.
                        if !greeting.is_empty() {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
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

// ---------------------------------------------------------------- repeats that do not hide a change

/// Drops the target's traffic to `port` (a table of its own, so it can be taken away again).
fn drop_port(topo: &Topology, port: u16) {
    topo.target().nft(&format!(
        "table inet flip {{\n chain input {{ type filter hook input priority -5; policy accept;\n\
         tcp dport {port} drop\n }}\n}}\n"
    ));
}

fn undrop(topo: &Topology) {
    topo.target().run_ok("nft", &["delete", "table", "inet", "flip"]);
}

/// Runs `args` in the client, calling `flip` once a second has passed, and returns the finished run.
fn flipped(topo: &Topology, args: &[&str], flip: impl FnOnce()) -> support::Run {
    let child = sockdiag(args).in_ns(topo.client()).spawn();
    std::thread::sleep(Duration::from_millis(1000));
    flip();
    child.wait(Duration::from_secs(30))
}

/// A port that goes down during `-c`: the row is the last state, names the change and the loss, exit 1; a
/// port that comes back is open (exit 0) unless --fail-on-loss. Plain output streams a stamped line per repeat.
#[test]
fn lab_repeats_report_a_change_of_state() {
    needs!(lab);
    let topo = Topology::builder().build();
    let t: IpAddr = topo.target_v4().into();
    let target = format!("{t}:{}", ports::TCP_OPEN);
    let args = [
        "--json", "probe", &target, "-c", "10", "-i", "200ms", "-w", "300ms",
    ];
    let out = flipped(&topo, &args, || drop_port(&topo, ports::TCP_OPEN));
    assert_eq!(out.code(), 1, "{out}");
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    let p = row(&r, t, "tcp", ports::TCP_OPEN);
    assert_eq!(p["state"], "filtered", "{p:#}");
    assert!(
        p["reason"].as_str().unwrap().starts_with("open -> filtered at #"),
        "{p:#}"
    );
    assert_eq!(p["changes"].as_array().unwrap().len(), 1, "{p:#}");
    assert!(p["stats"]["loss_pct"].as_f64().unwrap() > 0.0, "{p:#}");
    // Back up during the run: open at the end, so exit 0, unless any loss is to fail.
    for (extra, code) in [(None, 0), (Some("--fail-on-loss"), 1)] {
        drop_port(&topo, ports::TCP_OPEN);
        let mut a = args.to_vec();
        a.extend(extra);
        let out = flipped(&topo, &a, || undrop(&topo));
        assert_eq!(out.code(), code, "{extra:?}: {out}");
        let r = out.json();
        let p = row(&r, t, "tcp", ports::TCP_OPEN);
        assert_eq!(p["state"], "open", "{p:#}");
        assert!(
            p["reason"].as_str().unwrap().starts_with("filtered -> open at #"),
            "{p:#}"
        );
    }
    // --format plain with -c: one stamped line per repeat as it ends, then the table.
    let out = sockdiag(&["--format", "plain", "probe", &target, "-c", "3", "-i", "100ms"])
        .in_ns(topo.client())
        .exits(0);
    let text = out.stdout();
    let stamped: Vec<&str> = text.lines().filter(|l| l.contains(" #")).collect();
    assert_eq!(stamped.len(), 3, "{text}");
    // In the order they end: the first repeat also waits for a greeting, so it may end last.
    let mut seqs = Vec::new();
    for line in &stamped {
        let stamp = line.split_whitespace().next().unwrap();
        assert!(humantime::parse_rfc3339(stamp).is_ok(), "{line}");
        let seq = (0..3).find(|s| line.contains(&format!("{t} {}/tcp #{s} open", ports::TCP_OPEN)));
        seqs.push(seq.unwrap_or_else(|| panic!("{line}")));
    }
    seqs.sort();
    assert_eq!(seqs, [0, 1, 2], "{text}");
}

// ---------------------------------------------------------------- host discovery

/// A local link 198.51.100.0/28: the client .1 on a bridge, hosts .2 (8001 open), .3 (all closed) and .4 (all
/// dropped, but it answers ARP); nothing else. Namespaces are dropped (and the links with them) at the end.
fn local_link_lab() -> (Netns, Vec<Netns>, Acceptor) {
    let client = Netns::new();
    client.ip_batch("link add br0 type bridge\nlink set br0 up\naddr add 198.51.100.1/28 dev br0\n");
    let hosts: Vec<Netns> = (0..3).map(|_| Netns::new()).collect();
    for (i, host) in hosts.iter().enumerate() {
        let (near, addr) = (format!("h{i}"), format!("198.51.100.{}/28", i + 2));
        client.ip(&[
            "link",
            "add",
            &near,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            host.name(),
        ]);
        client.ip_batch(&format!("link set {near} master br0\nlink set {near} up\n"));
        host.ip_batch(&format!("addr add {addr} dev eth0\nlink set eth0 up\n"));
    }
    hosts[2].nft(
        "table inet sdg {\n chain input { type filter hook input priority 0; policy accept;\n tcp dport 1-65535 drop\n }\n}\n",
    );
    let server = Acceptor::start(&hosts[0], ports::TCP_OPEN);
    (client, hosts, server)
}

/// Three live hosts and ten absent ones on a local link: three host results, the absent ones counted as
/// down in one line (their neighbour resolution failed), not a filtered row per port.
#[test]
fn lab_absent_local_hosts_are_down_not_filtered() {
    needs!(lab);
    let (client, _hosts, _server) = local_link_lab();
    let (open, closed) = (ports::TCP_OPEN.to_string(), ports::TCP_CLOSED.to_string());
    let out = sockdiag(&["--json", "probe", "198.51.100.2-14", &open, &closed])
        .in_ns(&client)
        .timeout(Duration::from_secs(60))
        .exits(1);
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    let ip = |n: u8| IpAddr::from([198, 51, 100, n]);
    expect(&r, ip(2), "tcp", ports::TCP_OPEN, "open", "connected");
    expect(&r, ip(2), "tcp", ports::TCP_CLOSED, "closed", "RST");
    expect(&r, ip(3), "tcp", ports::TCP_OPEN, "closed", "RST");
    expect(&r, ip(4), "tcp", ports::TCP_OPEN, "filtered", "no answer");
    assert_eq!(crate::probe::rows(&r).len(), 6, "{r:#}");
    let down = r["targets"][0]["down"].as_array().unwrap();
    assert_eq!(down.len(), 10, "{r:#}");
    for (d, n) in down.iter().zip(5..) {
        assert_eq!(d["address"], ip(n).to_string());
        assert_eq!(d["reason"], "host down or not there (no ARP/ND answer)");
    }
    assert_eq!(r["summary"]["hosts_down"], 10);
    let text = sockdiag(&["--format", "plain", "probe", "198.51.100.2-14", &open, &closed])
        .in_ns(&client)
        .timeout(Duration::from_secs(60))
        .exits(1)
        .stdout();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("host down")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].contains("host down or not there (no ARP/ND answer): 10 addresses"),
        "{text}"
    );
}

// ---------------------------------------------------------------- what servers say first

/// A server on the lab's port 22 that greets as SSH does: its greeting appears without --send, named; a
/// server that says nothing leaves no banner.
#[test]
fn lab_ssh_greeting_appears_without_send() {
    needs!(lab);
    let topo = Topology::builder().build();
    let _ssh = Acceptor::speaking(topo.target(), 22, b"SSH-2.0-OpenSSH_9.6\r\n");
    let t: IpAddr = topo.target_v4().into();
    let list = format!("22,{}", ports::TCP_OPEN);
    let out = sockdiag(&["--json", "probe", &t.to_string(), &list])
        .in_ns(topo.client())
        .exits(0);
    let r = out.json();
    support::schema::assert_valid("probe", &r);
    let ssh = row(&r, t, "tcp", 22);
    assert_eq!(ssh["greeting"], "SSH: SSH-2.0-OpenSSH_9.6", "{ssh:#}");
    assert_eq!(ssh["banner"], "SSH-2.0-OpenSSH_9.6\\r\\n", "{ssh:#}");
    let echo = row(&r, t, "tcp", ports::TCP_OPEN);
    assert!(echo["banner"].is_null() && echo["greeting"].is_null(), "{echo:#}");
    let text = sockdiag(&["probe", &t.to_string(), "22"])
        .in_ns(topo.client())
        .exits(0)
        .stdout();
    assert!(text.contains("SSH: SSH-2.0-OpenSSH_9.6"), "{text}");
    // --banner-wait 0 does not wait for it.
    let out = sockdiag(&["--json", "probe", &t.to_string(), "22", "--banner-wait", "0"])
        .in_ns(topo.client())
        .exits(0);
    assert!(row(&out.json(), t, "tcp", 22)["banner"].is_null());
}
