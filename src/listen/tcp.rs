//! TCP: the accept loop (max-conns, TCP_NODELAY) and one task per connection serving the mode, with idle
//! timeouts and bounded buffering. Tasks, not threads: everything runs on the one event loop.

use std::future::Future;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::TcpListener;

use super::bind::unmap;
use super::endpoint::Endpoint;
use super::modes::{CHARGEN_CYCLE, Mode};
use super::session::{End, EndKind, Proto, SessionId};
use super::state::{Refusal, Shared};
use super::stream::Stream;

/// How long to wait before accepting again when the process is out of file descriptors or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// How long a drained echo buffer is kept for a client that goes on sending.
const RELEASE_AFTER: Duration = Duration::from_millis(100);
/// How often released buffers are given back to the kernel (a trim walks the heap: not after every release).
const TRIM_PERIOD: Duration = Duration::from_millis(500);

/// Accepts connections until the listener stops, spawning a task for each.
pub async fn accept_loop(listener: TcpListener, shared: Rc<Shared>) {
    let bound = listener.local_addr().map(unmap).ok();
    let mut last_warning: Option<Instant> = None;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                accept_failed(&shared, &e, &mut last_warning).await;
                continue;
            }
        };
        let peer = unmap(peer);
        let local = stream.local_addr().map(unmap).ok().or(bound).unwrap_or(peer);
        let refusal = if shared.ledger.borrow().open_tcp() >= shared.cfg.max_conns {
            Some(Refusal::MaxConns)
        } else if !shared.slots.borrow_mut().take(peer.ip()) {
            Some(Refusal::PerAddress)
        } else {
            None
        };
        if let Some(why) = refusal {
            // A reset, not a silent close: the client sees at once that it was turned away.
            let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream);
            shared.refused(Proto::Tcp, peer.into(), local.into(), why);
            continue;
        }
        // Request/response clients must not wait for Nagle and delayed ACKs.
        let _ = stream.set_nodelay(true);
        let (peer, local) = (Endpoint::Ip(peer), Endpoint::Ip(local));
        let id = admit(&shared, Proto::Tcp, &peer, &local);
        tokio::task::spawn_local(serve(Stream::Tcp(stream), id, peer, local, shared.clone()));
    }
}

/// After a failed accept: running out of descriptors or memory must not spin the loop, so wait, and say so now
/// and then.
pub(super) async fn accept_failed(shared: &Shared, e: &io::Error, last_warning: &mut Option<Instant>) {
    if matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    ) {
        if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
            shared
                .log
                .warn(&format!("accepting a connection failed: {e}; new clients wait"));
            *last_warning = Some(Instant::now());
        }
        tokio::time::sleep(ACCEPT_BACKOFF).await;
    }
}

/// Opens the session of an accepted connection; in chat mode, it joins the room and is announced there before
/// any later client can speak (nothing said after its connect is missed, and no later client hears of it).
pub(super) fn admit(shared: &Shared, proto: Proto, peer: &Endpoint, local: &Endpoint) -> SessionId {
    let id = shared.open(proto, peer.clone(), local.clone());
    if matches!(shared.cfg.mode, Mode::Chat) {
        let mut room = shared.room.borrow_mut();
        room.join(id);
        room.broadcast(
            Some(id),
            &std::rc::Rc::from(format!("* {peer} joined\n").into_bytes()),
        );
    }
    id
}

/// Every so often, gives the heap's free pages back to the kernel if buffers were released meanwhile (the
/// allocator alone keeps a flood's peak resident).
pub async fn trim_loop(shared: Rc<Shared>) {
    let mut tick = tokio::time::interval(TRIM_PERIOD);
    loop {
        tick.tick().await;
        if shared.take_released() > 0 {
            crate::sys::memory::release_free_memory();
        }
    }
}

/// Serves one connection (TCP or Unix, under TLS with --tls) in the configured mode, then records how it ended.
pub(super) async fn serve(
    stream: Stream,
    id: SessionId,
    peer: Endpoint,
    local: Endpoint,
    shared: Rc<Shared>,
) {
    let end = match &shared.cfg.tls {
        // Boxed: the handshake's state (a rustls connection) and the TLS stream would otherwise be part of every
        // connection's task, TLS or not, and of its memory while it idles.
        Some(setup) => Box::pin(serve_tls(stream, setup, id, (&peer, &local), &shared)).await,
        None => {
            let conn = Conn {
                stream: &stream,
                id,
                shared: &shared,
                peer: &peer,
                local: &local,
            };
            conn.serve_mode().await
        }
    };
    shared.close(id, end);
    if let Some(ip) = peer.ip() {
        shared.slots.borrow_mut().release(ip.ip());
    }
}

/// Runs the TLS handshake, then the mode over it; how the session ended.
async fn serve_tls(
    stream: Stream,
    setup: &super::tls_setup::TlsSetup,
    id: SessionId,
    (peer, local): (&Endpoint, &Endpoint),
    shared: &Shared,
) -> End {
    match super::tls_log::accept(stream, setup, id, (peer, local), shared).await {
        Ok(stream) => {
            let conn = Conn {
                stream: &stream,
                id,
                shared,
                peer,
                local,
            };
            conn.serve_mode().await
        }
        Err(end) => end,
    }
}

/// One connection being served.
pub(super) struct Conn<'a> {
    pub(super) stream: &'a Stream,
    pub(super) id: SessionId,
    pub(super) shared: &'a Shared,
    /// The client's end.
    pub(super) peer: &'a Endpoint,
    /// The end it reached.
    pub(super) local: &'a Endpoint,
}

impl Conn<'_> {
    /// Serves the mode over an established connection; how it ended. Every mode but echo is boxed: a
    /// connection's task is as large as the largest future it may await, so an idle echo client would otherwise
    /// carry room for chat's or http's state.
    async fn serve_mode(&self) -> End {
        match &self.shared.cfg.mode {
            Mode::Echo => self.echo().await,
            Mode::Discard | Mode::Sink => Box::pin(self.drain()).await,
            Mode::Reply(text) => Box::pin(self.reply(text)).await,
            Mode::Chargen(pattern) => Box::pin(self.chargen(pattern)).await,
            Mode::Chat => Box::pin(self.chat()).await,
            Mode::Interactive => Box::pin(self.interactive(&self.shared.typed)).await,
            Mode::Http(_) => Box::pin(self.http()).await,
        }
    }

    /// `f` bounded by the idle timeout (without one, by a deadline decades away): Err when it passes first.
    /// A plain Timeout rather than an async fn around one, so that a waiting connection stores `f` once.
    pub(super) fn within<F: Future>(&self, f: F) -> tokio::time::Timeout<F> {
        tokio::time::timeout(self.shared.cfg.idle_timeout.unwrap_or(Duration::MAX), f)
    }

    pub(super) fn add_in(&self, data: &[u8]) {
        self.shared.received(self.id, data, false);
    }

    pub(super) fn add_out(&self, n: usize) {
        self.shared.ledger.borrow_mut().add_out(self.id, n);
    }

    /// Sends our FIN after the peer's: everything owed has been sent.
    pub(super) async fn finish(&self) -> End {
        self.stream.shutdown_write().await;
        EndKind::PeerClosed.into()
    }

    /// Echo: read into the shared scratch buffer and write straight back; what the peer is not ready to take
    /// waits in a buffer of at most --max-buffer bytes, and nothing more is read until it has gone.
    async fn echo(&self) -> End {
        let mut pending: Vec<u8> = Vec::new();
        let mut sent = 0;
        loop {
            if pending.is_empty() {
                let ready = if pending.capacity() == 0 {
                    self.within(self.stream.readable()).await.ok()
                } else {
                    // Kept while the client keeps sending (freeing and growing it again on every drain costs
                    // page faults at full speed), released once it pauses: a burst must not leave each idle
                    // connection holding its peak.
                    match tokio::time::timeout(RELEASE_AFTER, self.stream.readable()).await {
                        Ok(r) => Some(r),
                        Err(_) => {
                            self.shared.released(pending.capacity());
                            pending = Vec::new();
                            continue;
                        }
                    }
                };
                match ready {
                    None => return EndKind::IdleTimeout.into(),
                    Some(Err(e)) => return end_of(&e),
                    Some(Ok(())) => {}
                }
                match self.echo_once(&mut pending) {
                    Step::Again => {}
                    Step::Eof => return self.finish().await,
                    Step::End(end) => return end,
                }
            } else {
                match self.within(self.stream.writable()).await.ok() {
                    None => return EndKind::Stalled.into(),
                    Some(Err(e)) => return end_of(&e),
                    Some(Ok(())) => {}
                }
                match self.stream.try_write(&pending[sent..]) {
                    Ok(w) => {
                        self.add_out(w);
                        sent += w;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return end_of(&e),
                }
                if sent == pending.len() {
                    pending.clear();
                    sent = 0;
                }
            }
        }
    }

    /// Discard and sink: read and count until the peer closes.
    pub(super) async fn drain(&self) -> End {
        loop {
            match self.within(self.stream.readable()).await.ok() {
                None => return EndKind::IdleTimeout.into(),
                Some(Err(e)) => return end_of(&e),
                Some(Ok(())) => {}
            }
            match self.drain_once() {
                Step::Again => {}
                Step::Eof => return self.finish().await,
                Step::End(end) => return end,
            }
        }
    }

    /// Reads what is there into the scratch buffer and writes it straight back, keeping what the peer did not
    /// take in `pending`. The buffer is lent only here, never across an await.
    fn echo_once(&self, pending: &mut Vec<u8>) -> Step {
        let mut guard = self.shared.scratch.borrow_mut();
        let scratch = &mut guard[..];
        let n = match self.stream.try_read(scratch) {
            Ok(0) => return Step::Eof,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Again,
            Err(e) => return Step::End(end_of(&e)),
        };
        self.add_in(&scratch[..n]);
        let written = match self.stream.try_write(&scratch[..n]) {
            Ok(w) => w,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Step::End(end_of(&e)),
        };
        self.add_out(written);
        pending.extend_from_slice(&scratch[written..n]);
        Step::Again
    }

    /// Reads what is there and counts it.
    fn drain_once(&self) -> Step {
        let mut scratch = self.shared.scratch.borrow_mut();
        match self.stream.try_read(&mut scratch) {
            Ok(0) => Step::Eof,
            Ok(n) => {
                self.add_in(&scratch[..n]);
                Step::Again
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Step::Again,
            Err(e) => Step::End(end_of(&e)),
        }
    }

    /// Reply: send the text on connect, close our side (the client sees the end), then count what it sends.
    async fn reply(&self, text: &[u8]) -> End {
        let mut off = 0;
        while off < text.len() {
            match self.within(self.stream.writable()).await.ok() {
                None => return EndKind::Stalled.into(),
                Some(Err(e)) => return end_of(&e),
                Some(Ok(())) => {}
            }
            match self.stream.try_write(&text[off..]) {
                Ok(w) => {
                    self.add_out(w);
                    off += w;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return end_of(&e),
            }
        }
        self.stream.shutdown_write().await;
        self.drain().await
    }

    /// Chargen: send the pattern for as long as the peer takes it, counting (and dropping) what it sends.
    async fn chargen(&self, pattern: &[u8]) -> End {
        let mut off = 0;
        let mut peer_writing = true;
        loop {
            let interest = if peer_writing {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::WRITABLE
            };
            let ready = match self.within(self.stream.ready(interest)).await.ok() {
                None => return EndKind::Stalled.into(),
                Some(Err(e)) => return end_of(&e),
                Some(Ok(r)) => r,
            };
            if peer_writing && ready.is_readable() {
                let mut scratch = self.shared.scratch.borrow_mut();
                match self.stream.try_read(&mut scratch) {
                    Ok(0) => peer_writing = false,
                    Ok(n) => self.add_in(&scratch[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return chargen_end(&e),
                }
            }
            if ready.is_writable() {
                match self.stream.try_write(&pattern[off..off + CHARGEN_CYCLE]) {
                    Ok(w) => {
                        self.add_out(w);
                        off = (off + w) % CHARGEN_CYCLE;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return chargen_end(&e),
                }
            }
        }
    }
}

/// What one non-blocking read step came to.
enum Step {
    /// Go on (data handled, or none there yet).
    Again,
    /// The peer's end of stream.
    Eof,
    /// The session ends so.
    End(End),
}

/// How a socket error ends a session.
pub(super) fn end_of(e: &io::Error) -> End {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionAborted => {
            EndKind::Reset.into()
        }
        _ => End::error(e.to_string()),
    }
}

/// Chargen clients end by closing while characters are still arriving, which the kernel answers with a reset:
/// for chargen that is the normal end.
fn chargen_end(e: &io::Error) -> End {
    match end_of(e) {
        End {
            kind: EndKind::Reset, ..
        } => EndKind::PeerClosed.into(),
        other => other,
    }
}
