//! --mode http over one TCP connection: each request head is answered with 200 (keep-alive as the client asks),
//! its body read and dropped, its request line logged; a head that is not HTTP/1.x gets 400 and the close.
//! Requests are parsed where they were read (the shared scratch buffer), and a --reply answer is sent from
//! where it was built at start: a keep-alive request costs no allocation and one read and one write.

use std::borrow::Cow;
use std::io;
use std::time::SystemTime;

use super::format::rfc3339;
use super::http::{HttpError, MAX_HEAD, Request, answer, parse_head, response};
use super::log::{Event, HttpRequest};
use super::session::{End, EndKind};
use super::tcp::{Conn, end_of};

/// The --reply answer, built once for the run: with keep-alive, and with the close.
#[derive(Debug)]
pub struct Canned {
    keep_alive: Vec<u8>,
    close: Vec<u8>,
}

impl Canned {
    /// The answers carrying `reply` as their body.
    pub fn new(reply: &[u8]) -> Canned {
        Canned {
            keep_alive: response(200, "OK", reply, true),
            close: response(200, "OK", reply, false),
        }
    }

    fn get(&self, keep_alive: bool) -> &[u8] {
        if keep_alive { &self.keep_alive } else { &self.close }
    }
}

/// Answers owed to the client, in order: a single canned answer is sent from where it is, more are gathered.
#[derive(Default)]
enum Owed<'a> {
    #[default]
    Nothing,
    Canned(&'a [u8]),
    Gathered(Vec<u8>),
}

impl<'a> Owed<'a> {
    fn add(&mut self, answer: Cow<'a, [u8]>) {
        *self = match (std::mem::take(self), answer) {
            (Owed::Nothing, Cow::Borrowed(b)) => Owed::Canned(b),
            (Owed::Nothing, Cow::Owned(v)) => Owed::Gathered(v),
            (Owed::Canned(a), b) => Owed::Gathered([a, &b].concat()),
            (Owed::Gathered(mut v), b) => {
                v.extend_from_slice(&b);
                Owed::Gathered(v)
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Owed::Nothing => &[],
            Owed::Canned(b) => b,
            Owed::Gathered(v) => v,
        }
    }
}

/// What one read came to.
enum Read {
    /// Nothing was there after all.
    Nothing,
    /// Requests were answered (or none was complete yet); true when the connection ends after the answers.
    Answered(bool),
    /// The client's end of stream.
    Eof,
    /// The session ends so.
    End(End),
}

impl<'a> Conn<'a> {
    /// HTTP: answer requests until the client closes or asks for the close.
    pub(super) async fn http(&self) -> End {
        // The bytes of a head not complete yet: empty, and holding no memory, between requests.
        let mut held: Vec<u8> = Vec::new();
        let mut body_left: u64 = 0;
        loop {
            match self.within(self.stream.readable()).await.ok() {
                None => return EndKind::IdleTimeout.into(),
                Some(Err(e)) => return end_of(&e),
                Some(Ok(())) => {}
            }
            let mut owed = Owed::Nothing;
            let close = match self.read_requests(&mut held, &mut body_left, &mut owed) {
                Read::Nothing => continue,
                Read::Answered(close) => close,
                Read::Eof => return self.finish().await,
                Read::End(end) => return end,
            };
            if let Err(end) = self.send_all(owed.bytes()).await {
                return end;
            }
            if close {
                self.stream.shutdown_write().await;
                return self.drain().await;
            }
        }
    }

    /// Reads what is there into the scratch buffer and answers every complete request in it; the bytes of an
    /// unfinished head are kept in `held`. The buffer is lent only here, never across an await.
    fn read_requests(&self, held: &mut Vec<u8>, body_left: &mut u64, owed: &mut Owed<'a>) -> Read {
        let mut scratch = self.shared.scratch.borrow_mut();
        // A head is read only up to its limit plus a little (parse_head then refuses it).
        let room = if *body_left > 0 {
            scratch.len()
        } else {
            (MAX_HEAD + 4 - held.len().min(MAX_HEAD)).min(scratch.len())
        };
        let data = match self.stream.read_now(&mut scratch[..room]) {
            Ok(0) => return Read::Eof,
            Ok(n) => &scratch[..n],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Read::Nothing,
            Err(e) => return Read::End(end_of(&e)),
        };
        self.add_in(data);
        let close = if held.is_empty() {
            let (used, close) = self.answer_all(data, body_left, owed);
            held.extend_from_slice(&data[used..]);
            close
        } else {
            held.extend_from_slice(data);
            let (used, close) = self.answer_all(held, body_left, owed);
            held.drain(..used);
            close
        };
        if held.is_empty() {
            // Released between requests: an idle keep-alive connection holds no buffer.
            *held = Vec::new();
        }
        Read::Answered(close)
    }

    /// Answers every complete request in `data` (first skipping what is left of a body): the bytes used, and
    /// whether the connection ends after the answers.
    fn answer_all(&self, data: &[u8], body_left: &mut u64, owed: &mut Owed<'a>) -> (usize, bool) {
        let mut used = 0;
        loop {
            let skip = (*body_left).min((data.len() - used) as u64);
            used += skip as usize;
            *body_left -= skip;
            if *body_left > 0 {
                return (used, false);
            }
            match parse_head(&data[used..]) {
                Ok(None) => return (used, false),
                Ok(Some((req, len))) => {
                    used += len;
                    *body_left = req.body_len;
                    self.log_request(Some(&req), 200);
                    owed.add(self.answer(&req));
                    if !req.keep_alive {
                        return (used, true);
                    }
                }
                Err(e) => {
                    let (code, reason) = e.status();
                    self.log_request(None, code);
                    owed.add(Cow::Owned(response(code, reason, why(&e).as_bytes(), false)));
                    return (used, true);
                }
            }
        }
    }

    /// The answer to a request: the canned --reply one, else the echo of the request.
    fn answer(&self, req: &Request) -> Cow<'a, [u8]> {
        match &self.shared.http_reply {
            Some(canned) => Cow::Borrowed(canned.get(req.keep_alive)),
            None => Cow::Owned(answer(req, self.peer, None)),
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
            match self.within(self.stream.writable()).await.ok() {
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
            method: req.map(|r| r.method().to_string()),
            target: req.map(|r| r.target().to_string()),
            version: req.map(|r| r.version().to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_owed_keep_their_order_and_one_canned_answer_is_not_copied() {
        let canned = Canned::new(b"ok");
        let mut owed = Owed::Nothing;
        owed.add(Cow::Borrowed(canned.get(true)));
        assert!(matches!(owed, Owed::Canned(b) if std::ptr::eq(b, canned.get(true))));
        owed.add(Cow::Owned(b"second".to_vec()));
        owed.add(Cow::Borrowed(canned.get(false)));
        let all = owed.bytes();
        assert!(all.starts_with(canned.get(true)) && all.ends_with(canned.get(false)));
        assert_eq!(all.len(), canned.get(true).len() + 6 + canned.get(false).len());
        assert!(String::from_utf8_lossy(canned.get(false)).contains("Connection: close\r\n"));
    }
}
