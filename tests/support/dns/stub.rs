//! `StubServer`: DNS endpoints that misbehave on purpose: one that REFUSES everything, one that never answers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::wire;
use crate::support::netns::Netns;

/// How the stub treats queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StubMode {
    /// Answers every query (UDP and TCP) with RCODE REFUSED.
    Refuse,
    /// Binds UDP and TCP but never sends a byte (TCP connects, then nothing).
    Silent,
}

/// A misbehaving DNS server bound on UDP and TCP at one address; stops on drop.
#[derive(Debug)]
pub struct StubServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    // Held so the silent server keeps its ports; the serving thread owns clones.
    _sockets: (UdpSocket, TcpListener),
}

impl StubServer {
    /// A refusing server on `127.0.0.1:<free port>` in the host namespace (no root needed).
    pub fn refusing_loopback() -> StubServer {
        Self::start(StubMode::Refuse, bind_loopback())
    }

    /// A silent server on `127.0.0.1:<free port>` in the host namespace.
    pub fn silent_loopback() -> StubServer {
        Self::start(StubMode::Silent, bind_loopback())
    }

    /// A stub bound inside `ns` at `addr` (the address must exist there, e.g. on `lo`).
    pub fn start_in(ns: &Netns, mode: StubMode, addr: SocketAddr) -> StubServer {
        // Sockets keep the namespace they were created in, so only the bind happens inside.
        let sockets = ns.enter(|| bind_pair(addr).expect("bind stub DNS sockets in namespace"));
        Self::start(mode, sockets)
    }

    /// The address the stub listens on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn start(mode: StubMode, sockets: (UdpSocket, TcpListener)) -> StubServer {
        let addr = sockets.0.local_addr().expect("stub local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (mode == StubMode::Refuse).then(|| {
            let udp = sockets.0.try_clone().expect("clone udp");
            let tcp = sockets.1.try_clone().expect("clone tcp");
            let stop = stop.clone();
            std::thread::spawn(move || refuse_loop(udp, tcp, &stop))
        });
        StubServer {
            addr,
            stop,
            thread,
            _sockets: sockets,
        }
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind_pair(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let udp = UdpSocket::bind(addr)?;
    let tcp = TcpListener::bind(udp.local_addr()?)?;
    Ok((udp, tcp))
}

fn bind_loopback() -> (UdpSocket, TcpListener) {
    for _ in 0..20 {
        if let Ok(pair) = bind_pair("127.0.0.1:0".parse().expect("addr")) {
            return pair;
        }
    }
    panic!("lab: cannot bind a loopback stub DNS server");
}

/// Serves REFUSED until `stop`; each wait is short so the loop notices `stop` quickly.
fn refuse_loop(udp: UdpSocket, tcp: TcpListener, stop: &AtomicBool) {
    udp.set_read_timeout(Some(Duration::from_millis(20)))
        .expect("udp timeout");
    tcp.set_nonblocking(true).expect("tcp nonblocking");
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        if let Ok((n, from)) = udp.recv_from(&mut buf)
            && let Some(r) = wire::reply_with_rcode(&buf[..n], wire::RCODE_REFUSED)
        {
            let _ = udp.send_to(&r, from);
        }
        if let Ok((conn, _)) = tcp.accept() {
            refuse_tcp(conn);
        }
    }
}

/// Reads one length-prefixed query from a TCP connection and answers REFUSED.
fn refuse_tcp(mut conn: std::net::TcpStream) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
    let mut len = [0u8; 2];
    if conn.read_exact(&mut len).is_err() {
        return;
    }
    let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
    if conn.read_exact(&mut q).is_ok()
        && let Some(r) = wire::reply_with_rcode(&q, wire::RCODE_REFUSED)
    {
        let _ = conn.write_all(&(r.len() as u16).to_be_bytes());
        let _ = conn.write_all(&r);
    }
}
