//! One TCP probe: a non-blocking connect; the verdict comes from how it ends (connected, RST, ICMP, silence).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{SockAddr, Socket};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

use super::schedule::{AdaptiveTimeout, TryResult};
use super::sock::{self, SocketSetup};
use super::verdict::Evidence;
use crate::sys::errqueue;
use crate::target::Proto;

/// How many bytes of a banner or reply are kept.
pub const BANNER_BYTES: usize = 512;

/// How often a connect that met itself is made again with a new source port.
const SELF_CONNECT_TRIES: usize = 3;

/// Makes one TCP connect attempt to `dest`, waiting as long as the host's timeout says.
/// `listen` says whether to wait for a greeting (the first repeat only).
pub async fn try_once(
    dest: SocketAddr,
    setup: &SocketSetup,
    listen: bool,
    timeout: Arc<AdaptiveTimeout>,
) -> TryResult {
    let mut result = TryResult::bare(Evidence::SelfConnect);
    for _ in 0..SELF_CONNECT_TRIES {
        result = connect_once(dest, setup, listen, Arc::clone(&timeout)).await;
        // Probing our own address, the kernel may pick the probed port as the source port; TCP's
        // simultaneous open then connects the socket to itself, which says nothing about a listener.
        if result.evidence != Evidence::SelfConnect {
            break;
        }
    }
    result
}

/// One connect with a fresh socket.
async fn connect_once(
    dest: SocketAddr,
    setup: &SocketSetup,
    listen: bool,
    timeout: Arc<AdaptiveTimeout>,
) -> TryResult {
    let local_err =
        |e: io::Error| TryResult::bare(Evidence::LocalErrno(e.raw_os_error().unwrap_or(libc::EIO)));
    let (sock, started) = match start(dest, setup) {
        Ok(s) => s,
        Err(errno) => return TryResult::bare(Evidence::LocalErrno(errno)),
    };
    // Loopback and namespace neighbours often answer before connect() returns: no need to wait then.
    let (held, outcome) = match check_now(&sock, dest) {
        Some(done) => (Held::Plain(sock), Ok(done)),
        None => {
            let fd = match sock::register(sock, Interest::READABLE | Interest::WRITABLE) {
                Ok(fd) => fd,
                Err(e) => return local_err(e),
            };
            let outcome = match timeout.wait(started, connected(&fd)).await {
                Ok(done) => Ok(done),
                // A busy runtime may hear an answer late; the socket itself knows whether one came.
                Err(waited) => settled(fd.get_ref()).ok_or(waited),
            };
            (Held::Async(fd), outcome)
        }
    };
    let rtt = started.elapsed();
    let sock = held.socket();
    match outcome {
        Err(waited) => TryResult {
            local: local_addr(sock),
            ..TryResult::bare(Evidence::Silence { waited, tries: 1 })
        },
        Ok(Err(e)) => {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            let evidence = match errqueue::take(sock) {
                Some(q) => Evidence::Queued(q),
                None if errno == libc::ECONNREFUSED => Evidence::Refused,
                None => Evidence::LateErrno(errno),
            };
            // A plain RST needs no local address; ICMP verdicts use it to spot errors this host sent itself.
            let local = match evidence {
                Evidence::Refused => None,
                _ => local_addr(sock),
            };
            if evidence == Evidence::Refused && setup.source.is_none() {
                setup.spare.keep(held.into_socket(), dest.is_ipv6());
            }
            TryResult {
                rtt: Some(rtt),
                local,
                ..TryResult::bare(evidence)
            }
        }
        Ok(Ok(())) => after_connect(held, dest, rtt, setup, listen).await,
    }
}

/// A connect that succeeded: open, unless the socket met itself; with `--send`, the first bytes answered;
/// without, what a server that speaks first says within the banner wait.
async fn after_connect(
    held: Held,
    dest: SocketAddr,
    rtt: Duration,
    setup: &SocketSetup,
    listen: bool,
) -> TryResult {
    let local = local_addr(held.socket());
    if local == Some(dest) {
        return TryResult {
            local,
            ..TryResult::bare(Evidence::SelfConnect)
        };
    }
    let mut result = TryResult {
        rtt: Some(rtt),
        local,
        ..TryResult::bare(Evidence::Connected)
    };
    let (data, wait) = match &setup.send {
        Some(data) => (data.as_slice(), setup.reply_wait),
        None if listen && !setup.banner_wait.is_zero() => (&[][..], setup.banner_wait),
        None => return result,
    };
    let fd = match held {
        Held::Async(fd) => Ok(fd),
        Held::Plain(sock) => sock::register(sock, Interest::READABLE | Interest::WRITABLE),
    };
    let bytes = match fd {
        Ok(fd) => exchange(&fd, data, wait).await,
        Err(_) => Vec::new(),
    };
    // Waiting for a greeting that did not come leaves no banner; --send shows that nothing came.
    result.data = (setup.send.is_some() || !bytes.is_empty()).then_some(bytes);
    result
}

/// A socket with its connect started, and when: a spare refused one when it takes, else a fresh one.
fn start(dest: SocketAddr, setup: &SocketSetup) -> Result<(Socket, Instant), i32> {
    // A fixed --source port is bound for good: such sockets are not kept.
    if setup.source.is_none()
        && let Some(sock) = setup.spare.take(dest)
    {
        let started = Instant::now();
        if sock::reconnect(&sock, dest).is_ok() {
            return Ok((sock, started));
        }
    }
    let sock = sock::open(dest, Proto::Tcp, setup)?;
    let started = Instant::now();
    match sock.connect(&SockAddr::from(dest)) {
        Ok(()) => Ok((sock, started)),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok((sock, started)),
        Err(e) => Err(e.raw_os_error().unwrap_or(libc::EIO)),
    }
}

/// The probe socket, registered with the runtime only when it had to wait.
enum Held {
    Plain(Socket),
    Async(AsyncFd<Socket>),
}

impl Held {
    fn socket(&self) -> &Socket {
        match self {
            Held::Plain(s) => s,
            Held::Async(fd) => fd.get_ref(),
        }
    }

    fn into_socket(self) -> Socket {
        match self {
            Held::Plain(s) => s,
            Held::Async(fd) => fd.into_inner(),
        }
    }
}

/// The socket's local address; None once a failed connect was reset (address and port given back).
fn local_addr(sock: &Socket) -> Option<SocketAddr> {
    let local = sock.local_addr().ok().and_then(|a| a.as_socket());
    local.filter(|a| a.port() != 0)
}

/// Looks at the socket right after connect() returned: Some(Ok) connected, Some(Err) failed, None still
/// connecting.
///
/// Asked with connect() again rather than getsockopt(SO_ERROR): a refused connect answers ECONNREFUSED and
/// leaves the socket reset, so a spare refused socket needs one connect(), not two, to send its next SYN. The
/// error queue outlives that reset; the local address does not, which is why probes that had to wait (whose
/// failures may be ICMP this host sent itself) are judged by [`settled`] instead.
fn check_now(sock: &Socket, dest: SocketAddr) -> Option<io::Result<()>> {
    match sock.connect(&SockAddr::from(dest)) {
        Ok(()) => Some(Ok(())),
        Err(e) => match e.raw_os_error() {
            Some(libc::EISCONN) => Some(Ok(())),
            // Still in SYN-SENT. An ICMP error heard while connect() held the socket is kept only as a soft
            // error, which SO_ERROR reports.
            Some(libc::EALREADY | libc::EINPROGRESS) => match sock.take_error() {
                Ok(None) => None,
                Ok(Some(err)) | Err(err) => Some(Err(err)),
            },
            _ => Some(Err(e)),
        },
    }
}

/// Looks at the socket without waiting and without resetting it: Some(Ok) connected, Some(Err) failed, None
/// still connecting.
fn settled(sock: &Socket) -> Option<io::Result<()>> {
    match sock.take_error() {
        Ok(Some(err)) => return Some(Err(err)),
        Err(err) => return Some(Err(err)),
        Ok(None) => {}
    }
    match sock.peer_addr() {
        Ok(_) => Some(Ok(())),
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => None,
        Err(e) => Some(Err(e)),
    }
}

/// Waits for the connect to finish: Ok when connected, the socket error otherwise.
async fn connected(fd: &AsyncFd<Socket>) -> io::Result<()> {
    loop {
        let mut guard = fd.ready(Interest::WRITABLE | Interest::ERROR).await?;
        match settled(fd.get_ref()) {
            Some(done) => return done,
            // Woken before the handshake finished: not connected yet.
            None => guard.clear_ready(),
        }
    }
}

/// Sends `data` (if any) and returns the first bytes received within `wait` (empty: nothing came or the
/// peer closed).
async fn exchange(fd: &AsyncFd<Socket>, data: &[u8], wait: Duration) -> Vec<u8> {
    let io = async {
        let mut sent = 0;
        while sent < data.len() {
            let mut guard = fd.ready(Interest::WRITABLE).await?;
            match fd.get_ref().write(&data[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                Err(e) => return Err(e),
            }
        }
        let mut buf = vec![0u8; BANNER_BYTES];
        loop {
            let mut guard = fd.ready(Interest::READABLE).await?;
            match fd.get_ref().read(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                Err(e) => return Err(e),
            }
        }
    };
    match tokio::time::timeout(wait, io).await {
        Ok(Ok(bytes)) => bytes,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Asks until the connect has an outcome (loopback answers at once; bounded regardless).
    fn judged(sock: &Socket, dest: SocketAddr) -> io::Result<()> {
        for _ in 0..5000 {
            if let Some(done) = check_now(sock, dest) {
                return done;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("no outcome for the connect to {dest} in 5 s");
    }

    #[test]
    fn a_refusal_judged_by_connect_leaves_the_socket_ready_for_the_next_syn() {
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = open.local_addr().map(|a| (open, a)).unwrap();
        // A port nothing listens on: bound once, then let go.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let setup = SocketSetup::default();
        let (sock, _) = start(closed, &setup).unwrap();
        let err = judged(&sock, closed).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED));
        assert!(errqueue::take(&sock).is_none());
        // Reset by that connect(): the next one sends a SYN at once (no ECONNABORTED first).
        match sock.connect(&SockAddr::from(open.1)) {
            Ok(()) => {}
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EINPROGRESS), "{e}"),
        }
        judged(&sock, open.1).unwrap();
        assert_eq!(sock.peer_addr().unwrap().as_socket(), Some(open.1));
        // Asked again once connected, the answer stays: connected.
        judged(&sock, open.1).unwrap();
    }
}
