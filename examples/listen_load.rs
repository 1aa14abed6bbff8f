//! Load client for bench/listen.sh: drives an echo server on loopback and prints one figure per run.
//!
//! Usage (ADDR is a loopback host:port):
//!   listen_load throughput ADDR BYTES     one connection, send and read concurrently: MB/s
//!   listen_load lockstep ADDR SIZE ROUNDS request/response of SIZE bytes, one at a time: MB/s
//!   listen_load hold ADDR N PAUSE_MS      N connections each confirmed by an echoed byte, held PAUSE_MS,
//!                                         then checked again: prints "held N alive M"
//!   listen_load burst ADDR N              N clients connect at the same instant, each echoes a byte: "served N"
//!   listen_load http ADDR N               N GET requests one after the other, keep-alive when the server
//!                                         allows it (else a new connection each): "requests/s R"
//!   listen_load flood ADDR N BYTES PAUSE_MS  N clients connect ("connected N"), wait PAUSE_MS, then each sends
//!                                         BYTES, reading the echo only after a pause so the server must hold it
//!                                         ("flooded N MB, exact M"), and stay connected PAUSE_MS more

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> &str { args.get(i).map(String::as_str).unwrap_or_else(|| usage()) };
    let addr: SocketAddr = arg(1).parse().unwrap_or_else(|_| usage());
    assert!(addr.ip().is_loopback(), "loopback only");
    let num = |i: usize| -> usize { arg(i).parse().unwrap_or_else(|_| usage()) };
    match arg(0) {
        "throughput" => throughput(addr, num(2)),
        "lockstep" => lockstep(addr, num(2), num(3)),
        "hold" => hold(addr, num(2), num(3) as u64),
        "burst" => burst(addr, num(2)),
        "http" => http(addr, num(2)),
        "flood" => flood(addr, num(2), num(3), num(4) as u64),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: listen_load throughput|lockstep|hold|burst|http|flood ADDR ... (see the source)");
    std::process::exit(2)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

fn throughput(addr: SocketAddr, bytes: usize) {
    let s = connect(addr);
    let mut w = s.try_clone().unwrap();
    let start = Instant::now();
    let sender = thread::spawn(move || {
        let chunk = vec![0x5au8; 256 << 10];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len());
            w.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut r = s;
    r.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 256 << 10];
    let mut got = 0;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => {
                // The server stopped echoing (socat's PIPE can deadlock on a full pipe): say so, no figure.
                eprintln!("stalled after {got} of {bytes} bytes: {e}");
                std::process::exit(1);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    sender.join().unwrap();
    if got != bytes {
        eprintln!("only {got} of {bytes} bytes came back");
        std::process::exit(1);
    }
    println!("{:.1}", bytes as f64 / secs / 1e6);
}

fn lockstep(addr: SocketAddr, size: usize, rounds: usize) {
    let mut s = connect(addr);
    s.set_nodelay(true).unwrap();
    let req = vec![0x42u8; size];
    let mut resp = vec![0u8; size];
    let start = Instant::now();
    for _ in 0..rounds {
        s.write_all(&req).unwrap();
        s.read_exact(&mut resp).expect("response");
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.1}", (size * rounds) as f64 / secs / 1e6);
}

fn echo_byte(s: &mut TcpStream, b: u8) -> bool {
    let mut one = [0u8; 1];
    s.write_all(&[b]).is_ok() && s.read_exact(&mut one).is_ok() && one[0] == b
}

fn hold(addr: SocketAddr, n: usize, pause_ms: u64) {
    let mut conns = Vec::with_capacity(n);
    let mut held = 0;
    for i in 0..n {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(10)) else {
            continue;
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        if echo_byte(&mut s, i as u8) {
            held += 1;
            conns.push(s);
        }
    }
    println!("held {held}");
    std::io::stdout().flush().unwrap();
    thread::sleep(Duration::from_millis(pause_ms));
    let alive = conns.iter_mut().map(|s| echo_byte(s, 7)).filter(|ok| *ok).count();
    println!("alive {alive}");
}

fn burst(addr: SocketAddr, n: usize) {
    let barrier = Arc::new(Barrier::new(n));
    let start = Instant::now();
    let clients: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            thread::Builder::new()
                .stack_size(64 << 10)
                .spawn(move || {
                    barrier.wait();
                    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(20)) else {
                        return false;
                    };
                    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    echo_byte(&mut s, i as u8)
                })
                .expect("spawn client thread")
        })
        .collect();
    let served = clients
        .into_iter()
        .map(|t| t.join().unwrap_or(false))
        .filter(|x| *x)
        .count();
    println!(
        "served {served} in {:.0} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
}

fn flood(addr: SocketAddr, n: usize, bytes: usize, pause_ms: u64) {
    let conns: Vec<TcpStream> = (0..n)
        .map(|_| {
            // A small receive window: what the client does not read piles up at the server, not in its kernel.
            let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            s.set_recv_buffer_size(4096).unwrap();
            s.connect_timeout(&addr.into(), Duration::from_secs(10))
                .expect("connect");
            let s: TcpStream = s.into();
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            s
        })
        .collect();
    println!("connected {n}");
    std::io::stdout().flush().unwrap();
    thread::sleep(Duration::from_millis(pause_ms));
    let clients: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            thread::spawn(move || {
                let payload: Vec<u8> = (0..bytes).map(|j| (i * 7 + j * 13) as u8).collect();
                let mut w = s.try_clone().unwrap();
                let sender = thread::spawn(move || w.write_all(&payload).map(|_| payload));
                thread::sleep(Duration::from_millis(300));
                let mut got = vec![0u8; bytes];
                let read = s.read_exact(&mut got);
                let exact = read.is_ok() && sender.join().unwrap().is_ok_and(|p| p == got);
                (s, exact)
            })
        })
        .collect();
    let done: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let exact = done.iter().filter(|(_, e)| *e).count();
    println!("flooded {} MB, exact {exact}", n * bytes / 1_000_000);
    std::io::stdout().flush().unwrap();
    thread::sleep(Duration::from_millis(pause_ms));
}

fn http(addr: SocketAddr, n: usize) {
    let start = Instant::now();
    let mut conn: Option<std::io::BufReader<TcpStream>> = None;
    let mut ok = 0;
    for _ in 0..n {
        let r = conn.get_or_insert_with(|| std::io::BufReader::new(connect(addr)));
        if r.get_mut()
            .write_all(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
            .is_err()
        {
            conn = None;
            continue;
        }
        let (status, keep) = read_http_response(r);
        if status == 200 {
            ok += 1;
        }
        if !keep {
            conn = None;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("requests/s {:.0} ok {ok}", n as f64 / secs);
}

/// Reads one response (status, and whether the connection stays open): by Content-Length, else to the close.
fn read_http_response(r: &mut std::io::BufReader<TcpStream>) -> (u16, bool) {
    use std::io::BufRead;
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return (0, false);
    }
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut keep = line.starts_with("HTTP/1.1");
    let mut len: Option<usize> = None;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().ok();
        }
        if lower.starts_with("connection:") {
            keep = lower.contains("keep-alive");
        }
    }
    match len {
        Some(n) => {
            let mut body = vec![0u8; n];
            if r.read_exact(&mut body).is_err() {
                return (status, false);
            }
        }
        None => {
            let mut rest = Vec::new();
            let _ = r.read_to_end(&mut rest);
            keep = false;
        }
    }
    (status, keep)
}
