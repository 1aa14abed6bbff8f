//! Event lines: one per connect, close, refusal, new UDP peer and rate limiting; text on stderr or NDJSON on stdout.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::format::{bytes_per_sec, fmt_duration, fmt_rate, rfc3339};
use super::session::{End, Proto, Session, SessionId};
use crate::render::{ms_f64, write_json_line};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A socket is bound and listening.
    Listening,
    /// A TCP client connected.
    Connect,
    /// A UDP peer sent its first datagram.
    Peer,
    /// A session ended.
    Close,
    /// A TCP connection was refused at --max-conns.
    Refused,
    /// A UDP peer's answers began to be dropped by the rate limit.
    RateLimited,
}

/// One event, as logged.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// What happened.
    pub event: Kind,
    /// Wall-clock time, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The session it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionId>,
    /// The client's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<SocketAddr>,
    /// The local address.
    pub local: SocketAddr,
    /// Bytes received so far (close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_in: Option<u64>,
    /// Bytes sent so far (close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_out: Option<u64>,
    /// Datagrams received (UDP close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datagrams_in: Option<u64>,
    /// Datagrams sent (UDP close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datagrams_out: Option<u64>,
    /// Answers dropped by the rate limit (UDP close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<u64>,
    /// How long the session lasted (close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// Bytes received per second over the session (close, sink mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_in_bps: Option<f64>,
    /// How it ended (close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<End>,
    /// Why it happened, in words (refused, rate-limited, listening).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    /// An event with only the common fields set.
    pub fn new(event: Kind, protocol: Proto, peer: Option<SocketAddr>, local: SocketAddr) -> Self {
        Event {
            event,
            time: rfc3339(SystemTime::now()),
            protocol,
            session: None,
            peer,
            local,
            bytes_in: None,
            bytes_out: None,
            datagrams_in: None,
            datagrams_out: None,
            rate_limited: None,
            duration_ms: None,
            rate_in_bps: None,
            end: None,
            detail: None,
        }
    }

    /// The start of a session (connect or new UDP peer).
    pub fn opened(s: &Session) -> Self {
        let kind = match s.protocol {
            Proto::Tcp => Kind::Connect,
            Proto::Udp => Kind::Peer,
        };
        Event {
            session: Some(s.id),
            time: rfc3339(s.started_at),
            ..Event::new(kind, s.protocol, Some(s.peer), s.local)
        }
    }

    /// The end of a session with its counts; `rate` adds the throughput (sink mode).
    pub fn closed(s: &Session, now: Duration, rate: bool) -> Self {
        let duration = s.duration(now);
        Event {
            session: Some(s.id),
            bytes_in: Some(s.traffic.bytes_in),
            bytes_out: Some(s.traffic.bytes_out),
            datagrams_in: s.traffic.datagrams.map(|d| d.datagrams_in),
            datagrams_out: s.traffic.datagrams.map(|d| d.datagrams_out),
            rate_limited: s.traffic.datagrams.map(|d| d.rate_limited),
            duration_ms: Some(ms_f64(duration)),
            rate_in_bps: rate.then(|| bytes_per_sec(s.traffic.bytes_in, duration)),
            end: s.end.clone(),
            ..Event::new(Kind::Close, s.protocol, Some(s.peer), s.local)
        }
    }

    /// Adds words saying why.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The text line for an event (without the newline).
pub fn text_line(e: &Event) -> String {
    let proto = e.protocol.name();
    if e.event == Kind::Listening {
        let extra = e.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
        return format!("listening {proto} {}{extra}", e.local);
    }
    let peer = e.peer.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
    let mut line = format!("{} {proto} {peer} -> {}", e.time, e.local);
    let what = match e.event {
        Kind::Listening => unreachable!("handled above"),
        Kind::Connect => "connect".to_string(),
        Kind::Peer => "new peer".to_string(),
        Kind::Refused => "refused".to_string(),
        Kind::RateLimited => "rate-limited".to_string(),
        Kind::Close => {
            let end = e.end.as_ref().map(|x| x.to_string()).unwrap_or_default();
            let mut s = format!(
                "close: {end}; in {} B, out {} B",
                e.bytes_in.unwrap_or(0),
                e.bytes_out.unwrap_or(0)
            );
            if let (Some(di), Some(dout)) = (e.datagrams_in, e.datagrams_out) {
                s.push_str(&format!(" ({di} datagrams in, {dout} out"));
                match e.rate_limited {
                    Some(n) if n > 0 => s.push_str(&format!(", {n} answers rate-limited)")),
                    _ => s.push(')'),
                }
            }
            if let Some(ms) = e.duration_ms {
                s.push_str(&format!(
                    ", {}",
                    fmt_duration(Duration::from_secs_f64(ms / 1000.0))
                ));
            }
            if let Some(r) = e.rate_in_bps {
                s.push_str(&format!(", {}", fmt_rate(r)));
            }
            s
        }
    };
    line.push(' ');
    line.push_str(&what);
    if e.event != Kind::Close
        && let Some(d) = &e.detail
    {
        line.push_str(": ");
        line.push_str(d);
    }
    line
}

/// Where events go: NDJSON on stdout with --json, text on stderr otherwise; -q keeps only `listening`.
#[derive(Debug, Clone, Copy)]
pub struct Logger {
    /// NDJSON on stdout.
    pub json: bool,
    /// Only the listening lines.
    pub quiet: bool,
}

impl Logger {
    /// Logs one event. Write errors (a closed pipe) are ignored: the listener keeps serving.
    pub fn log(&self, e: &Event) {
        if self.quiet && e.event != Kind::Listening {
            return;
        }
        if self.json {
            let _ = write_json_line(e, &mut io::stdout().lock());
        } else {
            let _ = writeln!(io::stderr().lock(), "{}", text_line(e));
        }
    }

    /// A warning on stderr, never silenced.
    pub fn warn(&self, msg: &str) {
        let _ = writeln!(io::stderr().lock(), "sockdiag: warning: {msg}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn close_lines_carry_counts_and_reason() {
        let mut ledger = super::super::session::Ledger::new();
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:7".parse().unwrap();
        let id = ledger.open(Proto::Udp, peer, local, Duration::ZERO, UNIX_EPOCH);
        ledger.datagram_in(id, 12);
        ledger.rate_limited(id);
        let s = ledger
            .close(id, End::IdleTimeout, Duration::from_millis(1500))
            .unwrap();
        let line = text_line(&Event::closed(&s, Duration::ZERO, true));
        assert!(
            line.ends_with(
                "udp 127.0.0.1:5555 -> 127.0.0.1:7 close: idle timeout; in 12 B, out 0 B \
                 (1 datagrams in, 0 out, 1 answers rate-limited), 1500 ms, 8 B/s"
            ),
            "{line}"
        );
        let json = serde_json::to_value(Event::closed(&s, Duration::ZERO, false)).unwrap();
        assert_eq!(json["event"], "close");
        assert_eq!(json["bytes_in"], 12);
        assert_eq!(json["duration_ms"], 1500.0);
        assert_eq!(json["end"]["kind"], "idle-timeout");
        assert!(json.get("rate_in_bps").is_none());
        let listening = Event::new(Kind::Listening, Proto::Tcp, None, "[::]:80".parse().unwrap())
            .with_detail("IPv4 and IPv6");
        assert_eq!(text_line(&listening), "listening tcp [::]:80 (IPv4 and IPv6)");
    }
}
