//! Per-peer accounting: open and finished client sessions, their byte counts and how each ended (pure).

use std::collections::HashMap;

use super::endpoint::Endpoint;
use std::time::{Duration, SystemTime};

use schemars::JsonSchema;
use serde::Serialize;

/// Finished sessions kept for the summary; beyond this only the totals grow, so a long run stays bounded.
pub const MAX_RECORDS: usize = 100_000;

/// Transport of a session (a datagram session is one peer, its address as seen on one socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// A Unix stream socket.
    Unix,
    /// A Unix datagram socket.
    Unixgram,
}

impl Proto {
    /// The lowercase name used in logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Unix => "unix",
            Proto::Unixgram => "unixgram",
        }
    }

    /// Whether it is a connection (TCP, Unix stream) rather than datagrams from peers.
    pub fn is_stream(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Unix)
    }
}

/// How a session ended: its kind, and the message of a socket error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct End {
    /// What ended it.
    pub kind: EndKind,
    /// The socket error's message when `kind` is `error`, why the handshake failed for `tls_failed`; null for
    /// every other kind.
    pub detail: Option<String>,
}

/// What ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndKind {
    /// The peer closed its side and everything owed was sent.
    PeerClosed,
    /// The peer reset the connection.
    Reset,
    /// No progress either way for the idle timeout.
    IdleTimeout,
    /// The peer did not read what it was owed for the idle timeout.
    Stalled,
    /// The listener stopped (signal, --once, --clients, --deadline) while the session was open.
    ListenerStopped,
    /// The UDP peer table was full and this peer had been idle the longest.
    Evicted,
    /// Chat: the client did not read, and --max-buffer bytes waited for it.
    SlowReader,
    /// A socket error (the detail says which).
    Error,
    /// The TLS handshake failed (the detail says why).
    TlsFailed,
}

impl From<EndKind> for End {
    fn from(kind: EndKind) -> Self {
        End { kind, detail: None }
    }
}

impl End {
    /// A session ended by a socket error.
    pub fn error(message: impl Into<String>) -> Self {
        End {
            kind: EndKind::Error,
            detail: Some(message.into()),
        }
    }
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            EndKind::PeerClosed => f.write_str("peer closed"),
            EndKind::Reset => f.write_str("reset by peer"),
            EndKind::IdleTimeout => f.write_str("idle timeout"),
            EndKind::Stalled => f.write_str("idle timeout (peer not reading)"),
            EndKind::ListenerStopped => f.write_str("listener stopped"),
            EndKind::Evicted => f.write_str("evicted (too many UDP peers)"),
            EndKind::SlowReader => f.write_str("dropped: not reading (--max-buffer waited for it)"),
            EndKind::Error => write!(f, "error: {}", self.detail.as_deref().unwrap_or("unknown")),
            EndKind::TlsFailed => write!(
                f,
                "TLS handshake failed: {}",
                self.detail.as_deref().unwrap_or("unknown")
            ),
        }
    }
}

/// Identifies a session while it is open.
pub type SessionId = u64;

/// One client session: a TCP connection or a UDP peer.
#[derive(Debug, Clone)]
pub struct Session {
    /// Number in order of arrival, from 1.
    pub id: SessionId,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The client's address (IPv4-mapped addresses shown as IPv4), or its Unix socket end.
    pub peer: Endpoint,
    /// The local address it reached.
    pub local: Endpoint,
    /// Wall-clock time it began.
    pub started_at: SystemTime,
    /// When it began, since the listener started.
    pub start: Duration,
    /// When it ended, since the listener started.
    pub stop: Option<Duration>,
    /// What it carried so far.
    pub traffic: Traffic,
    /// How it ended; None while open.
    pub end: Option<End>,
    /// Bytes of it shown by --show/--hex so far.
    pub shown_bytes: u64,
}

/// What a session carried: bytes both ways, and for UDP the datagrams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes received from the peer.
    pub received_bytes: u64,
    /// Bytes sent to the peer.
    pub sent_bytes: u64,
    /// Datagram counts: a UDP session has them, a TCP one does not.
    pub datagrams: Option<Datagrams>,
}

/// A UDP session's datagram counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Datagrams {
    /// Datagrams received.
    pub received: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// Answers not sent because of the per-peer rate limit.
    pub rate_limited: u64,
}

/// What a session carried, as its JSON shows it: the same keys for TCP and UDP, the datagram counts null for TCP
/// (a stream has no datagrams).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Counts {
    /// Bytes received from the peer.
    pub received_bytes: u64,
    /// Bytes sent to the peer.
    pub sent_bytes: u64,
    /// Datagrams received; null for TCP.
    pub received_datagrams: Option<u64>,
    /// Datagrams sent; null for TCP.
    pub sent_datagrams: Option<u64>,
    /// Answers not sent because of the per-peer --udp-rate; null for TCP.
    pub rate_limited_answers: Option<u64>,
}

impl Traffic {
    /// The counts as the JSON shows them.
    pub fn counts(&self) -> Counts {
        let d = self.datagrams;
        Counts {
            received_bytes: self.received_bytes,
            sent_bytes: self.sent_bytes,
            received_datagrams: d.map(|d| d.received),
            sent_datagrams: d.map(|d| d.sent),
            rate_limited_answers: d.map(|d| d.rate_limited),
        }
    }
}

impl Session {
    /// How long it lasted (or has lasted, at `now`).
    pub fn duration(&self, now: Duration) -> Duration {
        self.stop.unwrap_or(now).saturating_sub(self.start)
    }
}

/// Counters over every session, including those whose records were not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Totals {
    /// TCP connections served.
    pub tcp_sessions: u64,
    /// TCP (or Unix stream) connections refused: --max-conns were open, or their source held
    /// --max-conns-per-address.
    pub tcp_refused: u64,
    /// Of those, refused because their source held --max-conns-per-address.
    pub tcp_refused_per_address: u64,
    /// UDP peers seen.
    pub udp_peers: u64,
    /// Unix stream connections served.
    pub unix_sessions: u64,
    /// Unix datagram peers seen (each sender path and process).
    pub unixgram_peers: u64,
    /// UDP peers forgotten because the table was full (--max-udp-peers).
    pub udp_evicted: u64,
    /// Bytes received, all sessions.
    pub received_bytes: u64,
    /// Bytes sent, all sessions.
    pub sent_bytes: u64,
    /// Datagrams received.
    pub received_datagrams: u64,
    /// Datagrams sent.
    pub sent_datagrams: u64,
    /// UDP answers dropped by the per-peer rate limit (--udp-rate).
    pub rate_limited_answers: u64,
    /// Log lines (events, warnings) not written because their output could not take more at the time; the
    /// listener never waits for its log.
    pub log_lines_dropped: u64,
}

impl Totals {
    /// Client sessions of every protocol.
    pub fn sessions(&self) -> u64 {
        self.tcp_sessions + self.udp_peers + self.unix_sessions + self.unixgram_peers
    }
}

/// Every session of a run: the open ones by id and the finished ones in order of ending.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Boxed: a table sized for 10,000 connections has thousands of empty slots, each as large as its value.
    open: HashMap<SessionId, Box<Session>>,
    done: Vec<Session>,
    not_kept: u64,
    next_id: SessionId,
    tcp_open: usize,
    tcp_done: u64,
    /// The counters.
    pub totals: Totals,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Ledger::default()
    }

    /// Starts a session and returns its id.
    pub fn open(
        &mut self,
        protocol: Proto,
        peer: Endpoint,
        local: Endpoint,
        since_start: Duration,
        wall_clock: SystemTime,
    ) -> SessionId {
        self.next_id += 1;
        let id = self.next_id;
        match protocol {
            Proto::Tcp => self.totals.tcp_sessions += 1,
            Proto::Unix => self.totals.unix_sessions += 1,
            Proto::Udp => self.totals.udp_peers += 1,
            Proto::Unixgram => self.totals.unixgram_peers += 1,
        }
        self.tcp_open += usize::from(protocol.is_stream());
        let datagrams = (!protocol.is_stream()).then(Datagrams::default);
        self.open.insert(
            id,
            Box::new(Session {
                id,
                protocol,
                peer,
                local,
                started_at: wall_clock,
                start: since_start,
                stop: None,
                traffic: Traffic {
                    received_bytes: 0,
                    sent_bytes: 0,
                    datagrams,
                },
                end: None,
                shown_bytes: 0,
            }),
        );
        id
    }

    /// Counts bytes of an open session shown by --show/--hex.
    pub fn add_shown(&mut self, id: SessionId, bytes: usize) {
        if let Some(s) = self.open.get_mut(&id) {
            s.shown_bytes += bytes as u64;
        }
    }

    /// Counts bytes received on an open session.
    pub fn add_in(&mut self, id: SessionId, bytes: usize) {
        if let Some(s) = self.open.get_mut(&id) {
            s.traffic.received_bytes += bytes as u64;
            self.totals.received_bytes += bytes as u64;
        }
    }

    /// Counts bytes sent on an open session.
    pub fn add_out(&mut self, id: SessionId, bytes: usize) {
        if let Some(s) = self.open.get_mut(&id) {
            s.traffic.sent_bytes += bytes as u64;
            self.totals.sent_bytes += bytes as u64;
        }
    }

    /// Counts a datagram received on an open UDP session.
    pub fn datagram_in(&mut self, id: SessionId, bytes: usize) {
        self.add_in(id, bytes);
        if let Some(d) = self.datagrams_mut(id) {
            d.received += 1;
            self.totals.received_datagrams += 1;
        }
    }

    /// Counts a datagram sent on an open UDP session.
    pub fn datagram_out(&mut self, id: SessionId, bytes: usize) {
        self.add_out(id, bytes);
        if let Some(d) = self.datagrams_mut(id) {
            d.sent += 1;
            self.totals.sent_datagrams += 1;
        }
    }

    /// Counts an answer dropped by the rate limit; returns true for the first one of the session.
    pub fn rate_limited(&mut self, id: SessionId) -> bool {
        let Some(d) = self.datagrams_mut(id) else {
            return false;
        };
        d.rate_limited += 1;
        let first = d.rate_limited == 1;
        self.totals.rate_limited_answers += 1;
        first
    }

    /// The datagram counts of an open UDP session.
    fn datagrams_mut(&mut self, id: SessionId) -> Option<&mut Datagrams> {
        self.open.get_mut(&id)?.traffic.datagrams.as_mut()
    }

    /// Counts a refused TCP connection; `per_address` when its source held its share.
    pub fn refused(&mut self, per_address: bool) {
        self.totals.tcp_refused += 1;
        self.totals.tcp_refused_per_address += u64::from(per_address);
    }

    /// Ends an open session and returns it as finished; None if it was not open.
    pub fn close(&mut self, id: SessionId, end: End, since_start: Duration) -> Option<Session> {
        let mut s = *self.open.remove(&id)?;
        if end.kind == EndKind::Evicted {
            self.totals.udp_evicted += 1;
        }
        if s.protocol.is_stream() {
            self.tcp_done += 1;
            self.tcp_open -= 1;
        }
        s.stop = Some(since_start);
        s.end = Some(end);
        if self.done.len() < MAX_RECORDS {
            self.done.push(s.clone());
        } else {
            self.not_kept += 1;
        }
        Some(s)
    }

    /// Ends every open session the same way (when the listener stops), oldest first.
    pub fn close_all(&mut self, end: End, since_start: Duration) -> Vec<Session> {
        let mut ids: Vec<_> = self.open.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| self.close(id, end.clone(), since_start))
            .collect()
    }

    /// TCP sessions open now.
    pub fn open_tcp(&self) -> usize {
        self.tcp_open
    }

    /// TCP sessions that have ended.
    pub fn tcp_done(&self) -> u64 {
        self.tcp_done
    }

    /// An open session.
    pub fn get(&self, id: SessionId) -> Option<&Session> {
        self.open.get(&id).map(|s| &**s)
    }

    /// The finished sessions kept, in order of arrival, and how many more were not kept.
    pub fn finish(mut self) -> (Vec<Session>, u64) {
        self.done.sort_by_key(|s| s.id);
        (self.done, self.not_kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Endpoint {
        Endpoint::Ip(s.parse().unwrap())
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn counts_bytes_per_session_and_in_totals() {
        let mut l = Ledger::new();
        let local = addr("127.0.0.1:7");
        let a = l.open(
            Proto::Tcp,
            addr("127.0.0.1:1000"),
            local,
            secs(1),
            SystemTime::UNIX_EPOCH,
        );
        let b = l.open(
            Proto::Udp,
            addr("[::1]:2000"),
            addr("[::1]:7"),
            secs(2),
            SystemTime::UNIX_EPOCH,
        );
        l.add_in(a, 10);
        l.add_out(a, 7);
        l.datagram_in(b, 5);
        l.datagram_out(b, 5);
        assert!(l.rate_limited(b));
        assert!(!l.rate_limited(b));
        assert_eq!(l.open_tcp(), 1);
        let done = l.close(a, EndKind::PeerClosed.into(), secs(4)).unwrap();
        assert_eq!((done.traffic.received_bytes, done.traffic.sent_bytes), (10, 7));
        assert_eq!(done.duration(secs(100)), secs(3));
        assert!(
            l.close(a, EndKind::Reset.into(), secs(5)).is_none(),
            "a session ends once"
        );
        l.add_in(a, 99); // late bytes on a closed session are not counted
        assert_eq!(l.tcp_done(), 1);
        let rest = l.close_all(EndKind::ListenerStopped.into(), secs(9));
        assert_eq!(rest.len(), 1);
        let datagrams = rest[0].traffic.datagrams.unwrap();
        assert_eq!(datagrams.received, 1);
        assert_eq!(datagrams.rate_limited, 2);
        let t = l.totals.clone();
        assert_eq!(
            (
                t.received_bytes,
                t.sent_bytes,
                t.received_datagrams,
                t.sent_datagrams
            ),
            (15, 12, 1, 1)
        );
        assert_eq!((t.tcp_sessions, t.udp_peers, t.rate_limited_answers), (1, 1, 2));
        let (sessions, not_kept) = l.finish();
        assert_eq!(sessions.iter().map(|s| s.id).collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(sessions[1].end, Some(EndKind::ListenerStopped.into()));
        assert_eq!(not_kept, 0);
    }

    #[test]
    fn records_beyond_the_cap_only_count() {
        let mut l = Ledger::new();
        let local = addr("127.0.0.1:7");
        for i in 0..MAX_RECORDS + 3 {
            let id = l.open(
                Proto::Tcp,
                addr("127.0.0.1:1"),
                local.clone(),
                secs(0),
                SystemTime::UNIX_EPOCH,
            );
            l.add_in(id, 1);
            l.close(id, EndKind::PeerClosed.into(), secs(i as u64));
        }
        assert_eq!(l.totals.received_bytes, MAX_RECORDS as u64 + 3);
        let (kept, not_kept) = l.finish();
        assert_eq!((kept.len(), not_kept), (MAX_RECORDS, 3));
    }

    #[test]
    fn end_reasons_read_well_and_serialise_as_kinds() {
        assert_eq!(
            End::from(EndKind::Stalled).to_string(),
            "idle timeout (peer not reading)"
        );
        assert_eq!(End::error("boom").to_string(), "error: boom");
        let json = serde_json::to_string(&End::error("boom")).unwrap();
        assert_eq!(json, r#"{"kind":"error","detail":"boom"}"#);
        assert_eq!(
            serde_json::to_string(&End::from(EndKind::PeerClosed)).unwrap(),
            r#"{"kind":"peer_closed","detail":null}"#
        );
    }

    #[test]
    fn counts_have_the_same_keys_for_tcp_and_udp() {
        let mut l = Ledger::new();
        let (peer, local) = (addr("127.0.0.1:1000"), addr("127.0.0.1:7"));
        let tcp = l.open(
            Proto::Tcp,
            peer.clone(),
            local.clone(),
            secs(0),
            SystemTime::UNIX_EPOCH,
        );
        let udp = l.open(Proto::Udp, peer, local, secs(0), SystemTime::UNIX_EPOCH);
        l.datagram_in(udp, 3);
        let tcp = serde_json::to_value(l.get(tcp).unwrap().traffic.counts()).unwrap();
        let udp = serde_json::to_value(l.get(udp).unwrap().traffic.counts()).unwrap();
        let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&tcp), keys(&udp));
        assert!(tcp["received_datagrams"].is_null(), "{tcp}");
        assert_eq!(udp["received_datagrams"], 1);
        assert_eq!(udp["received_bytes"], 3);
    }
}
