//! `sockdiag listen` never stalls (issue 18): a log nobody reads does not stop clients being served or Ctrl-C
//! ending the run, and memory taken by a flood is given back.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use crate::listen::{Listener, PATIENCE, connect, data, exchange, num, rss_kib, rss_settled_kib, start_text};

#[test]
fn a_stderr_nobody_reads_does_not_stall_clients_or_ctrl_c() {
    const THREADS: u32 = 20;
    const EACH: u32 = 50;
    // Text mode: the log goes to stderr, a pipe this test never reads after the first line (64 KiB fill it).
    let (child, stderr, port) = start_text(&["listen", "0", "--tcp", "-b", "127.0.0.1"]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                (0..EACH)
                    .filter(|i| {
                        let payload = data(100, u64::from(t * EACH + i));
                        exchange(connect(addr), payload.clone()) == payload
                    })
                    .count()
            })
        })
        .collect();
    let served: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(served, (THREADS * EACH) as usize, "every client was echoed");
    child.signal(libc::SIGINT);
    let done = child.wait(PATIENCE);
    drop(stderr);
    assert_eq!(done.status.code(), Some(0), "{done}");
    let out = done.stdout();
    let closing = out.lines().last().unwrap_or_default();
    assert!(
        closing.starts_with("# echo mode, 1000 client sessions in ")
            && closing.ends_with("; ended by SIGINT"),
        "{out}"
    );
    // 2,000 lines of about 100 bytes cannot all fit a 64 KiB pipe: the rest were counted, not waited for.
    let dropped: u64 = closing
        .split("; ")
        .find_map(|part| part.strip_suffix(" log lines dropped (their output could not take more)"))
        .unwrap_or_else(|| panic!("no dropped count: {closing}"))
        .parse()
        .unwrap();
    assert!(
        (1000..=2000).contains(&dropped),
        "{dropped} lines dropped of 2000: {closing}"
    );
}

/// Sends `payload` while reading only after a pause (so the listener holds what it could not send back), then
/// reads the echo; returns the stream still open and whether the echo was exact.
fn flood_then_idle(mut stream: TcpStream, payload: Vec<u8>) -> (TcpStream, bool) {
    let mut writer = stream.try_clone().unwrap();
    let len = payload.len();
    let sender = thread::spawn(move || writer.write_all(&payload).map(|_| payload));
    thread::sleep(Duration::from_millis(300));
    let mut got = vec![0u8; len];
    let read = stream.read_exact(&mut got);
    let sent = sender.join().unwrap();
    let exact = read.is_ok() && sent.is_ok_and(|p| p == got);
    (stream, exact)
}

/// A client with a small receive buffer, so what it does not read piles up at the listener, not in its kernel.
fn small_window(to: SocketAddr) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.connect_timeout(&to.into(), PATIENCE).unwrap();
    let s: TcpStream = s.into();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

#[test]
fn a_flood_gives_its_memory_back() {
    const CLIENTS: u64 = 100;
    const EACH: usize = 4 << 20;
    let l = Listener::start(&["--tcp", "--quiet", "-b", "127.0.0.1"]);
    let addr = l.addr("127.0.0.1");
    // Warm up, connect the clients, then the idle figure: the same clients connected, nothing moving.
    assert_eq!(exchange(connect(addr), data(1 << 20, 1)).len(), 1 << 20);
    let streams: Vec<TcpStream> = (0..CLIENTS).map(|_| small_window(addr)).collect();
    thread::sleep(Duration::from_millis(200));
    let idle = rss_kib(l.child.id());
    let clients: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, s)| thread::spawn(move || flood_then_idle(s, data(EACH, i as u64))))
        .collect();
    let results: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(results.iter().all(|(_, exact)| *exact), "every echo was exact");
    // Every client still connected, each having had its echo buffer filled.
    let after = rss_settled_kib(l.child.id(), idle);
    drop(results);
    let done = l.stop();
    assert_eq!(
        num(&done.summary["totals"]["received_bytes"]),
        CLIENTS * EACH as u64 + (1 << 20)
    );
    eprintln!(
        "RSS idle {idle} KiB, after {} MiB echoed {after} KiB",
        (CLIENTS * EACH as u64) >> 20
    );
    assert!(
        after * 10 <= idle * 11,
        "RSS {after} KiB after the flood, {idle} KiB idle"
    );
}
