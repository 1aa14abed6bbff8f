//! One UDP probe: a connected socket sends a datagram; a reply, a queued ICMP error or silence decides.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use socket2::{SockAddr, Socket};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

use super::payload::udp_payload;
use super::schedule::{AdaptiveTimeout, TryResult};
use super::sock::{self, SocketSetup};
use super::tcp::BANNER_BYTES;
use super::verdict::Evidence;
use crate::sys::errqueue;
use crate::target::Proto;

/// Makes one UDP probe to `dest`: the payload for its port (DNS, NTP, `--send` or empty), then waits.
pub async fn try_once(
    dest: SocketAddr,
    seq: u32,
    setup: &SocketSetup,
    timeout: Arc<AdaptiveTimeout>,
) -> TryResult {
    let local_err =
        |e: io::Error| TryResult::bare(Evidence::LocalErrno(e.raw_os_error().unwrap_or(libc::EIO)));
    let sock = match sock::open(dest, Proto::Udp, setup) {
        Ok(s) => s,
        Err(errno) => return TryResult::bare(Evidence::LocalErrno(errno)),
    };
    // connect() on UDP sends nothing: it picks the route and source, and makes ICMP errors reach us.
    if let Err(e) = sock.connect(&SockAddr::from(dest)) {
        if e.raw_os_error() == Some(libc::EACCES) && is_broadcast(dest, setup) {
            return TryResult::bare(Evidence::Broadcast);
        }
        return local_err(e);
    }
    let local = sock.local_addr().ok().and_then(|a| a.as_socket());
    let fd = match sock::register(sock, Interest::READABLE) {
        Ok(fd) => fd,
        Err(e) => return local_err(e),
    };
    let id = (dest.port() as u32 ^ seq.wrapping_mul(0x9e37)) as u16;
    let payload = udp_payload(dest.port(), setup.send.as_deref(), id);
    let started = Instant::now();
    if let Err(e) = fd.get_ref().send(&payload) {
        return local_err(e);
    }
    let outcome = timeout.wait(started, answer(&fd)).await;
    let mut result = TryResult {
        rtt: Some(started.elapsed()),
        local,
        ..TryResult::bare(Evidence::Reply)
    };
    match outcome {
        Err(waited) => {
            result.rtt = None;
            result.evidence = Evidence::Silence { waited, tries: 1 };
        }
        Ok(Answer::Data(bytes)) => result.data = Some(bytes),
        Ok(Answer::Error(ev)) => result.evidence = ev,
    }
    result
}

/// Whether connect's EACCES was the kernel refusing a broadcast: the same connect with SO_BROADCAST set
/// succeeds (a UDP connect sends nothing, so asking costs no packet).
fn is_broadcast(dest: SocketAddr, setup: &SocketSetup) -> bool {
    let Ok(sock) = sock::open(dest, Proto::Udp, setup) else {
        return false;
    };
    sock.set_broadcast(true).is_ok() && sock.connect(&SockAddr::from(dest)).is_ok()
}

enum Answer {
    Data(Vec<u8>),
    Error(Evidence),
}

/// Waits for a datagram or an error on the socket.
async fn answer(fd: &AsyncFd<Socket>) -> Answer {
    let mut buf = vec![0u8; BANNER_BYTES];
    loop {
        let mut guard = match fd.ready(Interest::READABLE | Interest::ERROR).await {
            Ok(g) => g,
            Err(e) => return Answer::Error(Evidence::LateErrno(e.raw_os_error().unwrap_or(libc::EIO))),
        };
        if let Some(q) = errqueue::take(fd.get_ref()) {
            return Answer::Error(Evidence::Queued(q));
        }
        match io::Read::read(&mut fd.get_ref(), &mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Answer::Data(buf);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(libc::EIO);
                return Answer::Error(match errqueue::take(fd.get_ref()) {
                    Some(q) => Evidence::Queued(q),
                    None if errno == libc::ECONNREFUSED => Evidence::Refused,
                    None => Evidence::LateErrno(errno),
                });
            }
        }
    }
}
