//! Self-checks of the kernel topology: plain tools in the client see each router and port as configured.

use crate::support;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use support::cmd;
use support::topo::{RouterMode, Topology, Unreach, ports};

/// `ping` from the client with a hop limit; returns all output and the exit code.
fn ping(topo: &Topology, v6: bool, ttl: usize) -> (String, Option<i32>) {
    let dst = topo.target_addr(v6).to_string();
    let ttl = ttl.to_string();
    let fam = if v6 { "-6" } else { "-4" };
    let out = topo
        .client()
        .run("ping", &[fam, "-n", "-c1", "-W1", "-t", &ttl, &dst]);
    (cmd::text(&out), out.status.code())
}

#[test]
fn each_router_sends_time_exceeded_and_the_target_answers() {
    needs!(lab);
    let topo = Topology::builder().routers(3).build();
    for v6 in [false, true] {
        for t in 1..=3 {
            let (out, _) = ping(&topo, v6, t);
            let want = if v6 {
                "Time exceeded: Hop limit"
            } else {
                "Time to live exceeded"
            };
            assert!(
                out.contains(&format!("From {} icmp_seq=1 {want}", topo.hop(t, v6))),
                "ttl {t}: {out}"
            );
        }
        let (out, code) = ping(&topo, v6, 4);
        assert_eq!(code, Some(0), "{out}");
        assert!(
            out.contains(&format!("bytes from {}", topo.target_addr(v6))),
            "{out}"
        );
    }
}

#[test]
fn silent_router_forwards_but_sends_no_time_exceeded() {
    needs!(lab);
    let topo = Topology::builder()
        .routers(3)
        .router(2, RouterMode::Silent)
        .no_standard_ports()
        .build();
    for v6 in [false, true] {
        let (out, code) = ping(&topo, v6, 2);
        assert_eq!(code, Some(1), "{out}");
        assert!(!out.contains("From "), "silent hop answered: {out}");
        let (out, _) = ping(&topo, v6, 3);
        assert!(out.contains(&format!("From {} ", topo.hop(3, v6))), "{out}");
        assert_eq!(ping(&topo, v6, 64).1, Some(0));
    }
}

#[test]
fn unreachable_router_answers_with_the_chosen_code() {
    needs!(lab);
    let cases = [
        (
            Unreach::Host,
            "Destination Host Unreachable",
            "Destination unreachable: Address unreachable",
        ),
        (
            Unreach::Net,
            "Destination Net Unreachable",
            "Destination unreachable: No route",
        ),
        (
            Unreach::AdminProhibited,
            "Packet filtered",
            "Destination unreachable: Administratively prohibited",
        ),
    ];
    for (kind, msg4, msg6) in cases {
        let topo = Topology::builder()
            .routers(2)
            .router(2, RouterMode::Unreachable(kind))
            .no_standard_ports()
            .build();
        for (v6, msg) in [(false, msg4), (true, msg6)] {
            let (out, _) = ping(&topo, v6, 64);
            assert!(
                out.contains(&format!("From {} icmp_seq=1 {msg}", topo.hop(2, v6))),
                "{kind:?}: {out}"
            );
        }
    }
}

#[test]
fn target_tcp_ports_are_open_closed_filtered_and_rejected() {
    needs!(lab);
    let topo = Topology::builder().routers(1).build();
    for v6 in [false, true] {
        let dst = topo.target_addr(v6).to_string();
        let nc_w = |port: u16, wait: &str| {
            let out = topo
                .client()
                .run("nc", &["-n", "-z", "-v", wait, &dst, &port.to_string()]);
            (cmd::text(&out), out.status.code())
        };
        let nc = |port: u16| nc_w(port, "-w1");
        let (out, code) = nc(ports::TCP_OPEN);
        assert_eq!(code, Some(0), "open: {out}");
        let (out, code) = nc(ports::TCP_CLOSED);
        assert!(
            code == Some(1) && out.contains("Connection refused"),
            "closed: {out}"
        );
        let start = Instant::now();
        let (out, code) = nc(ports::TCP_FILTERED);
        assert!(code == Some(1) && out.contains("timed out"), "filtered: {out}");
        assert!(
            start.elapsed() >= Duration::from_millis(900),
            "filtered waits for the timeout"
        );
        // Linux maps admin-prohibited to EHOSTUNREACH on IPv4 and EACCES on IPv6. On this
        // zero-latency path the IPv6 error for the first SYN arrives while connect() still holds
        // the socket lock and only counts as a soft error: the retransmitted SYN (1 s) gets it.
        let start = Instant::now();
        let (out, code) = nc_w(ports::TCP_REJECTED, "-w3");
        let want = if v6 {
            "Permission denied"
        } else {
            "No route to host"
        };
        assert!(code == Some(1) && out.contains(want), "rejected: {out}");
        assert!(
            start.elapsed() < Duration::from_millis(2500),
            "rejected is not a timeout"
        );
    }
    // A real listener: bytes come back through bash's /dev/tcp as well.
    let script = format!(
        "exec 3<>/dev/tcp/{}/{}; echo lab-echo >&3; read -t 2 line <&3; echo \"$line\"",
        topo.target_v4(),
        ports::TCP_OPEN
    );
    let out = topo.client().run("bash", &["-c", &script]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "lab-echo",
        "{}",
        cmd::text(&out)
    );
}

#[test]
fn target_udp_ports_are_answered_closed_and_dropped() {
    needs!(lab);
    let topo = Topology::builder().routers(1).build();
    for v6 in [false, true] {
        let host = if v6 {
            format!("[{}]", topo.target_v6())
        } else {
            topo.target_v4().to_string()
        };
        let udp = |port: u16| {
            // socat sends one datagram and prints what comes back within 1 s.
            let script = format!("echo lab-udp | socat -T1 - UDP:{host}:{port}");
            let out = topo.client().run("bash", &["-c", &script]);
            (cmd::text(&out), out.status.code())
        };
        let (out, code) = udp(ports::UDP_ANSWERED);
        assert!(code == Some(0) && out.trim() == "lab-udp", "answered: {out}");
        // An empty datagram gets an empty answer, and the port still echoes afterwards.
        let to = SocketAddr::new(topo.target_addr(v6), ports::UDP_ANSWERED);
        let answers = topo.client().enter(|| {
            let bind: SocketAddr = if v6 { "[::]:0" } else { "0.0.0.0:0" }.parse().unwrap();
            let sock = UdpSocket::bind(bind).expect("bind client UDP socket");
            sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            let mut buf = [0u8; 64];
            [&b""[..], b"after-empty", b""].map(|msg| {
                sock.send_to(msg, to).expect("send to the answered port");
                sock.recv_from(&mut buf)
                    .map(|(n, from)| (buf[..n].to_vec(), from))
                    .map_err(|e| e.kind())
            })
        });
        for (answer, sent) in answers.iter().zip([&b""[..], b"after-empty", b""]) {
            assert_eq!(answer, &Ok((sent.to_vec(), to)), "answered port, sent {sent:?}");
        }
        let (out, code) = udp(ports::UDP_CLOSED);
        assert!(
            code != Some(0) && out.contains("Connection refused"),
            "closed: {out}"
        );
        let (out, code) = udp(ports::UDP_DROPPED);
        assert!(code == Some(0) && out.trim().is_empty(), "dropped: {out}");
    }
}

#[test]
fn topology_names_resolve_and_traceroute_shows_them() {
    needs!(lab, "traceroute");
    let topo = Topology::builder().routers(2).no_standard_ports().dns().build();
    let out = topo.client().run("getent", &["ahosts", "target.lab.test"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for a in [topo.target_v4().to_string(), topo.target_v6().to_string()] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{a} "))),
            "{a} in {text}"
        );
    }
    for v6 in [false, true] {
        let fam = if v6 { "-6" } else { "-4" };
        let dst = topo.target_addr(v6).to_string();
        let out = topo.client().run("traceroute", &[fam, "-q1", "-w1", &dst]);
        let text = cmd::text(&out);
        for (i, name) in ["r1.lab.test", "r2.lab.test", "target.lab.test"]
            .iter()
            .enumerate()
        {
            let addr = if i < 2 {
                topo.hop(i + 1, v6)
            } else {
                topo.target_addr(v6)
            };
            assert!(text.contains(&format!("{name} ({addr})")), "{name}: {text}");
        }
    }
}

#[test]
fn icmp_rate_limits_are_off_unless_asked_for() {
    needs!(lab);
    let exceeded = |topo: &Topology| {
        let dst = topo.target_v4().to_string();
        let out = topo
            .client()
            .run("ping", &["-n", "-c20", "-i0.005", "-W1", "-t1", &dst]);
        cmd::text(&out).matches("Time to live exceeded").count()
    };
    let free = Topology::builder().routers(1).no_standard_ports().build();
    assert_eq!(exceeded(&free), 20, "every probe answered");
    let limited = Topology::builder()
        .routers(1)
        .no_standard_ports()
        .icmp_ratelimit(true)
        .build();
    // Linux's default: a burst of about 6, then one per second per destination.
    let n = exceeded(&limited);
    assert!((1..15).contains(&n), "rate-limited router answered {n} of 20");
}
