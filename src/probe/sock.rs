//! Opening probe sockets: non-blocking, ICMP errors queued with details, TCP closed with a reset (no
//! TIME-WAIT left behind), bound to `--source` if given.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::sys::{asyncfd, errqueue};
use crate::target::Proto;

/// What every probe socket needs to know.
#[derive(Debug, Clone, Default)]
pub struct SocketSetup {
    /// `--source`: the local address (and port, 0 for any) to bind.
    pub source: Option<SocketAddr>,
    /// `--send`/`--send-hex` data.
    pub send: Option<Vec<u8>>,
    /// How long to wait for the first bytes after sending (TCP banners).
    pub reply_wait: std::time::Duration,
}

/// Opens a socket for a probe to `dest`; the error is the errno, which the caller judges as a local failure.
pub fn open(dest: SocketAddr, proto: Proto, setup: &SocketSetup) -> Result<Socket, i32> {
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    let (ty, p) = match proto {
        Proto::Tcp => (Type::STREAM, Protocol::TCP),
        Proto::Udp => (Type::DGRAM, Protocol::UDP),
    };
    let sock = Socket::new(Domain::for_address(dest), ty.nonblocking().cloexec(), Some(p)).map_err(errno)?;
    errqueue::enable(&sock, dest.is_ipv6()).map_err(errno)?;
    if proto == Proto::Tcp {
        // Close with RST once the verdict is in: a TIME-WAIT per probe would fill the local port range
        // after about 28,000 connects to one port (and block the next repeat from a fixed source port).
        sock.set_linger(Some(std::time::Duration::ZERO)).map_err(errno)?;
    }
    if let Some(src) = setup.source {
        if src.port() != 0 {
            // Many probes share one fixed source port; each has its own peer, so the 4-tuples differ.
            sock.set_reuse_address(true).map_err(errno)?;
        }
        sock.bind(&SockAddr::from(src)).map_err(errno)?;
    }
    Ok(sock)
}

/// Hands a probe socket to the async runtime, watching for `interest` (errors always included).
pub fn register(
    sock: Socket,
    interest: tokio::io::Interest,
) -> Result<tokio::io::unix::AsyncFd<Socket>, std::io::Error> {
    asyncfd::register(sock, interest | tokio::io::Interest::ERROR)
}
