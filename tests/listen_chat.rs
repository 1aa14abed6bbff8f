//! `sockdiag listen --mode chat` (issue 18): every line goes to every other client in order, joins and leaves are
//! announced, and a client that never reads is dropped without holding up the others.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crate::listen::{Listener, PATIENCE, connect};

/// A client that reads little: a small receive buffer, so what it does not read waits at the listener.
fn never_reads(to: SocketAddr) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.connect_timeout(&to.into(), PATIENCE).unwrap();
    s.into()
}

/// Reads lines until `last` arrives; returns those from `sender` (without the prefix), in order.
fn lines_from(stream: TcpStream, sender: String, last: String) -> Vec<String> {
    let prefix = format!("[{sender}] ");
    let mut got = Vec::new();
    for line in BufReader::new(stream).lines() {
        let line = line.expect("read a chat line");
        if line == last {
            break;
        }
        if let Some(text) = line.strip_prefix(&prefix) {
            got.push(text.to_string());
        }
    }
    got
}

#[test]
fn two_hundred_in_chat_get_every_line_in_order_and_the_one_that_never_reads_is_dropped() {
    const READERS: usize = 198;
    const LINES: usize = 4_000;
    // A queue of 8 MiB each: the readers' 350 KB always fit, however seldom a loaded machine runs their threads;
    // the client that never reads is pushed past it by the talk that follows.
    let mut l = Listener::start(&[
        "--tcp",
        "-b",
        "127.0.0.1",
        "--mode",
        "chat",
        "--max-buffer",
        "8MiB",
    ]);
    let addr = l.addr("127.0.0.1");
    let slow = never_reads(addr);
    let readers: Vec<TcpStream> = (0..READERS).map(|_| connect(addr)).collect();
    let sender = connect(addr);
    let who = sender.local_addr().unwrap().to_string();
    // Everyone is in the room once the listener has logged every connect.
    for _ in 0..READERS + 2 {
        l.wait_for("connect");
    }
    let expected: Vec<String> = (0..LINES).map(|i| format!("line {i:05}")).collect();
    let last = format!("[{who}] the end");
    let threads: Vec<_> = readers
        .into_iter()
        .map(|r| {
            let (who, last) = (who.clone(), last.clone());
            thread::spawn(move || lines_from(r, who, last))
        })
        .collect();
    let mut w = sender.try_clone().unwrap();
    for chunk in expected.chunks(200) {
        let text: String = chunk.iter().map(|l| format!("{l}\n")).collect();
        w.write_all(text.as_bytes()).unwrap();
        // A sender at loopback speed outruns any reader; a pause now and then lets 198 readers on a shared
        // machine keep within --max-buffer. The client that never reads falls behind all the same.
        thread::sleep(Duration::from_millis(5));
    }
    w.write_all(b"the end\n").unwrap();
    for t in threads {
        let got = t.join().unwrap();
        let first_wrong = got.iter().zip(&expected).position(|(a, b)| a != b);
        assert!(
            got == expected,
            "a reader missed or reordered a line: {} of {LINES}, first wrong at {first_wrong:?}",
            got.len()
        );
    }
    // More talk, until the client that never read is dropped (its queue fills), with the reason.
    let slow_me = slow.local_addr().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let filler = {
        let stop = stop.clone();
        thread::spawn(move || {
            let line = format!("{}\n", "f".repeat(1000));
            for _ in 0..100_000 {
                if stop.load(Ordering::Relaxed) || w.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
        })
    };
    let close = loop {
        let c = l.wait_for("close");
        if c["peer"] == slow_me.as_str() {
            break c;
        }
    };
    stop.store(true, Ordering::Relaxed);
    filler.join().unwrap();
    assert_eq!(close["end"]["kind"], "slow_reader", "{close}");
    drop((sender, slow));
    let done = l.stop();
    done.assert_ok();
    assert_eq!(done.summary["settings"]["mode"], "chat");
}

#[test]
fn joins_and_leaves_are_announced_with_the_reason() {
    let l = Listener::start(&["--tcp", "-b", "127.0.0.1", "--mode", "chat"]);
    let addr = l.addr("127.0.0.1");
    let a = connect(addr);
    let mut lines = BufReader::new(a.try_clone().unwrap()).lines();
    let mut b = connect(addr);
    let b_me = b.local_addr().unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), format!("* {b_me} joined"));
    b.write_all(b"hello\n").unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), format!("[{b_me}] hello"));
    drop(b);
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("* {b_me} left (peer closed)")
    );
    drop((a, lines));
    l.stop().assert_ok();
}
