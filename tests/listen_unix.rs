//! `sockdiag listen unix:PATH` / `unixgram:PATH` and `sockdiag probe unix:PATH` (issue 18): echo over both kinds,
//! the stream client named by the pid the kernel vouches for, a stale socket file replaced but a live one or a
//! plain file left alone, the file removed at the end, the modes over a Unix socket, and the probe's verdicts
//! (open, refused, no such file, permission denied as an unprivileged user).

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::listen::{Listener, PATIENCE, data, num};
use crate::support::sockdiag;

/// A fresh directory for one test's socket files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("sockdiag-unix-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn on(kind: &str, path: &Path) -> String {
    format!("{kind}:{}", path.display())
}

/// This process as the listener should name it: `pid=N,uid=N,gid=N`.
fn me() -> String {
    let (uid, gid) = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    format!("pid={},uid={uid},gid={gid}", std::process::id())
}

#[test]
fn unix_stream_echo_names_the_client_by_its_pid_and_removes_the_file() {
    let dir = Dir::new("echo");
    let sock = dir.path("echo.sock");
    let mut l = Listener::start_on(&on("unix", &sock), &[], |_| {});
    let payload = data(300_000, 7);
    let mut c = UnixStream::connect(&sock).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    let writer = {
        let mut w = c.try_clone().unwrap();
        let payload = payload.clone();
        std::thread::spawn(move || {
            w.write_all(&payload).unwrap();
            w.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert!(
        back == payload,
        "echoed {} of {} bytes",
        back.len(),
        payload.len()
    );
    let connect = l.wait_for("connect");
    assert_eq!(connect["protocol"], "unix");
    assert_eq!(
        connect["peer"],
        me(),
        "the peer is this process, as SO_PEERCRED says"
    );
    l.wait_for("close");
    assert!(sock.exists(), "the socket file is there while listening");
    let f = l.stop();
    f.assert_ok();
    let listening = f.events("listening")[0];
    assert_eq!(listening["protocol"], "unix");
    assert_eq!(listening["local"], on("unix", &sock));
    let s = &f.sessions()[0];
    assert_eq!(
        (num(&s["received_bytes"]), num(&s["sent_bytes"])),
        (300_000, 300_000)
    );
    assert_eq!(s["end"]["kind"], "peer_closed");
    assert_eq!(num(&f.summary["totals"]["unix_sessions"]), 1);
    assert_eq!(f.summary["settings"]["unix_path"], sock.display().to_string());
    assert!(
        !sock.exists(),
        "the socket file is removed when the listener ends on SIGINT"
    );
}

#[test]
fn unixgram_echo_answers_a_bound_sender_and_names_each_sender_by_its_pid() {
    let dir = Dir::new("gram");
    let sock = dir.path("gram.sock");
    let mut l = Listener::start_on(&on("unixgram", &sock), &[], |_| {});
    let client_path = dir.path("client.sock");
    let client = UnixDatagram::bind(&client_path).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.send_to(b"ping one", &sock).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping one");
    assert_eq!(from.as_pathname(), Some(sock.as_path()));
    // The kernel attaches the sender's credentials to each datagram (SCM_CREDENTIALS): the sender is this
    // test process.
    let named_peer = format!("{},{}", on("unix", &client_path), me());
    let peer = l.wait_for("new_peer");
    assert_eq!(peer["protocol"], "unixgram");
    assert_eq!(peer["peer"], named_peer, "the bound sender by path and pid");
    let anonymous = UnixDatagram::unbound().unwrap();
    anonymous.send_to(b"who", &sock).unwrap();
    let unnamed = l.wait_for("new_peer");
    assert_eq!(unnamed["peer"], me(), "an unnamed sender is named by its pid");
    let f = l.stop();
    f.assert_ok();
    assert_eq!(num(&f.summary["totals"]["unixgram_peers"]), 2);
    let by_peer = |p: &str| {
        f.sessions()
            .iter()
            .find(|s| s["peer"] == p)
            .unwrap_or_else(|| panic!("no session of {p}: {:?}", f.sessions()))
            .clone()
    };
    let named = by_peer(&named_peer);
    assert_eq!(
        (num(&named["received_datagrams"]), num(&named["sent_datagrams"])),
        (1, 1)
    );
    let unnamed = by_peer(&me());
    assert_eq!(
        (num(&unnamed["received_bytes"]), num(&unnamed["sent_datagrams"])),
        (3, 0)
    );
    assert!(!sock.exists(), "the socket file is removed at the end");
}

#[test]
fn a_stale_socket_file_is_replaced_but_a_live_one_and_a_plain_file_are_not() {
    let dir = Dir::new("stale");
    let sock = dir.path("stale.sock");
    // A listener that died without removing its file.
    drop(UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    let l = Listener::start_on(&on("unix", &sock), &[], |_| {});
    // A second listener on the live socket is refused and leaves it working.
    let second = sockdiag(&["listen", &on("unix", &sock)]).exits(3);
    assert!(
        second.stderr().contains("a running listener is on this socket"),
        "{second}"
    );
    let mut c = UnixStream::connect(&sock).unwrap();
    c.write_all(b"still here").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = Vec::new();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"still here");
    let f = l.stop();
    f.assert_ok();
    assert!(
        f.stderr.contains(&format!("replaced unix:{}", sock.display())),
        "the replacement is said: {}",
        f.stderr
    );
    let plain = dir.path("plain");
    std::fs::write(&plain, b"keep").unwrap();
    let refused = sockdiag(&["listen", &on("unix", &plain)]).exits(2);
    assert!(refused.stderr().contains("is not a socket"), "{refused}");
    assert_eq!(std::fs::read(&plain).unwrap(), b"keep");
}

#[test]
fn http_and_chat_work_over_a_unix_socket() {
    let dir = Dir::new("modes");
    let sock = dir.path("http.sock");
    let mut l = Listener::start_on(&on("unix", &sock), &["--mode", "http"], |_| {});
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--unix-socket"])
        .arg(&sock)
        .arg("http://sockdiag.test/over-unix")
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "{out:?}");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.starts_with("GET /over-unix HTTP/1.1\n"), "{body}");
    assert!(body.contains("\npeer: pid="), "the body names the peer: {body}");
    let request = l.wait_for("request");
    assert_eq!(request["protocol"], "unix");
    assert_eq!(request["target"], "/over-unix");
    l.stop().assert_ok();

    let chat = dir.path("chat.sock");
    let mut l = Listener::start_on(&on("unix", &chat), &["--mode", "chat"], |_| {});
    let mut a = UnixStream::connect(&chat).unwrap();
    l.wait_for("connect");
    let mut b = UnixStream::connect(&chat).unwrap();
    l.wait_for("connect");
    b.set_read_timeout(Some(PATIENCE)).unwrap();
    a.write_all(b"hello over unix\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.ends_with(b"hello over unix\n") {
        let n = b.read(&mut buf).unwrap();
        assert_ne!(n, 0, "the room closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains(&format!("[{}] hello over unix", me())), "{text}");
    l.stop().assert_ok();
}

fn probe(target: &str) -> Value {
    let run = sockdiag(&["--json", "probe", target]).run();
    let json = run.json();
    crate::support::schema::assert_valid("probe-unix", &json);
    json["probes"][0].clone()
}

#[test]
fn probe_tells_open_refused_and_no_such_file_apart() {
    let dir = Dir::new("probe");
    let sock = dir.path("p.sock");
    let l = Listener::start_on(&on("unix", &sock), &[], |_| {});
    let open = probe(&on("unix", &sock));
    assert_eq!(open["state"], "open", "{open}");
    let pid = l.child.id();
    assert!(
        open["listener"]
            .as_str()
            .unwrap()
            .starts_with(&format!("pid={pid},")),
        "the listener is named: {open}"
    );
    assert_eq!(probe(&on("unixgram", &sock))["state"], "wrong_type");
    let ok = sockdiag(&["probe", &on("unix", &sock)]).exits(0);
    assert!(ok.stdout().contains("open"), "{ok}");
    drop(l.stop());
    let dead = dir.path("dead.sock");
    drop(UnixListener::bind(&dead).unwrap());
    assert_eq!(probe(&on("unix", &dead))["state"], "refused");
    let missing = probe(&on("unix", &dir.path("missing.sock")));
    assert_eq!(missing["state"], "no_such_file");
    sockdiag(&["probe", &on("unix", &dir.path("missing.sock"))]).exits(1);
}

#[test]
fn probe_says_permission_denied_to_a_user_who_may_not_connect() {
    needs!(root);
    let dir = Dir::new("perm");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sock = dir.path("root-only.sock");
    let _l = Listener::start_on(&on("unix", &sock), &[], |_| {});
    // Connecting needs write permission on the socket file.
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o700)).unwrap();
    let run = sockdiag(&["--json", "probe", &on("unix", &sock)])
        .unprivileged()
        .exits(1);
    let state = &run.json()["probes"][0];
    assert_eq!(state["state"], "permission_denied", "{run}");
    // Root may, and the listener is there all along.
    assert_eq!(probe(&on("unix", &sock))["state"], "open");
}
