//! The connection every stream mode talks over: a TCP or a Unix stream socket, or TLS over one, behind the few readiness and
//! non-blocking calls the modes use, so that each mode is written once for every transport.

use std::io::{self, IoSlice, Read};
use std::net::Shutdown;

use socket2::SockRef;
use tokio::io::{Interest, Ready};
use tokio::net::{TcpStream, UnixStream};

use super::session::Proto;
use super::tls::TlsStream;

/// Longest wait for a TLS client to take the records still owed before our side closes.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A client connection. Over TLS, the futures waiting on it are boxed: each plain connection's task would
/// otherwise carry room for the TLS layer's state while it idles.
#[derive(Debug)]
pub enum Stream {
    /// Over TCP.
    Tcp(TcpStream),
    /// Over a Unix stream socket.
    Unix(UnixStream),
    /// TLS over either.
    Tls(Box<TlsStream>),
}

impl Stream {
    /// The transport, as logs name it.
    pub fn proto(&self) -> Proto {
        match self {
            Stream::Tcp(_) => Proto::Tcp,
            Stream::Unix(_) => Proto::Unix,
            Stream::Tls(t) => t.inner().proto(),
        }
    }

    /// Waits until a read may make progress.
    pub async fn readable(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.readable().await,
            Stream::Unix(s) => s.readable().await,
            Stream::Tls(t) => Box::pin(t.ready(Interest::READABLE)).await.map(drop),
        }
    }

    /// Waits until a write may make progress.
    pub async fn writable(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.writable().await,
            Stream::Unix(s) => s.writable().await,
            Stream::Tls(t) => Box::pin(t.ready(Interest::WRITABLE)).await.map(drop),
        }
    }

    /// Waits until any of `interest` may make progress.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        match self {
            Stream::Tcp(s) => s.ready(interest).await,
            Stream::Unix(s) => s.ready(interest).await,
            Stream::Tls(t) => Box::pin(t.ready(interest)).await,
        }
    }

    /// Waits on the socket itself (under TLS, the caller is the TLS layer): any of `interest`.
    pub async fn plain_ready(&self, interest: Interest) -> io::Result<Ready> {
        match self {
            Stream::Tcp(s) => s.ready(interest).await,
            Stream::Unix(s) => s.ready(interest).await,
            Stream::Tls(_) => Err(io::ErrorKind::Unsupported.into()),
        }
    }

    /// Reads what is there without waiting (WouldBlock when nothing is).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_read(buf),
            Stream::Unix(s) => s.try_read(buf),
            Stream::Tls(t) => t.try_read(buf),
        }
    }

    /// Reads what is there without waiting, as try_read does; on a plain socket a short read also tells tokio
    /// the socket is drained (as its own poll_read does), sparing the read that would only say WouldBlock
    /// before the next wait.
    pub fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => {
                read_marking_drained(buf, SockRef::from(s), |f| s.try_io(Interest::READABLE, f))
            }
            Stream::Unix(s) => {
                read_marking_drained(buf, SockRef::from(s), |f| s.try_io(Interest::READABLE, f))
            }
            Stream::Tls(t) => t.try_read(buf),
        }
    }

    /// Writes what the socket takes without waiting (WouldBlock when it takes nothing).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_write(buf),
            Stream::Unix(s) => s.try_write(buf),
            Stream::Tls(t) => t.try_write(buf),
        }
    }

    /// Writes several buffers in one call, as far as the socket takes them.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_write_vectored(bufs),
            Stream::Unix(s) => s.try_write_vectored(bufs),
            Stream::Tls(t) => t.try_write_vectored(bufs),
        }
    }

    /// Ends our sending side (the client reads its end of stream) once everything owed is out: over TLS a
    /// close_notify after the records still held, waiting at most SHUTDOWN_WAIT for a client that does not
    /// read. Errors are the peer's to notice.
    pub async fn shutdown_write(&self) {
        let _ = match self {
            Stream::Tcp(s) => SockRef::from(s).shutdown(Shutdown::Write),
            Stream::Unix(s) => SockRef::from(s).shutdown(Shutdown::Write),
            Stream::Tls(t) => {
                let _ = Box::pin(tokio::time::timeout(SHUTDOWN_WAIT, t.shutdown_write())).await;
                Ok(())
            }
        };
    }
}

/// One read of a plain socket inside tokio's `try_io`: a short read answers WouldBlock to it, so that it forgets
/// the readiness it held (the kernel had no more), while the bytes read still come back. A readiness event
/// that came meanwhile is kept: tokio clears only the one the read began with.
fn read_marking_drained(
    buf: &mut [u8],
    sock: SockRef<'_>,
    try_io: impl FnOnce(&mut dyn FnMut() -> io::Result<()>) -> io::Result<()>,
) -> io::Result<usize> {
    let len = buf.len();
    let mut n = 0;
    let result = try_io(&mut || {
        n = (&*sock).read(buf)?;
        if n > 0 && n < len {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(())
        }
    });
    match result {
        Err(_) if n > 0 => Ok(n),
        Err(e) => Err(e),
        Ok(()) => Ok(n),
    }
}
