//! `--starttls`: the plain-text dialogue each protocol has before TLS, as `openssl s_client -starttls` has it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::session::{SessionState, SessionVerdict};
use crate::text::escape_bytes;

/// Protocols that upgrade a plain connection to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Starttls {
    /// SMTP: greeting, EHLO, STARTTLS (RFC 3207).
    Smtp,
    /// IMAP: greeting, STARTTLS (RFC 3501).
    Imap,
    /// POP3: greeting, STLS (RFC 2595).
    Pop3,
    /// FTP: greeting, AUTH TLS (RFC 4217).
    Ftp,
    /// PostgreSQL: SSLRequest, answered 'S'.
    Postgres,
}

/// The longest reply read: greetings and EHLO answers are a few hundred bytes.
const MAX_REPLY: usize = 8192;

/// Runs the dialogue; Err is the verdict when the server did not agree to upgrade.
pub async fn upgrade(stream: &mut TcpStream, proto: Starttls, wait: Duration) -> Result<(), SessionVerdict> {
    match tokio::time::timeout(wait, dialogue(stream, proto)).await {
        Ok(r) => r,
        Err(_) => Err(SessionVerdict::new(
            SessionState::Timeout,
            format!(
                "no answer in the {proto:?} STARTTLS dialogue within {}",
                crate::render::fmt_ms(wait)
            ),
            Some("is this the protocol's port? the server may wait for something else"),
        )),
    }
}

async fn dialogue(s: &mut TcpStream, proto: Starttls) -> Result<(), SessionVerdict> {
    match proto {
        Starttls::Smtp => {
            expect(s, "greeting", |l| l.starts_with(b"220 ")).await?;
            send(s, b"EHLO sockdiag.invalid\r\n").await?;
            expect(s, "EHLO answer", |l| l.starts_with(b"250 ")).await?;
            send(s, b"STARTTLS\r\n").await?;
            expect(s, "STARTTLS answer", |l| l.starts_with(b"220")).await
        }
        Starttls::Imap => {
            expect(s, "greeting", |l| l.starts_with(b"* OK")).await?;
            send(s, b"a1 STARTTLS\r\n").await?;
            expect(s, "STARTTLS answer", |l| l.starts_with(b"a1 OK")).await
        }
        Starttls::Pop3 => {
            expect(s, "greeting", |l| l.starts_with(b"+OK")).await?;
            send(s, b"STLS\r\n").await?;
            expect(s, "STLS answer", |l| l.starts_with(b"+OK")).await
        }
        Starttls::Ftp => {
            expect(s, "greeting", |l| l.starts_with(b"220 ")).await?;
            send(s, b"AUTH TLS\r\n").await?;
            expect(s, "AUTH TLS answer", |l| l.starts_with(b"234")).await
        }
        Starttls::Postgres => {
            send(s, &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).await?;
            let mut b = [0u8; 1];
            let n = s
                .read(&mut b)
                .await
                .map_err(|e| failed(format!("reading the SSLRequest answer: {e}")))?;
            match (n, b[0]) {
                (1, b'S') => Ok(()),
                (1, b'N') => Err(failed(
                    "the server answered the SSLRequest with 'N': it has TLS turned off".into(),
                )),
                (0, _) => Err(failed(
                    "the server closed the connection after the SSLRequest".into(),
                )),
                (_, other) => Err(failed(format!(
                    "the server answered the SSLRequest with {}",
                    escape_bytes(&[other])
                ))),
            }
        }
    }
}

fn failed(reason: String) -> SessionVerdict {
    SessionVerdict::new(
        SessionState::StarttlsFailed,
        reason,
        Some("check the protocol given to --starttls and that the server offers TLS"),
    )
}

async fn send(s: &mut TcpStream, data: &[u8]) -> Result<(), SessionVerdict> {
    s.write_all(data)
        .await
        .map_err(|e| failed(format!("sending {}: {e}", escape_bytes(data.trim_ascii_end()))))
}

/// Reads lines until one that ends the reply (an SMTP/FTP line `NNN ` with a space, or any other line), and
/// checks that line with `ok`.
async fn expect(s: &mut TcpStream, what: &str, ok: impl Fn(&[u8]) -> bool) -> Result<(), SessionVerdict> {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 1024];
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| failed(format!("reading the {what}: {e}")))?;
        if n == 0 {
            return Err(failed(format!(
                "the server closed the connection before its {what}"
            )));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(last) = final_line(&buf) {
            return if ok(last) {
                Ok(())
            } else {
                Err(failed(format!(
                    "the server's {what} was '{}'",
                    escape_bytes(last)
                )))
            };
        }
        if buf.len() > MAX_REPLY {
            return Err(failed(format!(
                "the server's {what} is longer than {MAX_REPLY} bytes"
            )));
        }
    }
}

/// The line that ends a reply, once it is complete: the first complete line that is not an SMTP/FTP
/// continuation (`250-...`).
fn final_line(buf: &[u8]) -> Option<&[u8]> {
    let mut rest = buf;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        let continued = line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit) && line[3] == b'-';
        if !continued {
            return Some(line);
        }
        rest = &rest[end + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_replies_end_at_the_line_with_a_space() {
        assert_eq!(
            final_line(b"250-mail\r\n250-SIZE\r\n250 STARTTLS\r\n"),
            Some(&b"250 STARTTLS"[..])
        );
        assert_eq!(final_line(b"250-mail\r\n250-SIZE\r\n"), None);
        assert_eq!(final_line(b"* OK ready\r\n"), Some(&b"* OK ready"[..]));
        assert_eq!(final_line(b"+OK"), None);
    }
}
