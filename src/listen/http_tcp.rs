//! --mode http over one TCP connection: each request head is answered with 200 (keep-alive as the client asks),
//! its body read and dropped, its request line logged; a head that is not HTTP/1.x gets 400 and the close.

use std::io;
use std::time::SystemTime;

use super::format::rfc3339;
use super::http::{HttpError, MAX_HEAD, Request, answer, parse_head, response};
use super::log::{Event, HttpRequest};
use super::session::{End, EndKind};
use super::tcp::{Conn, end_of};

impl Conn<'_> {
    /// HTTP: answer requests until the client closes or asks for the close.
    pub(super) async fn http(&self, reply: Option<&[u8]>) -> End {
        let mut buf: Vec<u8> = Vec::new();
        let mut body_left: u64 = 0;
        loop {
            // Everything complete in the buffer is answered before reading more (pipelined requests).
            loop {
                let skip = body_left.min(buf.len() as u64) as usize;
                buf.drain(..skip);
                body_left -= skip as u64;
                if body_left > 0 {
                    break;
                }
                let (out, keep_alive) = match parse_head(&buf) {
                    Ok(None) => break,
                    Ok(Some((req, len))) => {
                        buf.drain(..len);
                        body_left = req.body_len;
                        self.log_request(Some(&req), 200);
                        (answer(&req, self.peer, reply), req.keep_alive)
                    }
                    Err(e) => {
                        let (code, reason) = e.status();
                        self.log_request(None, code);
                        (response(code, reason, why(&e).as_bytes(), false), false)
                    }
                };
                if let Err(end) = self.send_all(&out).await {
                    return end;
                }
                if !keep_alive {
                    self.stream.shutdown_write().await;
                    return self.drain().await;
                }
            }
            if buf.is_empty() {
                // Released between requests: an idle keep-alive connection holds no buffer.
                buf = Vec::new();
            }
            match self.read_more(&mut buf, body_left).await {
                Ok(true) => {}
                Ok(false) => return self.finish().await,
                Err(end) => return end,
            }
        }
    }

    /// Reads what is there into `buf` (a body being skipped is counted, not kept); false at end of stream.
    async fn read_more(&self, buf: &mut Vec<u8>, body_left: u64) -> Result<bool, End> {
        loop {
            match self.within(self.stream.readable()).await {
                None => return Err(EndKind::IdleTimeout.into()),
                Some(Err(e)) => return Err(end_of(&e)),
                Some(Ok(())) => {}
            }
            let mut scratch = self.shared.scratch.borrow_mut();
            // A head is read only up to its limit plus a little (parse_head then refuses it).
            let room = if body_left > 0 {
                scratch.len()
            } else {
                (MAX_HEAD + 4 - buf.len().min(MAX_HEAD)).min(scratch.len())
            };
            match self.stream.try_read(&mut scratch[..room]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.add_in(&scratch[..n]);
                    buf.extend_from_slice(&scratch[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(end_of(&e)),
            }
        }
    }

    /// Writes all of `out`, waiting for the socket as needed.
    pub(super) async fn send_all(&self, out: &[u8]) -> Result<(), End> {
        let mut off = 0;
        while off < out.len() {
            match self.stream.try_write(&out[off..]) {
                Ok(n) => {
                    self.add_out(n);
                    off += n;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(end_of(&e)),
            }
            match self.within(self.stream.writable()).await {
                None => return Err(EndKind::Stalled.into()),
                Some(Err(e)) => return Err(end_of(&e)),
                Some(Ok(())) => {}
            }
        }
        Ok(())
    }

    /// Logs a request line with the status it got (not built at all under --quiet).
    fn log_request(&self, req: Option<&Request>, status: u16) {
        if self.shared.log.quiet {
            return;
        }
        self.shared.emit(&Event::Request(HttpRequest {
            occurred_at: rfc3339(SystemTime::now()),
            session_id: self.id,
            protocol: self.stream.proto(),
            peer: self.peer.clone(),
            local: self.local.clone(),
            method: req.map(|r| r.method.clone()),
            target: req.map(|r| r.target.clone()),
            version: req.map(|r| r.version.clone()),
            status,
        }));
    }
}

/// The body of an error answer.
fn why(e: &HttpError) -> String {
    match e {
        HttpError::BadRequest(what) => format!("sockdiag listen --mode http: {what}\n"),
        HttpError::TooLarge => "sockdiag listen --mode http: the request head is too large\n".into(),
        HttpError::Chunked => "sockdiag listen --mode http: chunked bodies are not supported\n".into(),
    }
}
