//! The TCP connect of a `--tls`/`--http` probe: the probe's own socket setup (source address, ICMP errors
//! queued), handed to tokio as a stream once connected; failures judged as any TCP probe's.

use std::io;
use std::net::SocketAddr;

use socket2::SockAddr;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::probe::schedule::{AdaptiveTimeout, TryResult};
use crate::probe::sock::{self, SocketSetup};
use crate::probe::verdict::Evidence;
use crate::sys::errqueue;
use crate::target::Proto;

/// Connects to `dest` within the host's timeout: the stream and a connected result, or the failed result.
pub async fn connect(
    dest: SocketAddr,
    setup: &SocketSetup,
    timeout: &AdaptiveTimeout,
) -> Result<(TcpStream, TryResult), TryResult> {
    let local_err =
        |e: io::Error| TryResult::bare(Evidence::LocalErrno(e.raw_os_error().unwrap_or(libc::EIO)));
    let sock = sock::open(dest, Proto::Tcp, setup).map_err(|e| TryResult::bare(Evidence::LocalErrno(e)))?;
    let started = Instant::now();
    match sock.connect(&SockAddr::from(dest)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(local_err(e)),
    }
    // Nagle would hold the HTTP request until the TLS Finished is acknowledged: a round trip that is the
    // tool's, not the server's (curl sets TCP_NODELAY too).
    sock.set_tcp_nodelay(true).map_err(local_err)?;
    let stream = TcpStream::from_std(std::net::TcpStream::from(sock)).map_err(local_err)?;
    let outcome = timeout.wait(started, connected(&stream)).await;
    let rtt = started.elapsed();
    let local = stream.local_addr().ok();
    match outcome {
        Err(waited) => Err(TryResult {
            local,
            ..TryResult::bare(Evidence::Silence { waited, tries: 1 })
        }),
        Ok(Err(e)) => {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            let evidence = match errqueue::take(&stream) {
                Some(q) => Evidence::Queued(q),
                None if errno == libc::ECONNREFUSED => Evidence::Refused,
                None => Evidence::LateErrno(errno),
            };
            Err(TryResult {
                rtt: Some(rtt),
                local,
                ..TryResult::bare(evidence)
            })
        }
        Ok(Ok(())) => Ok((
            stream,
            TryResult {
                rtt: Some(rtt),
                local,
                ..TryResult::bare(Evidence::Connected)
            },
        )),
    }
}

/// Waits for the connect to finish: Ok when connected, the socket's error otherwise.
async fn connected(stream: &TcpStream) -> io::Result<()> {
    loop {
        stream.ready(Interest::WRITABLE | Interest::ERROR).await?;
        if let Some(err) = stream.take_error()? {
            return Err(err);
        }
        match stream.peer_addr() {
            Ok(_) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                // Woken before the handshake ended: clear the readiness and wait again.
                let _ = stream.try_io(Interest::WRITABLE, || {
                    Err::<(), _>(io::ErrorKind::WouldBlock.into())
                });
            }
            Err(e) => return Err(e),
        }
    }
}
