//! End-to-end tests of `sockdiag listen`: the built binary on loopback, real TCP and UDP clients, its NDJSON
//! events and summary checked against what the clients really sent and received.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{cmd, schema, sockdiag};

/// Longest wait for anything the listener should do promptly.
pub(crate) const PATIENCE: Duration = Duration::from_secs(15);

/// A running `sockdiag --json listen 0 ...`, killed on drop if a test fails early.
pub(crate) struct Listener {
    pub(crate) child: Child,
    pub(crate) port: u16,
    lines: Receiver<String>,
    seen: Vec<Value>,
}

impl Listener {
    pub(crate) fn start(args: &[&str]) -> Listener {
        Listener::start_with(args, |_| {})
    }

    pub(crate) fn start_with(args: &[&str], tweak: impl FnOnce(&mut Command)) -> Listener {
        Listener::start_on("0", args, tweak)
    }

    /// Starts `sockdiag --json listen ON ARGS` (ON: a port, unix:PATH or unixgram:PATH).
    pub(crate) fn start_on(on: &str, args: &[&str], tweak: impl FnOnce(&mut Command)) -> Listener {
        let mut cmd = sockdiag(&["--json", "listen", on]).args(args).command();
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        tweak(&mut cmd);
        let mut child = cmd.spawn().expect("start sockdiag");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut l = Listener {
            child,
            port: 0,
            lines,
            seen: Vec::new(),
        };
        let first = l.next_event().expect("a listening line first");
        assert_eq!(first["event"], "listening", "{first}");
        let local = first["local"].as_str().unwrap();
        if !on.starts_with("unix") {
            l.port = local.parse::<SocketAddr>().unwrap().port();
            assert_ne!(l.port, 0, "the chosen port is shown");
        }
        l
    }

    /// The first event: the (first) listening line.
    pub(crate) fn listening(&self) -> &Value {
        &self.seen[0]
    }

    /// The next NDJSON line, waiting at most PATIENCE.
    pub(crate) fn next_event(&mut self) -> Option<Value> {
        let line = self.lines.recv_timeout(PATIENCE).ok()?;
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        self.seen.push(v.clone());
        Some(v)
    }

    /// Waits for an event of this kind (and returns it).
    pub(crate) fn wait_for(&mut self, kind: &str) -> Value {
        loop {
            let e = self
                .next_event()
                .unwrap_or_else(|| panic!("no '{kind}' event; saw {:?}", self.seen));
            if e["event"] == kind {
                return e;
            }
        }
    }

    pub(crate) fn addr(&self, ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), self.port)
    }

    pub(crate) fn signal(&self, sig: i32) {
        cmd::signal(self.child.id(), sig);
    }

    /// Sends SIGINT and returns the summary, every event seen, and the exit status.
    pub(crate) fn stop(self) -> Finished {
        self.signal(libc::SIGINT);
        self.finish()
    }

    /// Waits for the listener to end by itself (or after a signal) and collects its output.
    pub(crate) fn finish(mut self) -> Finished {
        let status = wait_timeout(&mut self.child, PATIENCE).expect("listener exits");
        while self.next_event().is_some() {}
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let events = std::mem::take(&mut self.seen);
        let summary = events.last().cloned().unwrap_or(Value::Null);
        assert_eq!(
            summary["event"], "summary",
            "the summary is the last line; stderr: {stderr}"
        );
        // Every line of every run is checked against the published schemas: each event kind, and the summary.
        for event in &events[..events.len() - 1] {
            schema::assert_valid("listen-event", event);
        }
        schema::assert_valid("listen", &summary);
        assert_eq!(summary["command"], "listen");
        Finished {
            status,
            summary,
            events,
            stderr,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    pub(crate) summary: Value,
    pub(crate) events: Vec<Value>,
    pub(crate) stderr: String,
}

impl Finished {
    pub(crate) fn sessions(&self) -> &Vec<Value> {
        self.summary["sessions"].as_array().unwrap()
    }

    /// The summary row of the session whose peer is this address.
    pub(crate) fn session_of(&self, peer: SocketAddr) -> &Value {
        let peer = peer.to_string();
        self.sessions()
            .iter()
            .find(|s| s["peer"] == peer.as_str())
            .unwrap_or_else(|| panic!("no session for {peer} in {}", self.summary))
    }

    pub(crate) fn events(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == kind).collect()
    }

    pub(crate) fn assert_ok(&self) {
        assert!(
            self.status.success(),
            "exit {:?}; stderr: {}",
            self.status,
            self.stderr
        );
    }
}

pub(crate) fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Deterministic bytes that are not a repeating short pattern (so a shifted or dropped chunk is caught).
pub(crate) fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub(crate) fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, PATIENCE).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Connects from a port bound first, so that the caller knows it even when the listener refused the connection so
/// fast that its reset came before connect() returned (a loaded machine); the stream is then None.
pub(crate) fn connect_or_reset(addr: SocketAddr) -> (SocketAddr, Option<TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(addr.ip(), 0).into()).unwrap();
    let from = socket.local_addr().unwrap().as_socket().unwrap();
    match socket.connect_timeout(&addr.into(), PATIENCE) {
        Ok(()) => {
            let stream: TcpStream = socket.into();
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            stream.set_write_timeout(Some(PATIENCE)).unwrap();
            (from, Some(stream))
        }
        Err(e) if e.kind() == ErrorKind::ConnectionReset => (from, None),
        Err(e) => panic!("connect to {addr}: {e}"),
    }
}

/// Sends `payload` on one thread while reading on this one; shuts down the write side after sending; returns
/// everything read until the listener closes.
pub(crate) fn exchange(stream: TcpStream, payload: Vec<u8>) -> Vec<u8> {
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        writer.write_all(&payload).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    let mut reader = stream;
    reader
        .read_to_end(&mut got)
        .expect("read until the listener closes");
    sender.join().unwrap();
    got
}

fn udp_client(to: SocketAddr) -> UdpSocket {
    let bind = if to.is_ipv4() { "127.0.0.1:0" } else { "[::1]:0" };
    let s = UdpSocket::bind(bind).unwrap();
    s.connect(to).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

pub(crate) fn num(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn tcp_echo_is_byte_exact_over_both_families_and_survives_half_close() {
    let l = Listener::start(&["--tcp"]);
    let mut clients = Vec::new();
    for (i, ip) in ["127.0.0.1", "::1"].into_iter().enumerate() {
        let payload = data(8 << 20, i as u64 + 1);
        let stream = connect(l.addr(ip));
        let me = stream.local_addr().unwrap();
        let got = exchange(stream, payload.clone());
        assert_eq!(
            got.len(),
            payload.len(),
            "everything echoed over {ip}, also after the half-close"
        );
        assert!(got == payload, "echo over {ip} is byte-exact");
        clients.push((me, l.addr(ip), payload.len() as u64));
    }
    let done = l.stop();
    done.assert_ok();
    for &(me, local, len) in &clients {
        // The dual-stack socket saw the IPv4 client as ::ffff:127.0.0.1: it is shown as plain IPv4.
        let s = done.session_of(me);
        assert_eq!(
            (num(&s["received_bytes"]), num(&s["sent_bytes"])),
            (len, len),
            "{s}"
        );
        assert_eq!(s["end"]["kind"], "peer_closed", "{s}");
        assert_eq!(s["protocol"], "tcp");
        assert_eq!(s["local"], local.to_string().as_str(), "{s}");
    }
    assert_eq!(done.summary["ended_by"], "sigint");
    assert_eq!(num(&done.summary["totals"]["received_bytes"]), 16 << 20);
    assert_eq!(num(&done.summary["totals"]["sent_bytes"]), 16 << 20);
    // Count only our clients' events: other tests' stray connects to a reused port are not ours to judge.
    for (me, _, _) in &clients {
        let mine = |kind: &str| {
            done.events(kind)
                .into_iter()
                .filter(|e| e["peer"] == me.to_string().as_str())
                .count()
        };
        assert_eq!((mine("connect"), mine("close")), (1, 1), "events of {me}");
    }
    let bound = done.summary["bound"].as_array().unwrap();
    assert_eq!(bound.len(), 1, "--tcp binds TCP only: {bound:?}");
    assert_eq!(bound[0]["dual_stack"], true);
}

#[test]
fn udp_echo_is_byte_exact_over_both_families_and_counted_per_peer() {
    let l = Listener::start(&["--udp"]);
    let sizes = [1usize, 7, 512, 1400, 9000, 60_000];
    let mut peers = Vec::new();
    for (i, ip) in ["127.0.0.1", "::1"].into_iter().enumerate() {
        let sock = udp_client(l.addr(ip));
        let mut buf = vec![0u8; 65_536];
        let mut total = 0u64;
        for (j, &n) in sizes.iter().enumerate() {
            let sent = data(n, (i * 10 + j) as u64);
            sock.send(&sent).unwrap();
            let got = sock.recv(&mut buf).expect("an echo for each datagram");
            assert_eq!(
                &buf[..got],
                &sent[..],
                "{n}-byte datagram over {ip} echoed exactly"
            );
            total += n as u64;
        }
        peers.push((sock.local_addr().unwrap(), l.addr(ip), total));
    }
    let mut l = l;
    let first = l.wait_for("new_peer");
    assert_eq!(first["protocol"], "udp");
    let done = l.stop();
    done.assert_ok();
    for (me, local, total) in peers {
        let s = done.session_of(me);
        assert_eq!(
            (num(&s["received_bytes"]), num(&s["sent_bytes"])),
            (total, total),
            "{s}"
        );
        assert_eq!(
            (num(&s["received_datagrams"]), num(&s["sent_datagrams"])),
            (6, 6),
            "{s}"
        );
        assert_eq!(num(&s["rate_limited_answers"]), 0);
        assert_eq!(s["local"], local.to_string().as_str());
        assert_eq!(s["end"]["kind"], "listener_stopped");
    }
    assert_eq!(num(&done.summary["totals"]["udp_peers"]), 2);
    assert_eq!(
        done.events("new_peer").len(),
        2,
        "one event per new peer, not per datagram"
    );
}

#[test]
fn udp_answers_leave_from_the_address_the_client_sent_to() {
    // The listener is bound to the wildcard; a connected client accepts only answers from 127.0.0.2.
    let l = Listener::start(&["--udp", "-4"]);
    let sock = udp_client(l.addr("127.0.0.2"));
    sock.send(b"ping").unwrap();
    let mut buf = [0u8; 16];
    let n = sock.recv(&mut buf).expect("answer from 127.0.0.2");
    assert_eq!(&buf[..n], b"ping");
    let me = sock.local_addr().unwrap();
    let done = l.stop();
    assert_eq!(done.session_of(me)["local"], l_addr_str("127.0.0.2", &done));
}

fn l_addr_str(ip: &str, done: &Finished) -> String {
    let bound: SocketAddr = done.summary["bound"][0]["local"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    SocketAddr::new(ip.parse().unwrap(), bound.port()).to_string()
}

#[test]
fn discard_and_sink_read_everything_and_send_nothing() {
    for mode in ["discard", "sink"] {
        let l = Listener::start(&["--mode", mode]);
        let stream = connect(l.addr("127.0.0.1"));
        let me = stream.local_addr().unwrap();
        let got = exchange(stream, data(3 << 20, 9));
        assert!(got.is_empty(), "{mode} sends nothing over TCP");
        let sock = udp_client(l.addr("::1"));
        sock.send(b"into the void").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut buf = [0u8; 64];
        let err = sock.recv(&mut buf).expect_err("no UDP answer");
        assert!(
            matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{err}"
        );
        let udp_me = sock.local_addr().unwrap();
        let done = l.stop();
        let s = done.session_of(me);
        assert_eq!(
            (num(&s["received_bytes"]), num(&s["sent_bytes"])),
            (3 << 20, 0),
            "{mode}: {s}"
        );
        assert_eq!(s["end"]["kind"], "peer_closed");
        let u = done.session_of(udp_me);
        assert_eq!((num(&u["received_bytes"]), num(&u["sent_bytes"])), (13, 0));
        // Only sink reports throughput: bytes over the session's duration; the other modes say null.
        let rate = &s["received_bytes_per_second"];
        let close = done.events("close");
        if mode == "sink" {
            let expected = (3u64 << 20) as f64 / (s["duration_ms"].as_f64().unwrap() / 1000.0);
            let rate = rate.as_f64().expect("sink reports a rate");
            assert!(
                (rate - expected).abs() <= expected * 0.01 + 1.0,
                "{rate} vs {expected}"
            );
            assert!(
                close.iter().all(|e| e["received_bytes_per_second"].is_f64()),
                "{close:?}"
            );
        } else {
            assert!(rate.is_null(), "{s}");
            assert!(
                close.iter().all(|e| e["received_bytes_per_second"].is_null()),
                "{close:?}"
            );
        }
        assert_eq!(done.summary["settings"]["mode"], mode);
    }
}

#[test]
fn reply_sends_the_banner_on_connect_and_a_bounded_answer_per_datagram() {
    let l = Listener::start(&["--reply", "Hello, world!"]);
    // TCP: the banner, then the listener's side closes (as the seed stream server does).
    let mut s = connect(l.addr("127.0.0.1"));
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"Hello, world!");
    // What the client sends after that is still read and counted.
    s.write_all(b"thanks").unwrap();
    let me = s.local_addr().unwrap();
    drop(s);
    // UDP: never more bytes than the datagram carried.
    let sock = udp_client(l.addr("::1"));
    let mut buf = [0u8; 64];
    sock.send(b"12345").unwrap();
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"Hello");
    sock.send(&[b'x'; 40]).unwrap();
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"Hello, world!");
    let udp_me = sock.local_addr().unwrap();
    let mut l = l;
    // Wait for the TCP close so its byte counts are final.
    l.wait_for("close");
    let done = l.stop();
    let t = done.session_of(me);
    assert_eq!((num(&t["received_bytes"]), num(&t["sent_bytes"])), (6, 13), "{t}");
    let u = done.session_of(udp_me);
    assert_eq!(
        (num(&u["received_bytes"]), num(&u["sent_bytes"])),
        (45, 18),
        "{u}"
    );
    assert_eq!(done.summary["settings"]["mode"], "reply");
}

#[test]
fn reply_file_is_sent_as_is() {
    let dir = std::env::temp_dir().join(format!("sockdiag-reply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("banner.bin");
    let content = data(200_000, 77);
    std::fs::write(&file, &content).unwrap();
    let l = Listener::start(&["--tcp", "--reply-file", file.to_str().unwrap()]);
    let mut s = connect(l.addr("::1"));
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    drop(l);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        got == content,
        "reply file sent byte-exact ({} of {} bytes)",
        got.len(),
        content.len()
    );
}

/// RFC 864 chargen: line k holds 72 printable characters starting at code 32 + k mod 95, then CR LF.
fn chargen_expected(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut line = 0;
    while out.len() < len {
        out.extend((0..72).map(|i| b' ' + ((line + i) % 95) as u8));
        out.extend_from_slice(b"\r\n");
        line += 1;
    }
    out.truncate(len);
    out
}

#[test]
fn chargen_streams_the_pattern_over_tcp_and_answers_datagrams_at_their_size() {
    let l = Listener::start(&["--mode", "chargen"]);
    let mut s = connect(l.addr("127.0.0.1"));
    let want = 100_000;
    let mut got = vec![0u8; want];
    s.read_exact(&mut got).unwrap();
    assert!(
        got == chargen_expected(want),
        "chargen pattern over {want} bytes (several full cycles)"
    );
    let me = s.local_addr().unwrap();
    drop(s);
    let sock = udp_client(l.addr("127.0.0.1"));
    sock.send(&[0u8; 100]).unwrap();
    let mut buf = [0u8; 1024];
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], &chargen_expected(100)[..]);
    let mut l = l;
    l.wait_for("close");
    let done = l.stop();
    let t = done.session_of(me);
    assert!(num(&t["sent_bytes"]) >= want as u64, "{t}");
    assert_eq!(
        t["end"]["kind"], "peer_closed",
        "closing a chargen connection is its normal end: {t}"
    );
}

#[test]
fn once_stops_after_the_first_tcp_client_with_its_summary() {
    let l = Listener::start(&["--once"]);
    let got = exchange(connect(l.addr("127.0.0.1")), b"only me".to_vec());
    assert_eq!(got, b"only me");
    let done = l.finish();
    done.assert_ok();
    assert_eq!(done.summary["ended_by"], "once");
    assert_eq!(done.sessions().len(), 1);
    assert_eq!(num(&done.sessions()[0]["received_bytes"]), 7);
}

#[test]
fn clients_stops_after_n_tcp_clients() {
    let mut l = Listener::start(&["--clients", "3", "--tcp"]);
    for i in 0..3u8 {
        let got = exchange(connect(l.addr("::1")), vec![i; 10]);
        assert_eq!(got, vec![i; 10]);
        if i < 2 {
            l.wait_for("close");
            assert!(
                l.child.try_wait().unwrap().is_none(),
                "still running after {} clients",
                i + 1
            );
        }
    }
    let done = l.finish();
    done.assert_ok();
    assert_eq!(done.summary["ended_by"], "clients");
    assert_eq!(done.summary["settings"]["stop_after_clients"], 3);
    assert_eq!(num(&done.summary["totals"]["tcp_sessions"]), 3);
}

#[test]
fn deadline_and_sigterm_end_with_a_summary_and_exit_0() {
    let l = Listener::start(&["--deadline", "300ms"]);
    let done = l.finish();
    done.assert_ok();
    assert_eq!(done.summary["ended_by"], "deadline");
    assert_eq!(done.summary["settings"]["deadline_ms"], 300.0);
    assert!(done.summary["elapsed_ms"].as_f64().unwrap() >= 300.0);

    let l = Listener::start(&[]);
    let _open = connect(l.addr("127.0.0.1"));
    let mut l = l;
    l.wait_for("connect");
    l.signal(libc::SIGTERM);
    let done = l.finish();
    done.assert_ok();
    assert_eq!(done.summary["ended_by"], "sigterm");
    assert_eq!(done.sessions()[0]["end"]["kind"], "listener_stopped");
}

#[test]
fn max_conns_refuses_extra_connections_with_a_reset_and_frees_slots() {
    let mut l = Listener::start(&["--tcp", "--max-conns", "2"]);
    let mut a = connect(l.addr("127.0.0.1"));
    let mut b = connect(l.addr("127.0.0.1"));
    for s in [&mut a, &mut b] {
        s.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).unwrap();
    }
    let (from, c) = connect_or_reset(l.addr("127.0.0.1"));
    let refused = l.wait_for("refused");
    assert_eq!(refused["peer"], from.to_string().as_str());
    if let Some(mut c) = c {
        let _ = c.write_all(b"hi");
        let mut buf = [0u8; 2];
        match c.read(&mut buf) {
            Ok(0) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
            Ok(n) => panic!("a refused connection echoed {n} bytes"),
        }
    }
    // Closing one frees a slot.
    drop(a);
    l.wait_for("close");
    let got = exchange(connect(l.addr("127.0.0.1")), b"again".to_vec());
    assert_eq!(got, b"again");
    drop(b);
    let done = l.stop();
    assert_eq!(num(&done.summary["totals"]["tcp_refused"]), 1);
    assert_eq!(num(&done.summary["totals"]["tcp_sessions"]), 3);
}

#[test]
fn idle_timeout_closes_silent_connections_and_forgets_silent_udp_peers() {
    let mut l = Listener::start(&["--idle-timeout", "300ms"]);
    let mut s = connect(l.addr("127.0.0.1"));
    s.write_all(b"x").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(s.read(&mut buf).unwrap(), 1);
    let sock = udp_client(l.addr("127.0.0.1"));
    sock.send(b"y").unwrap();
    assert_eq!(sock.recv(&mut buf).unwrap(), 1);
    // The listener closes the idle TCP connection: EOF here.
    assert_eq!(s.read(&mut buf).unwrap(), 0);
    let mut ends = Vec::new();
    while ends.len() < 2 {
        let e = l.wait_for("close");
        ends.push((
            e["protocol"].as_str().unwrap().to_string(),
            e["end"]["kind"].clone(),
        ));
    }
    ends.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ends[0], ("tcp".to_string(), Value::from("idle_timeout")));
    assert_eq!(ends[1], ("udp".to_string(), Value::from("idle_timeout")));
    let done = l.stop();
    assert!(
        done.sessions()
            .iter()
            .all(|s| num(&s["received_bytes"]) == 1 && num(&s["sent_bytes"]) == 1)
    );
}

/// Resident memory of a process in KiB, from /proc.
pub(crate) fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The listener's RSS once it is back within 10 % of `idle`, or after about 4 s of looking: released memory goes
/// back to the kernel on the listener's next trim (every 500 ms).
pub(crate) fn rss_settled_kib(pid: u32, idle: u64) -> u64 {
    let mut after = rss_kib(pid);
    for _ in 0..20 {
        if after * 10 <= idle * 11 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        after = rss_kib(pid);
    }
    after
}

#[test]
fn clients_that_never_read_do_not_grow_the_listeners_memory() {
    const CLIENTS: usize = 8;
    const ATTEMPT: usize = 64 << 20;
    let l = Listener::start(&["--tcp"]);
    // Warm up: one full echo so the event loop's buffers exist before measuring.
    assert_eq!(
        exchange(connect(l.addr("127.0.0.1")), data(1 << 20, 3)).len(),
        1 << 20
    );
    let before = rss_kib(l.child.id());
    let chunk = data(1 << 20, 4);
    let writers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let mut s = connect(l.addr("127.0.0.1"));
            s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
            let chunk = chunk.clone();
            let me = s.local_addr().unwrap();
            let t = thread::spawn(move || {
                // Push until the listener stops taking data (the write times out) or ATTEMPT bytes are in.
                let mut pushed = 0;
                while pushed < ATTEMPT {
                    match s.write(&chunk) {
                        Ok(n) => pushed += n,
                        Err(_) => break,
                    }
                }
                (s, pushed)
            });
            (me, t)
        })
        .collect();
    let results: Vec<_> = writers
        .into_iter()
        .map(|(me, t)| (me, t.join().unwrap()))
        .collect();
    let after = rss_kib(l.child.id());
    let pushed: usize = results.iter().map(|(_, (_, n))| n).sum();
    let done = l.stop();
    let mut held_max = 0;
    for (me, (_, n)) in &results {
        assert!(
            *n < ATTEMPT,
            "backpressure reached the client: it could not push {ATTEMPT} bytes"
        );
        let s = done.session_of(*me);
        let (inb, outb) = (num(&s["received_bytes"]), num(&s["sent_bytes"]));
        assert!(inb > 0, "{s}");
        // What was read but not yet echoed is all the listener holds for it: at most --max-buffer (128 KiB).
        held_max = held_max.max(inb - outb);
        assert!(inb - outb <= 128 << 10, "{s}");
    }
    let growth = after.saturating_sub(before);
    eprintln!(
        "clients pushed {} MiB into the kernel; listener held at most {held_max} B per connection; \
         RSS {before} -> {after} KiB",
        pushed >> 20
    );
    assert!(pushed > 16 << 20, "the test really pushed data ({pushed} bytes)");
    assert!(growth < 4 << 10, "RSS grew by {growth} KiB");
}

#[test]
fn a_udp_flood_is_rate_limited_per_peer() {
    let l = Listener::start(&["--udp", "--udp-rate", "50", "-b", "127.0.0.1"]);
    let sock = udp_client(l.addr("127.0.0.1"));
    let start = Instant::now();
    for i in 0..2000u32 {
        sock.send(&i.to_be_bytes()).unwrap();
        if i % 100 == 0 {
            // Let the listener keep up, so its receive buffer does not overflow.
            thread::sleep(Duration::from_millis(1));
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    sock.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut answers = 0u64;
    let mut buf = [0u8; 16];
    while sock.recv(&mut buf).is_ok() {
        answers += 1;
    }
    let me = sock.local_addr().unwrap();
    let mut l = l;
    let limited = l.wait_for("rate_limited");
    assert_eq!(limited["peer"], me.to_string().as_str());
    let done = l.stop();
    let s = done.session_of(me);
    let (din, dout, dropped) = (
        num(&s["received_datagrams"]),
        num(&s["sent_datagrams"]),
        num(&s["rate_limited_answers"]),
    );
    // A burst of 50, then 50 per second (plus the time spent reading the answers).
    let allowed = 50.0 + 50.0 * (elapsed + 0.6) + 1.0;
    assert!(dout as f64 <= allowed, "{dout} answers in {elapsed:.2}s");
    assert!(dout >= 50, "the burst is answered: {dout}");
    assert_eq!(
        din,
        dout + dropped,
        "every datagram was answered or counted as rate-limited: {s}"
    );
    assert!(din > 1000, "the flood arrived: {din}");
    assert_eq!(
        answers, dout,
        "the client received what the summary says was sent"
    );
    assert!(num(&s["sent_bytes"]) <= num(&s["received_bytes"]));
    assert_eq!(num(&done.summary["totals"]["rate_limited_answers"]), dropped);
}

#[test]
fn many_clients_at_once_are_all_served() {
    let l = Listener::start(&["--quiet", "--tcp"]);
    let addr = l.addr("127.0.0.1");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(200));
    let clients: Vec<_> = (0..200u32)
        .map(|i| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                let payload = data(10_000, u64::from(i));
                exchange(connect(addr), payload.clone()) == payload
            })
        })
        .collect();
    let ok = clients
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|x| *x)
        .count();
    assert_eq!(ok, 200);
    let done = l.stop();
    assert_eq!(num(&done.summary["totals"]["tcp_sessions"]), 200);
    assert_eq!(num(&done.summary["totals"]["received_bytes"]), 2_000_000);
    // --quiet: no per-event lines, only the listening line and the summary.
    assert_eq!(
        done.events.len(),
        2,
        "{:?}",
        done.events.iter().map(|e| &e["event"]).collect::<Vec<_>>()
    );
}

#[test]
fn text_mode_logs_events_on_stderr_and_prints_the_summary_table() {
    let mut child = sockdiag(&["listen", "0", "--tcp", "-b", "127.0.0.1"]).spawn();
    let mut stderr = BufReader::new(child.child().stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let port: u16 = first
        .trim()
        .strip_prefix("listening tcp 127.0.0.1:")
        .unwrap_or_else(|| panic!("{first}"))
        .strip_suffix(" (IPv4)")
        .unwrap()
        .parse()
        .unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stream = connect(addr);
    let me = stream.local_addr().unwrap();
    assert_eq!(exchange(stream, b"hello".to_vec()), b"hello");
    let mut connect_line = String::new();
    stderr.read_line(&mut connect_line).unwrap();
    let mut close_line = String::new();
    stderr.read_line(&mut close_line).unwrap();
    child.signal(libc::SIGINT);
    let finished = child.wait(PATIENCE);
    assert!(finished.status.success());
    let out = finished.stdout();
    assert!(
        connect_line
            .trim_end()
            .ends_with(&format!("tcp {me} -> {addr} connect")),
        "{connect_line}"
    );
    assert!(
        close_line.contains(&format!(
            "tcp {me} -> {addr} close: peer closed; in 5 B, out 5 B, "
        )),
        "{close_line}"
    );
    // The summary on stdout (not a terminal: bare columns).
    let row = out
        .lines()
        .find(|l| l.starts_with("tcp "))
        .unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cells[..5],
        &["tcp", &me.to_string(), &addr.to_string(), "5", "5"],
        "{out}"
    );
    assert!(row.ends_with("peer closed"), "{row}");
    let closing = out.lines().last().unwrap_or_default();
    assert!(
        closing.starts_with("# echo mode, 1 client session in ") && closing.ends_with("; ended by SIGINT"),
        "{out}"
    );
}

/// Starts `sockdiag ARGS` in text or CSV form and reads the port of its first listening line on stderr.
pub(crate) fn start_text(
    args: &[&str],
) -> (
    crate::support::binary::Running,
    BufReader<std::process::ChildStderr>,
    u16,
) {
    let mut child = sockdiag(args).spawn();
    let mut stderr = BufReader::new(child.child().stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let local = first
        .strip_prefix("listening ")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("not a listening line: {first}"));
    let port = local.parse::<SocketAddr>().unwrap().port();
    (child, stderr, port)
}

#[test]
fn csv_prints_one_record_per_session_with_a_header() {
    let args = [
        "--format",
        "csv",
        "listen",
        "0",
        "--tcp",
        "-b",
        "127.0.0.1",
        "--clients",
        "2",
    ];
    let (child, _stderr, port) = start_text(&args);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut clients = Vec::new();
    for payload in [&b"one"[..], b"second"] {
        let stream = connect(addr);
        clients.push((stream.local_addr().unwrap(), payload.len()));
        assert_eq!(exchange(stream, payload.to_vec()), payload);
    }
    let done = child.wait(PATIENCE);
    assert_eq!(done.status.code(), Some(0), "--clients 2 ends the run: {done}");
    let out = done.stdout();
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..4], ["id", "protocol", "peer", "local"], "{out}");
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2, "{out}");
    for (record, (me, len)) in records.iter().zip(&clients) {
        assert_eq!(&record[column("peer")], me.to_string(), "{out}");
        assert_eq!(&record[column("received_bytes")], len.to_string(), "{out}");
        assert_eq!(&record[column("sent_bytes")], len.to_string(), "{out}");
        assert_eq!(&record[column("end")], "peer_closed", "{out}");
        assert_eq!(&record[column("received_datagrams")], "", "null for TCP: {out}");
        assert!(record[column("duration_ms")].parse::<f64>().is_ok(), "{out}");
    }
}

/// Runs the binary to completion (for errors), returning exit code, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = sockdiag(args).run();
    (out.status.code().unwrap_or(-1), out.stdout(), out.stderr())
}

#[test]
fn a_port_in_use_is_one_clear_line_and_exit_3() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, out, err) = run(&["listen", &port, "-b", "127.0.0.1"]);
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty());
    // The kernel's socket list names the holder: this test process.
    let me = std::fs::read_to_string("/proc/self/comm").unwrap();
    assert_eq!(
        err,
        format!(
            "sockdiag: binding tcp 127.0.0.1:{port}: Address already in use (port {port}/tcp is held by {} (pid {}) on 127.0.0.1)\n",
            me.trim_end(),
            std::process::id()
        )
    );
    // UDP too (no SO_REUSEADDR on UDP, so another listener cannot silently share the port).
    let taken = UdpSocket::bind("[::1]:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, _, err) = run(&["listen", &port, "--udp", "-b", "::1"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "binding udp [::1]:{port}: Address already in use (port {port}/udp is held by"
        )),
        "{err}"
    );
    // With --json the error is JSON on stdout as well.
    let (code, out, _) = run(&["--json", "listen", &port, "--udp", "-b", "::1"]);
    assert_eq!(code, 3);
    let v: Value = serde_json::from_str(&out).unwrap();
    schema::assert_valid("error", &v);
    assert_eq!(v["error"]["exit_code"], 3);
}

#[test]
fn a_closed_ndjson_reader_ends_the_listener_quietly_with_exit_0() {
    let mut running = sockdiag(&["--json", "listen", "0", "--tcp", "-b", "127.0.0.1"]).spawn();
    let mut stdout = BufReader::new(running.child().stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let listening: Value = serde_json::from_str(&first).unwrap();
    let addr: SocketAddr = listening["local"].as_str().unwrap().parse().unwrap();
    // The reader goes away, as `| head -n1` does; the next event (a connect) finds the pipe closed. Clients keep
    // coming until the listener ends: a process another test forks at this instant may hold the pipe's read end
    // for a moment, and the event written meanwhile is not the one that fails.
    drop(stdout);
    let start = Instant::now();
    let mut clients = Vec::new();
    while running.child().try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < PATIENCE,
            "still running {PATIENCE:?} after its reader went away"
        );
        clients.extend(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok());
        thread::sleep(Duration::from_millis(100));
    }
    let done = running.wait(PATIENCE);
    assert_eq!(done.status.code(), Some(0), "{done}");
    assert_eq!(done.stderr(), "", "no 'Broken pipe' or other complaint");
}

#[test]
fn an_address_this_host_lacks_is_exit_3() {
    let (code, _, err) = run(&["listen", "0", "-b", "203.0.113.77"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("binding tcp 203.0.113.77:0: ") && err.contains("not an address of this host"),
        "{err}"
    );
}

#[test]
fn a_privileged_port_needs_privilege_exit_3() {
    // Root, to run the listener as nobody.
    needs!(root);
    let start: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024);
    if start < 2 {
        crate::support::privilege::skip(test_name!(), "no port is privileged here");
        return;
    }
    let port = (start - 1).to_string();
    let out = sockdiag(&["listen", &port, "-b", "127.0.0.1"])
        .unprivileged()
        .run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(
        err,
        format!(
            "sockdiag: binding tcp 127.0.0.1:{port}: Permission denied (ports below {start} need root or \
             CAP_NET_BIND_SERVICE)\n"
        )
    );
}

#[test]
fn bad_usage_is_exit_2_and_names_what_is_accepted() {
    let cases: &[(&[&str], &str)] = &[
        (&["listen", "0", "--udp", "--once"], "with --udp use --deadline"),
        (
            &["listen", "0", "--udp", "--clients", "2"],
            "--clients counts TCP clients",
        ),
        (
            &["listen", "0", "--idle-timeout", "5d"],
            "accepted: seconds, or a number with a unit: us, ms, s, m or h",
        ),
        (
            &["listen", "0", "--deadline", "0s"],
            "'--deadline <DURATION>': '0s' is zero; accepted: more than zero",
        ),
        (&["listen", "0", "--clients", "0"], "--clients <N>"),
        (&["listen", "0", "-c", "2"], "unexpected argument '-c'"),
        (&["listen", "0", "-m", "sink"], "unexpected argument '-m'"),
        (&["listen", "0", "-q"], "unexpected argument '-q'"),
        (
            &["listen", "0", "--mode", "reply"],
            "--mode reply needs --reply TEXT or --reply-file FILE",
        ),
        (
            &["listen", "0", "--mode", "chargen", "--reply", "x"],
            "go with --mode reply, not --mode chargen",
        ),
        (
            &["listen", "0", "-b", "localhost"],
            "accepted is an IP address of this host",
        ),
        (
            &["listen", "0", "-4", "-b", "::1"],
            "--bind ::1 does not match -4",
        ),
        (
            &["listen", "0", "--max-buffer", "12"],
            "--max-buffer 12 bytes is out of range: accepted is 1KiB to 64MiB",
        ),
        (&["listen", "0", "--max-buffer", "12X"], "bad size '12X'"),
        (&["listen", "70000"], "70000"),
        (&["listen", "0", "--tcp", "--udp"], "cannot be used with"),
    ];
    for (args, needle) in cases {
        let (code, _, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(err.contains("--help"), "{args:?} points to the help: {err}");
    }
    let (code, _, err) = run(&["listen", "0", "--reply-file", "/nonexistent/banner"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("reading --reply-file /nonexistent/banner: No such file"),
        "{err}"
    );
}
