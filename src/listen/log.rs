//! Event lines: one per listening socket, connect, new UDP peer, close, refusal and rate limiting; text on
//! stderr or NDJSON on stdout.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::format::{bytes_per_sec, fmt_duration_ms, fmt_rate, rfc3339};
use super::session::{End, Proto, Session, SessionId, Traffic};
use crate::render::{ms_f64, write_json_line};

/// One event, as logged. Each kind carries exactly its own fields; in NDJSON the key `event` names the kind.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A socket is bound and listening.
    Listening {
        /// Wall-clock time, RFC 3339 UTC with milliseconds.
        time: String,
        /// TCP or UDP.
        protocol: Proto,
        /// The address and port bound.
        local: SocketAddr,
        /// The families it takes, in words: "IPv4", "IPv6" or "IPv4 and IPv6".
        detail: String,
    },
    /// A TCP client connected.
    Connect(Opened),
    /// A UDP peer sent its first datagram.
    Peer(Opened),
    /// A session ended.
    Close(Closed),
    /// A TCP connection was refused at --max-conns; it never became a session.
    Refused {
        /// Wall-clock time, RFC 3339 UTC with milliseconds.
        time: String,
        /// Always TCP.
        protocol: Proto,
        /// The client's address.
        peer: SocketAddr,
        /// The local address it reached.
        local: SocketAddr,
        /// Why, in words.
        detail: String,
    },
    /// A UDP peer's answers began to be dropped by the rate limit (once per session).
    RateLimited {
        /// Wall-clock time, RFC 3339 UTC with milliseconds.
        time: String,
        /// Always UDP.
        protocol: Proto,
        /// The peer's address.
        peer: SocketAddr,
        /// The local address it sent to.
        local: SocketAddr,
        /// Why, in words.
        detail: String,
    },
}

/// The start of a session: a TCP connect or a UDP peer's first datagram.
#[derive(Debug, Clone, Serialize)]
pub struct Opened {
    /// When it began, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The session it opens.
    pub session: SessionId,
    /// The client's address.
    pub peer: SocketAddr,
    /// The local address it reached.
    pub local: SocketAddr,
}

/// The end of a session, with what it carried and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct Closed {
    /// When it ended, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The session it closes.
    pub session: SessionId,
    /// The client's address.
    pub peer: SocketAddr,
    /// The local address it reached.
    pub local: SocketAddr,
    /// Bytes both ways, and the datagram counts of a UDP session.
    #[serde(flatten)]
    pub traffic: Traffic,
    /// How long the session lasted.
    pub duration_ms: f64,
    /// Bytes received per second over the session: reported in sink mode only, absent in the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_in_bps: Option<f64>,
    /// How it ended.
    pub end: End,
}

impl Event {
    /// A bound socket; `dual_stack` when an IPv6 socket takes IPv4 too.
    pub fn listening(protocol: Proto, local: SocketAddr, dual_stack: bool) -> Self {
        let families = if dual_stack {
            "IPv4 and IPv6"
        } else if local.is_ipv6() {
            "IPv6"
        } else {
            "IPv4"
        };
        Event::Listening {
            time: rfc3339(SystemTime::now()),
            protocol,
            local,
            detail: families.to_string(),
        }
    }

    /// The start of a session (connect or new UDP peer).
    pub fn opened(s: &Session) -> Self {
        let opened = Opened {
            time: rfc3339(s.started_at),
            protocol: s.protocol,
            session: s.id,
            peer: s.peer,
            local: s.local,
        };
        match s.protocol {
            Proto::Tcp => Event::Connect(opened),
            Proto::Udp => Event::Peer(opened),
        }
    }

    /// The end of a session with its counts, at `now` since the listener started; `report_rate` adds the
    /// throughput (sink mode).
    pub fn closed(s: &Session, now: Duration, report_rate: bool) -> Self {
        let duration = s.duration(now);
        Event::Close(Closed {
            time: rfc3339(SystemTime::now()),
            protocol: s.protocol,
            session: s.id,
            peer: s.peer,
            local: s.local,
            traffic: s.traffic.clone(),
            duration_ms: ms_f64(duration),
            rate_in_bps: report_rate.then(|| bytes_per_sec(s.traffic.bytes_in, duration)),
            end: s
                .end
                .clone()
                .expect("the ledger records how a session ended before handing it back"),
        })
    }

    /// A TCP connection refused because `max_conns` connections were open.
    pub fn refused(peer: SocketAddr, local: SocketAddr, max_conns: usize) -> Self {
        Event::Refused {
            time: rfc3339(SystemTime::now()),
            protocol: Proto::Tcp,
            peer,
            local,
            detail: format!("--max-conns {max_conns} connections are open"),
        }
    }

    /// The first answer to a UDP peer dropped because it asked for more than `udp_rate` per second.
    pub fn rate_limited(peer: SocketAddr, local: SocketAddr, udp_rate: u32) -> Self {
        Event::RateLimited {
            time: rfc3339(SystemTime::now()),
            protocol: Proto::Udp,
            peer,
            local,
            detail: format!("answers beyond --udp-rate {udp_rate} per second are dropped"),
        }
    }
}

/// The text line for an event (without the newline).
pub fn text_line(e: &Event) -> String {
    match e {
        Event::Listening {
            protocol,
            local,
            detail,
            ..
        } => format!("listening {} {local} ({detail})", protocol.name()),
        Event::Connect(o) => flow_line(&o.time, o.protocol, o.peer, o.local, "connect"),
        Event::Peer(o) => flow_line(&o.time, o.protocol, o.peer, o.local, "new peer"),
        Event::Close(c) => flow_line(&c.time, c.protocol, c.peer, c.local, &close_words(c)),
        Event::Refused {
            time,
            protocol,
            peer,
            local,
            detail,
        } => flow_line(time, *protocol, *peer, *local, &format!("refused: {detail}")),
        Event::RateLimited {
            time,
            protocol,
            peer,
            local,
            detail,
        } => flow_line(time, *protocol, *peer, *local, &format!("rate-limited: {detail}")),
    }
}

/// `TIME PROTO PEER -> LOCAL WHAT`: the shape of every line about one client.
fn flow_line(time: &str, protocol: Proto, peer: SocketAddr, local: SocketAddr, what: &str) -> String {
    format!("{time} {} {peer} -> {local} {what}", protocol.name())
}

/// "close: REASON; in N B, out N B (datagrams), DURATION, RATE".
fn close_words(c: &Closed) -> String {
    let t = &c.traffic;
    let mut s = format!("close: {}; in {} B, out {} B", c.end, t.bytes_in, t.bytes_out);
    if let Some(d) = t.datagrams {
        s.push_str(&format!(
            " ({} datagrams in, {} out",
            d.datagrams_in, d.datagrams_out
        ));
        if d.rate_limited > 0 {
            s.push_str(&format!(", {} answers rate-limited)", d.rate_limited));
        } else {
            s.push(')');
        }
    }
    s.push_str(&format!(", {}", fmt_duration_ms(c.duration_ms)));
    if let Some(r) = c.rate_in_bps {
        s.push_str(&format!(", {}", fmt_rate(r)));
    }
    s
}

/// Where events go: NDJSON on stdout with --json, text on stderr otherwise; --quiet keeps only `listening`.
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
        if self.quiet && !matches!(e, Event::Listening { .. }) {
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
    use std::time::UNIX_EPOCH;

    use super::super::session::Ledger;
    use super::*;

    fn addr(s: &str) -> SocketAddr {
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
            .close(id, End::IdleTimeout, Duration::from_millis(1500))
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
        assert_eq!(json["bytes_in"], 12);
        assert_eq!(json["duration_ms"], 1500.0);
        assert_eq!(json["end"]["kind"], "idle-timeout");
        assert!(json.get("rate_in_bps").is_none());
        let listening = Event::listening(Proto::Tcp, addr("[::]:80"), true);
        assert_eq!(text_line(&listening), "listening tcp [::]:80 (IPv4 and IPv6)");
    }

    #[test]
    fn each_event_kind_carries_exactly_its_keys() {
        let mut ledger = Ledger::new();
        let (peer, local) = (addr("127.0.0.1:5555"), addr("127.0.0.1:7"));
        let tcp = ledger.open(Proto::Tcp, peer, local, Duration::ZERO, UNIX_EPOCH);
        let udp = ledger.open(Proto::Udp, peer, local, Duration::ZERO, UNIX_EPOCH);
        let opened = Event::opened(ledger.get(tcp).unwrap());
        let common = ["event", "time", "protocol", "session", "peer", "local"];
        assert_eq!(keys(&opened), sorted(&common));
        assert_eq!(serde_json::to_value(&opened).unwrap()["event"], "connect");
        let new_peer = serde_json::to_value(Event::opened(ledger.get(udp).unwrap())).unwrap();
        assert_eq!(new_peer["event"], "peer");

        let tcp = ledger.close(tcp, End::PeerClosed, Duration::ZERO).unwrap();
        let udp = ledger.close(udp, End::Evicted, Duration::ZERO).unwrap();
        let counts = ["bytes_in", "bytes_out"];
        let datagrams = ["datagrams_in", "datagrams_out", "rate_limited"];
        let tail = ["duration_ms", "end"];
        let tcp_close = [&common[..], &counts, &tail].concat();
        assert_eq!(
            keys(&Event::closed(&tcp, Duration::ZERO, false)),
            sorted(&tcp_close)
        );
        let udp_close = [&common[..], &counts, &datagrams, &tail].concat();
        assert_eq!(
            keys(&Event::closed(&udp, Duration::ZERO, false)),
            sorted(&udp_close)
        );
        let sink_close = [&common[..], &counts, &tail, &["rate_in_bps"]].concat();
        assert_eq!(
            keys(&Event::closed(&tcp, Duration::ZERO, true)),
            sorted(&sink_close)
        );

        let listening = Event::listening(Proto::Udp, local, false);
        assert_eq!(
            keys(&listening),
            sorted(&["event", "time", "protocol", "local", "detail"])
        );
        let turned_away = ["event", "time", "protocol", "peer", "local", "detail"];
        let refused = Event::refused(peer, local, 2);
        assert_eq!(keys(&refused), sorted(&turned_away));
        let limited = serde_json::to_value(Event::rate_limited(peer, local, 50)).unwrap();
        assert_eq!(limited["event"], "rate-limited");
        assert_eq!(limited["protocol"], "udp");
        assert_eq!(
            text_line(&refused).split_once(' ').unwrap().1,
            "tcp 127.0.0.1:5555 -> 127.0.0.1:7 refused: --max-conns 2 connections are open"
        );
    }
}
