//! `sockdiag listen --show/--hex/--save` (issue 18): what clients send, shown escaped and bounded, saved byte for
//! byte with a manifest, base64 in NDJSON.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::thread;

use serde_json::Value;

use crate::listen::{Listener, PATIENCE, connect, data, exchange, num, start_text};
use crate::support::sockdiag;

/// A fresh directory path under the temp dir for this test (removed on drop).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("sockdiag-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Standard base64 decoded (the test's own, to check the listener's encoder independently).
fn unbase64(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|c| **c == b'=').count();
        let n = chunk[..4 - pad]
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, c)| acc | (value(*c) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    out
}

#[test]
fn a_hundred_clients_are_saved_byte_for_byte_and_shown_up_to_the_limit() {
    const CLIENTS: u64 = 100;
    const EACH: usize = 1 << 20;
    let dir = TempDir::new("save100");
    let save = dir.0.to_str().unwrap();
    let l = Listener::start(&["--tcp", "-b", "127.0.0.1", "--show", "--save", save]);
    let addr = l.addr("127.0.0.1");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            thread::spawn(move || {
                let payload = data(EACH, 1000 + i);
                let s = connect(addr);
                let me = s.local_addr().unwrap();
                assert_eq!(exchange(s, payload.clone()), payload);
                (me, payload)
            })
        })
        .collect();
    let sent: HashMap<SocketAddr, Vec<u8>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let done = l.stop();
    done.assert_ok();
    assert_eq!(done.summary["settings"]["save_directory"], save);
    // The manifest names every session's file; each file is exactly what that client sent.
    let manifest = std::fs::read_to_string(dir.0.join("manifest.ndjson")).unwrap();
    let entries: Vec<Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len() as u64, CLIENTS);
    for e in &entries {
        let peer: SocketAddr = e["peer"].as_str().unwrap().parse().unwrap();
        let file = dir.0.join(e["file"].as_str().unwrap());
        assert!(
            std::fs::read(&file).unwrap() == sent[&peer],
            "{file:?} differs from what {peer} sent"
        );
        assert_eq!(num(&e["received_bytes"]), EACH as u64);
        assert_eq!(e["end"]["kind"], "peer_closed");
    }
    // --show: each session's data events are its first 4 KiB (the default --show-max), in order, base64.
    let mut shown: HashMap<u64, (SocketAddr, Vec<u8>, bool)> = HashMap::new();
    for d in done.events("data") {
        let peer: SocketAddr = d["peer"].as_str().unwrap().parse().unwrap();
        let e = shown
            .entry(num(&d["session_id"]))
            .or_insert((peer, Vec::new(), false));
        assert_eq!(
            num(&d["offset"]),
            e.1.len() as u64,
            "pieces are shown in order, none skipped"
        );
        assert!(!e.2, "nothing is shown after the limit was reached");
        let bytes = unbase64(d["data_base64"].as_str().unwrap());
        assert_eq!(bytes.len() as u64, num(&d["shown_bytes"]));
        e.1.extend(bytes);
        e.2 = d["limit_reached"].as_bool().unwrap();
    }
    assert_eq!(shown.len() as u64, CLIENTS);
    for (peer, bytes, limited) in shown.values() {
        assert_eq!(bytes[..], sent[peer][..4096], "the first 4 KiB of {peer}");
        assert!(limited);
    }
}

/// Everything a terminal could act on: CSI, OSC 52 (clipboard), BEL, C1 CSI, DEL, a bidi override.
const HOSTILE: &[u8] = b"GET /\x1b[2J HTTP/1.1\r\n\x1b]52;c;aGVsbG8=\x07\x9b31m\x7f\xe2\x80\xae txt\n";

#[test]
fn shown_text_and_hex_carry_no_terminal_control_from_a_client() {
    for (flag, expect) in [
        ("--show", "< GET /\\x1b[2J HTTP/1.1\\r\\n"),
        (
            "--hex",
            "< 00000000: 4745 5420 2f1b 5b32 4a20 4854 5450 2f31  GET /.[2J HTTP/1",
        ),
    ] {
        let (child, stderr, port) = start_text(&["listen", "0", "--tcp", "-b", "127.0.0.1", flag, "--once"]);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        assert_eq!(exchange(connect(addr), HOSTILE.to_vec()), HOSTILE);
        let done = child.wait(PATIENCE);
        let mut log = Vec::new();
        std::io::Read::read_to_end(&mut { stderr }, &mut log).unwrap();
        assert_eq!(done.status.code(), Some(0), "{done}");
        let bad: Vec<u8> = log
            .iter()
            .copied()
            .filter(|b| (*b < 0x20 && *b != b'\n') || *b >= 0x7f)
            .collect();
        let text = String::from_utf8_lossy(&log);
        assert!(
            bad.is_empty(),
            "{flag}: raw bytes {bad:x?} reached the log:\n{text}"
        );
        assert!(text.contains(expect), "{flag}:\n{text}");
    }
}

#[test]
fn show_max_bounds_what_is_shown_and_quiet_keeps_the_data() {
    let mut l = Listener::start(&[
        "--tcp",
        "-b",
        "127.0.0.1",
        "--show",
        "--show-max",
        "100",
        "--quiet",
    ]);
    let addr = l.addr("127.0.0.1");
    let payload = data(10_000, 5);
    assert_eq!(exchange(connect(addr), payload.clone()), payload);
    let first = l.wait_for("data");
    assert_eq!(num(&first["offset"]), 0);
    let done = l.stop();
    let data_events = done.events("data");
    let shown: u64 = data_events.iter().map(|d| num(&d["shown_bytes"])).sum();
    assert_eq!(shown, 100);
    assert!(data_events.last().unwrap()["limit_reached"].as_bool().unwrap());
    assert_eq!(done.summary["settings"]["show_max_bytes"], 100);
    // --quiet: only listening, data and the summary.
    assert!(
        done.events
            .iter()
            .all(|e| ["listening", "data", "summary"].contains(&e["event"].as_str().unwrap()))
    );
}

#[test]
fn save_needs_an_empty_directory() {
    let dir = TempDir::new("save-busy");
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::File::create(dir.0.join("old.bin"))
        .unwrap()
        .write_all(b"x")
        .unwrap();
    let out = sockdiag(&["listen", "0", "--save", dir.0.to_str().unwrap()]).run();
    let err = out.stderr();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is not empty: accepted is a new or empty directory"),
        "{err}"
    );
}

/// The same hostile bytes shown on a real terminal: `script` gives the listener a pseudo-terminal, where it
/// draws for a person (colour included), and what reaches that terminal still carries none of the client's
/// controls, only their escaped forms.
#[test]
fn a_terminal_gets_no_control_from_a_client() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let command = format!(
        "{} listen {port} --tcp -b 127.0.0.1 --show --once",
        crate::support::binary::BIN
    );
    let mut child = std::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script (bsdutils) runs the listener on a pseudo-terminal");
    let mut out = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut all = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut all);
        all
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = std::time::Instant::now() + PATIENCE;
    let stream = loop {
        match std::net::TcpStream::connect(addr) {
            Ok(s) => break s,
            Err(_) if std::time::Instant::now() < deadline => {
                thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => {
                let _ = child.kill();
                panic!("the listener on the terminal did not start: {e}");
            }
        }
    };
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(exchange(stream, HOSTILE.to_vec()), HOSTILE);
    let waited = crate::support::wait::poll(PATIENCE, std::time::Duration::from_millis(20), || {
        child.try_wait().ok().flatten()
    });
    if waited.is_none() {
        let _ = child.kill();
    }
    let screen = reader.join().unwrap();
    let text = String::from_utf8_lossy(&screen);
    assert_eq!(waited.and_then(|s| s.code()), Some(0), "{text}");
    for raw in [
        &b"\x1b[2J"[..],
        b"\x1b]52",
        b"\x07",
        b"\xc2\x9b",
        b"\x7f",
        "\u{202e}".as_bytes(),
    ] {
        assert!(
            !screen.windows(raw.len()).any(|w| w == raw),
            "the client's {raw:x?} reached the terminal:\n{text}"
        );
    }
    assert!(text.contains("GET /\\x1b[2J HTTP/1.1"), "{text}");
}
