//! TLS over a client connection, driven by hand on the non-blocking socket so that every mode keeps its
//! readiness loop: the handshake (its ClientHello sniffed for the log, a failure named), then reads and writes
//! of plaintext with the same calls as a plain stream. What rustls has not yet written holds further writes
//! back, so a client that does not read is held to the same bounds as over plain TCP.

use std::cell::{Cell, RefCell};
use std::io::{self, IoSlice, Read, Write};

use rustls::ServerConnection;
use tokio::io::{Interest, Ready};

use super::hello::{self, ClientHello, MAX_SNIFF, Sniff};
use super::stream::Stream;

/// The answer to plain HTTP on a TLS port: the browser or curl user sees why at once.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\
Content-Length: 36\r\n\r\nThis port speaks TLS: use https://.\n";

/// A TLS connection over a plain stream.
#[derive(Debug)]
pub struct TlsStream {
    io: Stream,
    conn: RefCell<ServerConnection>,
    /// Plaintext rustls holds for us, as its last state said.
    plain: Cell<usize>,
    /// The client closed (close_notify or end of stream).
    closed: Cell<bool>,
}

/// What the handshake saw: the ClientHello, and how it ended.
#[derive(Debug, Default)]
pub struct Handshake {
    /// The client's hello, if it sent one.
    pub hello: Option<ClientHello>,
    /// Whether the first bytes were plain HTTP.
    pub plain_http: bool,
    /// Whether the first bytes were neither TLS nor HTTP.
    pub not_tls: bool,
}

/// Reads the socket for rustls, as far as it has bytes.
struct SockReader<'a>(&'a Stream);

impl Read for SockReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

/// Writes to the socket for rustls, as far as it takes them.
struct SockWriter<'a>(&'a Stream);

impl Write for SockWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A rustls error as an I/O error the modes end a session with.
fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {e}"))
}

impl TlsStream {
    /// Runs the handshake over `io` (waiting at most `idle` for each step); the stream and what was seen, or
    /// the rustls error (None: the client went away or stalled) and what was seen.
    pub async fn accept(
        io: Stream,
        conn: ServerConnection,
        idle: Option<std::time::Duration>,
    ) -> (Result<TlsStream, Option<rustls::Error>>, Handshake) {
        let tls = TlsStream {
            io,
            conn: RefCell::new(conn),
            plain: Cell::new(0),
            closed: Cell::new(false),
        };
        let mut seen = Handshake::default();
        let result = match idle {
            Some(d) => tokio::time::timeout(d, tls.handshake(&mut seen))
                .await
                .unwrap_or(Err(None)),
            None => tls.handshake(&mut seen).await,
        };
        (result.map(|()| tls), seen)
    }

    async fn handshake(&self, seen: &mut Handshake) -> Result<(), Option<rustls::Error>> {
        let mut sniffed: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 4096];
        while self.conn.borrow().is_handshaking() {
            self.flush_all().await.map_err(|_| None)?;
            if !self.conn.borrow().is_handshaking() {
                break;
            }
            self.io.plain_ready(Interest::READABLE).await.map_err(|_| None)?;
            let n = match self.io.try_read(&mut buf) {
                Ok(0) => return Err(None),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return Err(None),
            };
            if seen.hello.is_none() && sniffed.len() < MAX_SNIFF {
                sniffed.extend_from_slice(&buf[..n]);
                match hello::sniff(&sniffed) {
                    Sniff::Incomplete => {}
                    Sniff::Hello(h) => seen.hello = Some(h),
                    Sniff::PlainHttp => {
                        seen.plain_http = true;
                        let _ = self.io.try_write(PLAIN_HTTP_ANSWER);
                        return Err(Some(rustls::Error::General("plain HTTP".into())));
                    }
                    Sniff::NotTls => seen.not_tls = true,
                }
            }
            if let Err(e) = self.feed(&buf[..n]) {
                // The alert rustls queued tells the client why; it may not take it, which is its loss.
                let _ = self.conn.borrow_mut().write_tls(&mut SockWriter(&self.io));
                return Err(Some(e));
            }
        }
        self.flush_all().await.map_err(|_| None)
    }

    /// Gives rustls bytes read from the socket and processes them.
    fn feed(&self, mut bytes: &[u8]) -> Result<(), rustls::Error> {
        let mut conn = self.conn.borrow_mut();
        while !bytes.is_empty() {
            conn.read_tls(&mut bytes)
                .map_err(|e| rustls::Error::General(e.to_string()))?;
            let state = conn.process_new_packets()?;
            self.plain.set(state.plaintext_bytes_to_read());
            if state.peer_has_closed() {
                self.closed.set(true);
            }
        }
        Ok(())
    }

    /// Writes what rustls holds until it is all out (waiting for the socket as needed).
    async fn flush_all(&self) -> io::Result<()> {
        while self.conn.borrow().wants_write() {
            match self.flush() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.io.plain_ready(Interest::WRITABLE).await?;
                }
                other => other?,
            }
        }
        Ok(())
    }

    /// Writes what rustls holds as far as the socket takes it (WouldBlock when some is left).
    fn flush(&self) -> io::Result<()> {
        let mut conn = self.conn.borrow_mut();
        while conn.wants_write() {
            conn.write_tls(&mut SockWriter(&self.io))?;
        }
        Ok(())
    }

    /// The plain stream under the TLS.
    pub fn inner(&self) -> &Stream {
        &self.io
    }

    /// The negotiated connection, for the log.
    pub fn with_conn<T>(&self, f: impl FnOnce(&ServerConnection) -> T) -> T {
        f(&self.conn.borrow())
    }

    /// Whether a read would return at once (plaintext held, or the client's end).
    fn read_ready(&self) -> bool {
        self.plain.get() > 0 || self.closed.get()
    }

    /// Waits until any of `interest` may make progress, writing out what rustls holds meanwhile.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        loop {
            if interest.is_readable() && self.read_ready() {
                return Ok(Ready::READABLE);
            }
            let pending = self.conn.borrow().wants_write();
            let want = if pending {
                interest | Interest::WRITABLE
            } else {
                interest
            };
            let ready = self.io.plain_ready(want).await?;
            if pending && ready.is_writable() {
                match self.flush() {
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                    _ => {}
                }
            }
            let still = self.conn.borrow().wants_write();
            let mut out = Ready::EMPTY;
            if interest.is_readable() && ready.is_readable() {
                out |= Ready::READABLE;
            }
            if interest.is_writable() && ready.is_writable() && !still {
                out |= Ready::WRITABLE;
            }
            if !out.is_empty() {
                return Ok(out);
            }
        }
    }

    /// Reads plaintext without waiting: Ok(0) at the client's end, WouldBlock when none is there yet.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let got = self.conn.borrow_mut().reader().read(buf);
            match got {
                Ok(n) => {
                    self.plain.set(self.plain.get().saturating_sub(n));
                    return Ok(n);
                }
                // The client closed without close_notify: for a throwaway listener that is its end too.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                Err(_) => {}
            }
            let read = self.conn.borrow_mut().read_tls(&mut SockReader(&self.io));
            match read {
                Ok(0) => self.closed.set(true),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
            let state = self.conn.borrow_mut().process_new_packets().map_err(tls_error)?;
            self.plain.set(state.plaintext_bytes_to_read());
            self.closed.set(self.closed.get() || state.peer_has_closed());
            // Answers rustls owes (key updates, alerts) go out with the next flush.
            let _ = self.flush();
        }
    }

    /// Writes plaintext without waiting: refused (WouldBlock) while earlier records are still unsent.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self.flush() {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
            _ => {}
        }
        if self.conn.borrow().wants_write() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.conn.borrow_mut().writer().write(buf)?;
        match self.flush() {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
            _ if n == 0 && !buf.is_empty() => Err(io::ErrorKind::WouldBlock.into()),
            _ => Ok(n),
        }
    }

    /// Writes several buffers as far as rustls takes them.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut total = 0;
        for b in bufs {
            match self.try_write(b) {
                Ok(n) => {
                    total += n;
                    if n < b.len() {
                        break;
                    }
                }
                Err(e) if total > 0 && e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(total)
    }

    /// Sends close_notify after everything owed, then ends the sending side.
    pub async fn shutdown_write(&self) {
        self.conn.borrow_mut().send_close_notify();
        let _ = self.flush_all().await;
        Box::pin(self.io.shutdown_write()).await;
    }
}
