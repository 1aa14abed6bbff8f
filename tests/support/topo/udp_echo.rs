//! `UdpEcho`: answers every datagram on a target port with the same bytes, empty ones included.
//!
//! socat's `UDP-RECVFROM,fork` swallows an empty datagram and its child then holds the port
//! without echoing, so the lab serves UDP itself: the socket is bound inside the namespace and
//! served from a plain thread (a socket keeps the namespace it was created in).

use std::net::{Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::support::netns::Netns;

/// How long one receive waits before the loop looks at the stop flag again.
const POLL: Duration = Duration::from_millis(20);

/// A dual-stack UDP echo bound in a namespace; stops and closes its socket on drop.
#[derive(Debug)]
pub struct UdpEcho {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpEcho {
    /// Binds `[::]:port` (IPv4 too) inside `ns` and echoes until dropped.
    pub fn start_in(ns: &Netns, port: u16) -> UdpEcho {
        let sock = ns
            .enter(|| bind_dual_stack(port))
            .unwrap_or_else(|e| panic!("lab: bind UDP echo on port {port} in {}: {e}", ns.name()));
        sock.set_read_timeout(Some(POLL)).expect("udp echo read timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || echo_loop(&sock, &flag));
        UdpEcho {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// The port it answers on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind_dual_stack(port: u16) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_only_v6(false)?;
    s.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)).into())?;
    Ok(s.into())
}

/// Echoes every datagram (a 0-byte one gets a 0-byte answer) until `stop`.
fn echo_loop(sock: &UdpSocket, stop: &AtomicBool) {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            let _ = sock.send_to(&buf[..n], from);
        }
    }
}
