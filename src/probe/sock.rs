//! Opening probe sockets: non-blocking, ICMP errors queued with details, TCP closed with a reset (no
//! TIME-WAIT left behind), bound to `--source` if given.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

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
    /// How long to wait, without `--send`, for a server that speaks first.
    pub banner_wait: std::time::Duration,
    /// Refused TCP sockets kept to connect again (shared by every probe of a run).
    pub spare: Arc<Spare>,
}

/// The most refused sockets kept: about what is in flight at once; more would only hold descriptors.
const SPARE_MAX: usize = 4096;

/// TCP probe sockets whose connect was refused, to be connected again. A refused socket is back in the CLOSE
/// state with its options set; reusing it saves socket(), two setsockopt() and close() per closed port, which
/// is most of what a closed port costs this host besides the connect itself.
#[derive(Debug, Default)]
pub struct Spare(Mutex<Vec<Socket>>, Mutex<Vec<Socket>>);

impl Spare {
    fn list(&self, v6: bool) -> std::sync::MutexGuard<'_, Vec<Socket>> {
        let list = if v6 { &self.1 } else { &self.0 };
        list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A refused socket of `dest`'s family, if one is kept.
    pub fn take(&self, dest: SocketAddr) -> Option<Socket> {
        self.list(dest.is_ipv6()).pop()
    }

    /// Keeps a socket whose connect was refused, its error read and its error queue found empty.
    pub fn keep(&self, sock: Socket, v6: bool) {
        let mut list = self.list(v6);
        if list.len() < SPARE_MAX {
            list.push(sock);
        }
    }
}

/// Starts a connect on a socket taken from [`Spare`]. A socket whose refusal was read with connect() is
/// already reset and sends the SYN at once; one whose error was read with SO_ERROR is not, and Linux answers
/// its first connect() with ECONNABORTED while resetting it, so a second sends the SYN. The errno when the
/// socket cannot be reused; the caller then opens a fresh one.
pub fn reconnect(sock: &Socket, dest: SocketAddr) -> Result<(), i32> {
    let to = SockAddr::from(dest);
    let started = |r: std::io::Result<()>| match r {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(()),
        Err(e) => Err(e.raw_os_error().unwrap_or(libc::EIO)),
    };
    match sock.connect(&to) {
        Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => started(sock.connect(&to)),
        other => started(other),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    /// The connect's outcome once it is known (loopback answers at once; bounded wait regardless).
    fn outcome(sock: &Socket) -> std::io::Result<()> {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(e) = sock.take_error()? {
                return Err(e);
            }
            if sock.peer_addr().is_ok() || Instant::now() > until {
                return sock.peer_addr().map(drop);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_refused_socket_connects_again_to_the_next_port() {
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        // A port nothing listens on: bound once, then let go.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let setup = SocketSetup::default();
        let sock = open_and_connect(closed, &setup);
        let err = outcome(&sock).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED));
        assert!(errqueue::take(&sock).is_none());
        setup.spare.keep(sock, false);
        assert!(setup.spare.take(SocketAddr::from(([1u16; 8], 1))).is_none());
        let again = setup.spare.take(closed).expect("the refused socket is kept");
        // Refused again: the reset socket's own error, not the last one's.
        reconnect(&again, closed).unwrap();
        assert_eq!(
            outcome(&again).unwrap_err().raw_os_error(),
            Some(libc::ECONNREFUSED)
        );
        reconnect(&again, open.local_addr().unwrap()).unwrap();
        outcome(&again).unwrap();
        assert_eq!(
            again.peer_addr().unwrap().as_socket(),
            Some(open.local_addr().unwrap())
        );
    }

    fn open_and_connect(dest: SocketAddr, setup: &SocketSetup) -> Socket {
        let sock = open(dest, Proto::Tcp, setup).unwrap();
        match sock.connect(&SockAddr::from(dest)) {
            Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => panic!("connect: {e}"),
            _ => sock,
        }
    }
}
