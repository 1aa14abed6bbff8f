//! `--http`: one HTTP/1.1 request over the probe's connection (TLS or plain TCP), timed as request, first
//! byte and transfer; the answer's status line, Server and Location headers.

pub mod head;

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::tls::clock::Clock;
use super::tls::session::{HttpFacts, Phase};
use crate::text::escape_bytes;
use head::{Framing, chunked_end, parse_head};

/// Body bytes read at most (a GET of something large stops there; the transfer phase then covers that much).
pub const MAX_BODY: u64 = 1 << 20;

/// The request methods `--http-method` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HttpMethod {
    /// The head only: status, headers, no body (the default).
    #[value(name = "HEAD", alias = "head")]
    Head,
    /// The whole answer (read up to 1 MiB).
    #[value(name = "GET", alias = "get")]
    Get,
}

/// The request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `HEAD` or `GET`.
    pub method: String,
    /// The path, starting with `/`.
    pub path: String,
}

impl HttpRequest {
    /// The request's bytes, with `host` as the Host header.
    pub fn bytes(&self, host: &str) -> Vec<u8> {
        format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: sockdiag/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            self.method,
            self.path,
            env!("CARGO_PKG_VERSION")
        )
        .into_bytes()
    }
}

/// Makes the request and reads the answer, each step within `wait`; phases go to `clock`.
pub async fn exchange<S>(
    s: &mut S,
    req: &HttpRequest,
    host: &str,
    wait: Duration,
    clock: &mut Clock,
) -> HttpFacts
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut facts = HttpFacts {
        request: format!("{} {} HTTP/1.1", req.method, req.path),
        host: host.to_string(),
        ..HttpFacts::default()
    };
    let sent = async {
        s.write_all(&req.bytes(host)).await?;
        s.flush().await
    };
    match tokio::time::timeout(wait, sent).await {
        Ok(Ok(())) => clock.mark(Phase::Request),
        Ok(Err(e)) => return failed(facts, format!("sending the request failed: {e}"), clock),
        Err(_) => return failed(facts, "the request could not be sent in time".into(), clock),
    }
    let mut buf = Vec::new();
    let first = match tokio::time::timeout(wait, read_some(s, &mut buf)).await {
        Ok(Ok(0)) => {
            return failed(
                facts,
                "the server closed the connection without answering".into(),
                clock,
            );
        }
        Ok(Ok(_)) => Instant::now(),
        Ok(Err(e)) => return failed(facts, format!("reading the answer failed: {e}"), clock),
        Err(_) => {
            let why = format!("no answer within {}", crate::render::fmt_ms(wait));
            return failed(facts, why, clock);
        }
    };
    clock.mark_at(Phase::FirstByte, first);
    let head_request = req.method.eq_ignore_ascii_case("HEAD");
    let end = tokio::time::timeout(wait, read_answer(s, &mut buf, head_request, &mut facts)).await;
    clock.mark(Phase::Transfer);
    match end {
        Ok(Ok(())) => {}
        Ok(Err(why)) => facts.error = Some(why),
        Err(_) => {
            facts.error = Some(format!(
                "the answer did not end within {}",
                crate::render::fmt_ms(wait)
            ))
        }
    }
    facts
}

fn failed(mut facts: HttpFacts, why: String, clock: &mut Clock) -> HttpFacts {
    clock.mark(Phase::FirstByte);
    facts.error = Some(why);
    facts
}

async fn read_some<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = s.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

/// Reads the head, then the body as its framing says (up to MAX_BODY), filling `facts`.
async fn read_answer<S>(
    s: &mut S,
    buf: &mut Vec<u8>,
    head_request: bool,
    facts: &mut HttpFacts,
) -> Result<(), String>
where
    S: AsyncRead + Unpin,
{
    let (head, len) = loop {
        if let Some(done) = parse_head(buf)? {
            break done;
        }
        if read_some(s, buf)
            .await
            .map_err(|e| format!("reading the answer failed: {e}"))?
            == 0
        {
            return Err("the server closed the connection inside the response head".into());
        }
    };
    let shown = |v: &[u8]| escape_bytes(v);
    facts.status = Some(head.status);
    facts.status_line = Some(
        format!("{} {} {}", head.version, head.status, shown(&head.reason))
            .trim_end()
            .to_string(),
    );
    facts.server = head.header("server").map(shown);
    facts.location = head.header("location").map(shown);
    buf.drain(..len);
    let framing = head.framing(head_request);
    loop {
        let have = buf.len() as u64;
        let done = match framing {
            Framing::None => true,
            Framing::Length(n) => have >= n.min(MAX_BODY),
            Framing::Chunked => chunked_end(buf)?.is_some() || have >= MAX_BODY,
            Framing::UntilClose => have >= MAX_BODY,
        };
        facts.body_bytes = have.min(MAX_BODY);
        if done {
            return Ok(());
        }
        match read_some(s, buf).await {
            Ok(0) | Err(_) if framing == Framing::UntilClose => return Ok(()),
            Ok(0) => {
                return Err(format!(
                    "the server closed the connection after {have} body bytes"
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(format!("reading the body failed: {e}")),
        }
    }
}
