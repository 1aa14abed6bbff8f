//! --mode chat over one TCP connection: lines read are said to the room, what the room queued for this client
//! is written as the socket takes it; the join and the leave are announced to the others.

use std::io;
use std::rc::Rc;

use tokio::io::Interest;

use super::chat::{said, take_lines};
use super::endpoint::Endpoint;
use super::session::{End, EndKind};
use super::tcp::{Conn, end_of};

/// Most bytes read from one client at a time: what one read queues for every other member stays well under
/// --max-buffer (a line's prefix can multiply short lines tenfold), and the others are served in between.
const CHAT_READ: usize = 4096;
/// Most queued messages sent in one write.
const WRITE_BATCH: usize = 64;

impl Conn<'_> {
    /// Chat: in the room (joined and announced at accept) until the client leaves or is dropped for not reading.
    pub(super) async fn chat(&self) -> End {
        let peer = self.peer;
        let wake = self.shared.room.borrow_mut().join(self.id);
        let end = self.chat_loop(peer, &wake).await;
        self.shared.room.borrow_mut().leave(self.id);
        self.announce(format!("* {peer} left ({end})\n"));
        end
    }

    async fn chat_loop(&self, peer: &Endpoint, wake: &tokio::sync::Notify) -> End {
        let peer = peer.to_string();
        let mut partial: Vec<u8> = Vec::new();
        loop {
            if self.shared.room.borrow().is_dropped(self.id) {
                return EndKind::SlowReader.into();
            }
            let writing = self.shared.room.borrow().pending(self.id).is_some();
            let interest = if writing {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let ready = tokio::select! {
                r = self.within(self.stream.ready(interest)) => r.ok(),
                // Something was queued for this client (or it was dropped): look again.
                _ = wake.notified() => continue,
            };
            let ready = match ready {
                None => return EndKind::IdleTimeout.into(),
                Some(Err(e)) => return end_of(&e),
                Some(Ok(r)) => r,
            };
            if ready.is_readable() {
                match self.read_lines(&peer, &mut partial) {
                    // The others' tasks write what was just queued for them before this client is read again.
                    Ok(true) => tokio::task::yield_now().await,
                    Ok(false) => return EndKind::PeerClosed.into(),
                    Err(e) => return end_of(&e),
                }
            }
            if ready.is_writable()
                && let Err(e) = self.write_queued()
            {
                return end_of(&e);
            }
        }
    }

    /// Reads what is there and says each complete line to the room; false at the client's end of stream.
    fn read_lines(&self, peer: &str, partial: &mut Vec<u8>) -> io::Result<bool> {
        let mut scratch = self.shared.scratch.borrow_mut();
        let room = CHAT_READ.min(scratch.len());
        let n = match self.stream.try_read(&mut scratch[..room]) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) => return Err(e),
        };
        self.add_in(&scratch[..n]);
        partial.extend_from_slice(&scratch[..n]);
        drop(scratch);
        for line in take_lines(partial, self.shared.cfg.max_buffer) {
            self.say(Some(self.id), said(peer, &line));
        }
        if partial.is_empty() {
            *partial = Vec::new();
        }
        Ok(true)
    }

    /// Writes what the room queued for this client, as much as the socket takes now, many messages a write.
    fn write_queued(&self) -> io::Result<()> {
        loop {
            let room = self.shared.room.borrow();
            let batch = room.pending_batch(self.id, WRITE_BATCH);
            if batch.is_empty() {
                return Ok(());
            }
            let slices: Vec<io::IoSlice<'_>> = batch.iter().map(|b| io::IoSlice::new(b)).collect();
            let n = match self.stream.try_write_vectored(&slices) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            };
            drop(room);
            self.shared.room.borrow_mut().sent(self.id, n);
            self.add_out(n);
        }
    }

    /// A join or leave, to everyone else.
    fn announce(&self, text: String) {
        self.say(Some(self.id), Rc::from(text.into_bytes()));
    }

    /// Queues a message for the others; members dropped by it are logged by their own tasks as they end.
    fn say(&self, from: Option<super::session::SessionId>, msg: Rc<[u8]>) {
        self.shared.room.borrow_mut().broadcast(from, &msg);
    }
}
