//! Event lines: one per listening socket, connect, new UDP peer, close, refusal and rate limiting; text on
//! stderr or NDJSON on stdout (the `listen-event` schema).

use super::endpoint::Endpoint;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use schemars::JsonSchema;
use serde::Serialize;

use super::format::{bytes_per_sec, fmt_duration_ms, fmt_rate, rfc3339};
use super::session::{Counts, End, Proto, Session, SessionId};
use super::show::{DataShown, data_text};
use super::sink::{LineSink, Target};
use crate::render::{ms_f64, write_json_line};

/// One event, as logged. Each kind has a fixed set of keys (a value that does not apply is null, never left
/// out); in NDJSON the key `event` names the kind.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A socket is bound and listening.
    Listening(Listening),
    /// A TCP client connected.
    Connect(Opened),
    /// A UDP peer sent its first datagram.
    NewPeer(Opened),
    /// A session ended.
    Close(Closed),
    /// A TCP connection was refused at --max-conns; it never became a session.
    Refused(TurnedAway),
    /// A UDP peer's answers began to be dropped by --udp-rate (once per session).
    RateLimited(TurnedAway),
    /// What a client sent (--show, --hex), up to --show-max per session.
    Data(DataShown),
    /// An HTTP request answered (--mode http).
    Request(HttpRequest),
    /// A TLS handshake, agreed or failed (--tls).
    Tls(super::tls_log::TlsHandshake),
}

/// An HTTP request and the status it got.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HttpRequest {
    /// When it was answered, RFC 3339 UTC with milliseconds.
    pub occurred_at: String,
    /// The session (connection) it came on.
    pub session_id: SessionId,
    /// TCP or Unix (stream).
    pub protocol: Proto,
    /// The client's address and port.
    pub peer: Endpoint,
    /// The local address and port it reached.
    pub local: Endpoint,
    /// The method as sent; null when the head could not be parsed.
    pub method: Option<String>,
    /// The request target (path) as sent; null when the head could not be parsed.
    pub target: Option<String>,
    /// The HTTP version as sent; null when the head could not be parsed.
    pub version: Option<String>,
    /// The status answered: 200, or 400/431/501 for a head that could not be served.
    pub status: u16,
}

/// A bound socket.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Listening {
    /// When it was bound, RFC 3339 UTC with milliseconds.
    pub occurred_at: String,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The address and port bound (with port 0, the port the system chose).
    pub local: Endpoint,
    /// Whether an IPv6 socket takes IPv4 too (the dual-stack wildcard).
    pub dual_stack: bool,
    /// With --tls: SHA-256 of the certificate, colon-separated hex; null without.
    pub tls_certificate_sha256: Option<String>,
    /// With --tls: SHA-256 of its public key, base64 (curl --pinnedpubkey sha256//THIS); null without.
    pub tls_public_key_sha256: Option<String>,
}

/// The start of a session: a TCP connect or a UDP peer's first datagram.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Opened {
    /// When it began, RFC 3339 UTC with milliseconds.
    pub occurred_at: String,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The session it opens (the summary's `sessions[].id`).
    pub session_id: SessionId,
    /// The client's address and port.
    pub peer: Endpoint,
    /// The local address and port it reached.
    pub local: Endpoint,
}

/// The end of a session, with what it carried and how it ended.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Closed {
    /// When it ended, RFC 3339 UTC with milliseconds.
    pub occurred_at: String,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The session it closes.
    pub session_id: SessionId,
    /// The client's address and port.
    pub peer: Endpoint,
    /// The local address and port it reached.
    pub local: Endpoint,
    /// Bytes both ways, and the datagram counts (null for TCP).
    #[serde(flatten)]
    pub counts: Counts,
    /// How long the session lasted.
    pub duration_ms: f64,
    /// Bytes received per second over the session; null outside sink mode (only sink measures throughput).
    pub received_bytes_per_second: Option<f64>,
    /// How it ended.
    pub end: End,
}

/// A client turned away or cut short: a refused connection, a rate-limited UDP peer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TurnedAway {
    /// When, RFC 3339 UTC with milliseconds.
    pub occurred_at: String,
    /// TCP (refused) or UDP (rate_limited).
    pub protocol: Proto,
    /// The client's address and port.
    pub peer: Endpoint,
    /// The local address and port it reached.
    pub local: Endpoint,
    /// Why, in words, naming the limit.
    pub detail: String,
}

impl Event {
    /// A bound socket; `dual_stack` when an IPv6 socket takes IPv4 too.
    pub fn listening(protocol: Proto, local: Endpoint, dual_stack: bool) -> Self {
        Event::Listening(Listening {
            occurred_at: rfc3339(SystemTime::now()),
            protocol,
            local,
            dual_stack,
            tls_certificate_sha256: None,
            tls_public_key_sha256: None,
        })
    }

    /// The same event with the TLS fingerprints of a --tls run.
    pub fn with_tls(mut self, tls: Option<&super::tls_setup::TlsSetup>) -> Self {
        if let (Event::Listening(l), Some(t)) = (&mut self, tls) {
            l.tls_certificate_sha256 = Some(t.cert_sha256.clone());
            l.tls_public_key_sha256 = Some(t.pubkey_sha256.clone());
        }
        self
    }

    /// The start of a session (connect or new UDP peer).
    pub fn opened(s: &Session) -> Self {
        let opened = Opened {
            occurred_at: rfc3339(s.started_at),
            protocol: s.protocol,
            session_id: s.id,
            peer: s.peer.clone(),
            local: s.local.clone(),
        };
        if s.protocol.is_stream() {
            Event::Connect(opened)
        } else {
            Event::NewPeer(opened)
        }
    }

    /// The end of a session with its counts, at `now` since the listener started; `report_rate` adds the
    /// throughput (sink mode).
    pub fn closed(s: &Session, now: Duration, report_rate: bool) -> Self {
        let duration = s.duration(now);
        Event::Close(Closed {
            occurred_at: rfc3339(SystemTime::now()),
            protocol: s.protocol,
            session_id: s.id,
            peer: s.peer.clone(),
            local: s.local.clone(),
            counts: s.traffic.counts(),
            duration_ms: ms_f64(duration),
            received_bytes_per_second: report_rate.then(|| bytes_per_sec(s.traffic.received_bytes, duration)),
            end: s
                .end
                .clone()
                .expect("the ledger records how a session ended before handing it back"),
        })
    }

    /// A refused TCP connection, `detail` naming the limit.
    pub fn refused(protocol: Proto, peer: Endpoint, local: Endpoint, detail: String) -> Self {
        Event::Refused(TurnedAway {
            occurred_at: rfc3339(SystemTime::now()),
            protocol,
            peer,
            local,
            detail,
        })
    }

    /// The first answer to a UDP peer dropped because it asked for more than `udp_rate` per second.
    pub fn rate_limited(protocol: Proto, peer: Endpoint, local: Endpoint, udp_rate: u32) -> Self {
        Event::RateLimited(TurnedAway {
            occurred_at: rfc3339(SystemTime::now()),
            protocol,
            peer,
            local,
            detail: format!("answers beyond --udp-rate {udp_rate} per second are dropped"),
        })
    }
}

/// The text line for an event (without the newline).
pub fn text_line(e: &Event) -> String {
    match e {
        Event::Listening(l) => {
            let families = match l.local {
                _ if l.dual_stack => "IPv4 and IPv6",
                Endpoint::Ip(a) if a.is_ipv6() => "IPv6",
                Endpoint::Ip(_) => "IPv4",
                Endpoint::Unix(_) => "Unix domain",
            };
            let mut line = format!("listening {} {} ({families})", l.protocol.name(), l.local);
            if let (Some(cert), Some(key)) = (&l.tls_certificate_sha256, &l.tls_public_key_sha256) {
                line.push_str(&format!(
                    ", TLS: certificate sha256 {cert}, public key sha256//{key}"
                ));
            }
            line
        }
        Event::Connect(o) => flow_line(&o.occurred_at, o.protocol, &o.peer, &o.local, "connect"),
        Event::NewPeer(o) => flow_line(&o.occurred_at, o.protocol, &o.peer, &o.local, "new peer"),
        Event::Close(c) => flow_line(&c.occurred_at, c.protocol, &c.peer, &c.local, &close_words(c)),
        Event::Refused(t) => turned_away(t, "refused"),
        Event::RateLimited(t) => turned_away(t, "rate limited"),
        Event::Data(d) => data_text(d),
        Event::Request(r) => request_line(r),
        Event::Tls(t) => flow_line(
            &t.occurred_at,
            t.protocol,
            &t.peer,
            &t.local,
            &super::tls_log::words(t),
        ),
    }
}

/// `TIME tcp PEER -> LOCAL request: GET / HTTP/1.1 -> 200`, the client's words escaped.
fn request_line(r: &HttpRequest) -> String {
    let words = match (&r.method, &r.target, &r.version) {
        (Some(m), Some(t), Some(v)) => [m, t, v]
            .map(|w| crate::text::escape_bytes(w.as_bytes()))
            .join(" "),
        _ => "(not an HTTP request)".to_string(),
    };
    let what = format!("request: {words} -> {}", r.status);
    flow_line(&r.occurred_at, r.protocol, &r.peer, &r.local, &what)
}

/// `TIME PROTO PEER -> LOCAL WHAT: DETAIL`.
fn turned_away(t: &TurnedAway, what: &str) -> String {
    let what = format!("{what}: {}", t.detail);
    flow_line(&t.occurred_at, t.protocol, &t.peer, &t.local, &what)
}

/// `TIME PROTO PEER -> LOCAL WHAT`: the shape of every line about one client.
fn flow_line(time: &str, protocol: Proto, peer: &Endpoint, local: &Endpoint, what: &str) -> String {
    format!("{time} {} {peer} -> {local} {what}", protocol.name())
}

/// "close: REASON; in N B, out N B (datagrams), DURATION, RATE".
fn close_words(c: &Closed) -> String {
    let t = &c.counts;
    let mut s = format!(
        "close: {}; in {} B, out {} B",
        c.end, t.received_bytes, t.sent_bytes
    );
    if let (Some(r), Some(w)) = (t.received_datagrams, t.sent_datagrams) {
        s.push_str(&format!(" ({r} datagrams in, {w} out"));
        match t.rate_limited_answers {
            Some(n) if n > 0 => s.push_str(&format!(", {n} answers rate-limited)")),
            _ => s.push(')'),
        }
    }
    s.push_str(&format!(", {}", fmt_duration_ms(c.duration_ms)));
    if let Some(r) = c.received_bytes_per_second {
        s.push_str(&format!(", {}", fmt_rate(r)));
    }
    s
}

/// Where events go: NDJSON on stdout with --json or --format ndjson, text on stderr otherwise; --quiet keeps
/// only `listening` (which tells the port). Lines pass through a bounded queue (sink.rs): never a blocking write.
#[derive(Debug, Clone)]
pub struct Logger {
    /// NDJSON on stdout.
    pub json: bool,
    /// Only the listening lines.
    pub quiet: bool,
    sink: Arc<LineSink>,
}

impl Logger {
    /// A logger with its writer thread started.
    pub fn new(json: bool, quiet: bool) -> Logger {
        Logger {
            json,
            quiet,
            sink: Arc::new(LineSink::start()),
        }
    }

    /// Logs one event (queued; dropped and counted if the queue is full).
    pub fn log(&self, e: &Event) {
        // --quiet leaves what was asked for by name: the port, and the data of --show.
        if self.quiet && !matches!(e, Event::Listening(_) | Event::Data(_)) {
            return;
        }
        if self.json {
            let mut line = Vec::new();
            if write_json_line(e, &mut line).is_ok() {
                line.pop();
                self.sink
                    .send(Target::Stdout, String::from_utf8_lossy(&line).into_owned());
            }
        } else {
            self.sink
                // Line breaks here are the log's own (a --show event is one line per received line, each
                // escaped already); every other control character is escaped.
                .send(
                    Target::Stderr,
                    crate::text::escape_keep_lines(&text_line(e)).into_owned(),
                );
        }
    }

    /// Whether the reader of the NDJSON went away (the listener then stops: there is no one to tell).
    pub fn output_closed(&self) -> bool {
        self.json && self.sink.stdout_closed()
    }

    /// A warning on stderr, never silenced by --quiet.
    pub fn warn(&self, msg: &str) {
        self.sink.send(
            Target::Stderr,
            format!("sockdiag: warning: {}", crate::text::escape(msg)),
        );
    }

    /// Ends the log and returns how many lines were dropped. NDJSON is written out whole first (the summary
    /// follows it on stdout); the text log gets a moment, then what stderr has not taken is counted as dropped.
    pub fn finish(&self) -> u64 {
        self.sink.finish(self.json, FINISH_GRACE)
    }
}

/// How long the text log may take to be written out once the listener stops (Ctrl-C must end the run at once).
const FINISH_GRACE: Duration = Duration::from_millis(20);

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::super::session::{EndKind, Ledger};
    use super::*;

    fn addr(s: &str) -> Endpoint {
        s.parse().unwrap()
    }

    /// The keys of an event's NDJSON object, sorted.
    fn keys(e: &Event) -> Vec<String> {
        let json = serde_json::to_value(e).unwrap();
        let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn close_lines_carry_counts_and_reason() {
        let mut ledger = Ledger::new();
        let peer = addr("127.0.0.1:5555");
        let local = addr("127.0.0.1:7");
        let id = ledger.open(Proto::Udp, peer, local, Duration::ZERO, UNIX_EPOCH);
        ledger.datagram_in(id, 12);
        ledger.rate_limited(id);
        let s = ledger
            .close(id, EndKind::IdleTimeout.into(), Duration::from_millis(1500))
            .unwrap();
        let line = text_line(&Event::closed(&s, Duration::ZERO, true));
        assert!(
            line.ends_with(
                "udp 127.0.0.1:5555 -> 127.0.0.1:7 close: idle timeout; in 12 B, out 0 B \
                 (1 datagrams in, 0 out, 1 answers rate-limited), 1.50 s, 8 B/s"
            ),
            "{line}"
        );
        let json = serde_json::to_value(Event::closed(&s, Duration::ZERO, false)).unwrap();
        assert_eq!(json["event"], "close");
        assert_eq!(json["received_bytes"], 12);
        assert_eq!(json["received_datagrams"], 1);
        assert_eq!(json["rate_limited_answers"], 1);
        assert_eq!(json["duration_ms"], 1500.0);
        assert_eq!(json["end"]["kind"], "idle_timeout");
        assert!(json["end"]["detail"].is_null());
        assert!(json["received_bytes_per_second"].is_null(), "{json}");
        let listening = Event::listening(Proto::Tcp, addr("[::]:80"), true);
        assert_eq!(text_line(&listening), "listening tcp [::]:80 (IPv4 and IPv6)");
        let listening = Event::listening(Proto::Udp, addr("[::1]:80"), false);
        assert_eq!(text_line(&listening), "listening udp [::1]:80 (IPv6)");
    }

    #[test]
    fn each_event_kind_carries_exactly_its_keys() {
        let mut ledger = Ledger::new();
        let (peer, local) = (addr("127.0.0.1:5555"), addr("127.0.0.1:7"));
        let tcp = ledger.open(
            Proto::Tcp,
            peer.clone(),
            local.clone(),
            Duration::ZERO,
            UNIX_EPOCH,
        );
        let udp = ledger.open(
            Proto::Udp,
            peer.clone(),
            local.clone(),
            Duration::ZERO,
            UNIX_EPOCH,
        );
        let opened = Event::opened(ledger.get(tcp).unwrap());
        let common = ["event", "occurred_at", "protocol", "session_id", "peer", "local"];
        assert_eq!(keys(&opened), sorted(&common));
        assert_eq!(serde_json::to_value(&opened).unwrap()["event"], "connect");
        let new_peer = serde_json::to_value(Event::opened(ledger.get(udp).unwrap())).unwrap();
        assert_eq!(new_peer["event"], "new_peer");

        let tcp = ledger
            .close(tcp, EndKind::PeerClosed.into(), Duration::ZERO)
            .unwrap();
        let udp = ledger
            .close(udp, EndKind::Evicted.into(), Duration::ZERO)
            .unwrap();
        // TCP and UDP, sink or not: one shape, null where a value does not apply.
        let counts = ["received_bytes", "sent_bytes"];
        let datagrams = ["received_datagrams", "sent_datagrams", "rate_limited_answers"];
        let tail = ["duration_ms", "received_bytes_per_second", "end"];
        let close = sorted(&[&common[..], &counts, &datagrams, &tail].concat());
        for (s, rate) in [(&tcp, false), (&udp, false), (&tcp, true)] {
            assert_eq!(keys(&Event::closed(s, Duration::ZERO, rate)), close);
        }
        let tcp_close = serde_json::to_value(Event::closed(&tcp, Duration::ZERO, false)).unwrap();
        assert!(tcp_close["sent_datagrams"].is_null(), "{tcp_close}");
        let sink = serde_json::to_value(Event::closed(&tcp, Duration::ZERO, true)).unwrap();
        assert_eq!(sink["received_bytes_per_second"], 0.0);

        let listening = Event::listening(Proto::Udp, local.clone(), false);
        assert_eq!(
            keys(&listening),
            sorted(&[
                "event",
                "occurred_at",
                "protocol",
                "local",
                "dual_stack",
                "tls_certificate_sha256",
                "tls_public_key_sha256"
            ])
        );
        let turned_away = ["event", "occurred_at", "protocol", "peer", "local", "detail"];
        let refused = Event::refused(
            Proto::Tcp,
            peer.clone(),
            local.clone(),
            "--max-conns 2 connections are open".into(),
        );
        assert_eq!(keys(&refused), sorted(&turned_away));
        let limited =
            serde_json::to_value(Event::rate_limited(Proto::Udp, peer.clone(), local.clone(), 50)).unwrap();
        assert_eq!(limited["event"], "rate_limited");
        assert_eq!(limited["protocol"], "udp");
        assert_eq!(
            text_line(&refused).split_once(' ').unwrap().1,
            "tcp 127.0.0.1:5555 -> 127.0.0.1:7 refused: --max-conns 2 connections are open"
        );
    }
}
