//! `sockdiag listen --mode http` (issue 18): curl gets 200 with its request echoed, one keep-alive connection
//! carries 10,000 requests, request lines are logged (escaped in text), and what is not HTTP gets 400.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use crate::listen::{Listener, PATIENCE, connect, num, start_text};

/// Reads one response: its status code and body (by Content-Length).
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, Vec<u8>) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let code: u16 = line
        .split(' ')
        .nth(1)
        .unwrap_or_else(|| panic!("{line:?}"))
        .parse()
        .unwrap();
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    (code, body)
}

#[test]
fn curl_gets_200_with_its_request_echoed() {
    let mut l = Listener::start(&["--tcp", "-b", "127.0.0.1", "--mode", "http"]);
    let url = format!("http://127.0.0.1:{}/hello?x=1", l.port);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-H", "X-Test: yes", &url])
        .output()
        .expect("curl");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(body.starts_with("GET /hello?x=1 HTTP/1.1\n"), "{body}");
    assert!(
        body.contains("\nX-Test: yes\n") && body.contains("\npeer: 127.0.0.1:"),
        "{body}"
    );
    let req = l.wait_for("request");
    assert_eq!(
        (req["method"].as_str(), req["target"].as_str()),
        (Some("GET"), Some("/hello?x=1"))
    );
    assert_eq!(req["status"], 200);
    l.stop().assert_ok();
}

#[test]
fn one_keep_alive_connection_carries_ten_thousand_requests() {
    const REQUESTS: usize = 10_000;
    let l = Listener::start(&[
        "--tcp",
        "-b",
        "127.0.0.1",
        "--mode",
        "http",
        "--reply",
        "ok\n",
        "--quiet",
    ]);
    let s = connect(l.addr("127.0.0.1"));
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    for i in 0..REQUESTS {
        // Every tenth request has a body, which is read and dropped.
        let req = if i % 10 == 0 {
            format!("POST /n/{i} HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        } else {
            format!("GET /n/{i} HTTP/1.1\r\nHost: t\r\n\r\n")
        };
        w.write_all(req.as_bytes()).unwrap();
        assert_eq!(read_response(&mut r), (200, b"ok\n".to_vec()), "request {i}");
    }
    drop((w, r));
    let done = l.stop();
    assert_eq!(num(&done.summary["totals"]["tcp_sessions"]), 1, "one connection");
    assert_eq!(done.summary["settings"]["mode"], "http");
}

#[test]
fn what_is_not_http_gets_400_and_request_lines_are_logged_escaped() {
    let (child, stderr, port) = start_text(&["listen", "0", "--tcp", "-b", "127.0.0.1", "--mode", "http"]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = connect(addr);
    s.write_all(b"GET /\x1b[2J HTTP/1.0\r\n\r\n").unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(
        got.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "HTTP/1.0 without keep-alive: answered, closed"
    );
    let mut s = connect(addr);
    s.write_all(b"SSH-2.0-OpenSSH\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    assert_eq!(read_response(&mut r).0, 400);
    child.signal(libc::SIGINT);
    let done = child.wait(PATIENCE);
    assert_eq!(done.status.code(), Some(0), "{done}");
    let mut log = String::new();
    BufReader::new(stderr).read_to_string(&mut log).unwrap();
    assert!(log.contains("request: GET /\\x1b[2J HTTP/1.0 -> 200"), "{log}");
    assert!(log.contains("request: (not an HTTP request) -> 400"), "{log}");
    assert!(!log.contains('\x1b'), "{log}");
}
