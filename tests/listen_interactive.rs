//! `sockdiag listen --interactive` (issue 18): as `nc -l`, stdin lines go to the one client, what it sends goes
//! to stdout, end of stdin half-closes, and other clients are refused meanwhile.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::Stdio;

use crate::listen::{PATIENCE, connect, connect_or_reset, wait_timeout};
use crate::support::sockdiag;

#[test]
fn stdin_goes_to_the_client_its_data_to_stdout_and_ctrl_d_half_closes() {
    let mut cmd = sockdiag(&["listen", "0", "--tcp", "-b", "127.0.0.1", "--interactive"]).command();
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let local: SocketAddr = first.split_whitespace().nth(2).unwrap().parse().unwrap();
    let mut client = connect(local);
    let mut connect_line = String::new();
    stderr.read_line(&mut connect_line).unwrap();
    assert!(connect_line.contains(" connect"), "{connect_line}");
    // A second client is turned away while the first has the keyboard (closed, or reset: maybe before connect()
    // returned).
    if let (_, Some(mut other)) = connect_or_reset(local) {
        let _ = other.write_all(b"x");
        let mut buf = [0u8; 1];
        match other.read(&mut buf) {
            Ok(0) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
            Ok(_) => panic!("a second client was served"),
        }
    }
    stdin.write_all(b"typed line\n").unwrap();
    let mut got = [0u8; 11];
    client.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"typed line\n");
    client.write_all(b"from the client\x1b[2J\n").unwrap();
    // Ctrl-D: the client sees the end of our side, and may still talk.
    drop(stdin);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    client.write_all(b"last words\n").unwrap();
    drop(client);
    let status = wait_timeout(&mut child, PATIENCE).expect("ends after its client (implied --once)");
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert!(status.success(), "{log}");
    // stdout is a pipe here: the bytes as sent, then the summary.
    assert!(out.starts_with("from the client\x1b[2J\nlast words\n"), "{out}");
    assert!(out.contains("# interactive mode, 1 client session in "), "{out}");
    assert!(
        log.contains("refused: --interactive talks to one client at a time"),
        "{log}"
    );
}

#[test]
fn interactive_with_json_or_udp_is_a_usage_error() {
    for (args, needle) in [
        (
            &["--json", "listen", "0", "--interactive"][..],
            "--interactive writes what the client sends on stdout",
        ),
        (
            &["listen", "0", "--interactive", "--udp"][..],
            "cannot be used with",
        ),
        (
            &["listen", "0", "--interactive", "--mode", "chat"][..],
            "cannot be used with",
        ),
    ] {
        let out = sockdiag(args).run();
        let err = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
