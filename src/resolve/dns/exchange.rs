//! Direct DNS exchanges: one question to the chosen servers over UDP or TCP, with attempts, the fallback to
//! TCP after a truncated UDP answer, and a record of every try so the report can say what really happened.
//!
//! Messages are built and parsed with hickory-proto (re-exported by hickory-resolver). The sockets are ours:
//! hickory's resolver hides which transport answered and how many sends were made, and its UDP client uses
//! unconnected sockets, which never see the ICMP port-unreachable that tells "no server" from "silent server".

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::proto::op::{Edns, Message, Query};
use schemars::JsonSchema;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use super::accept::{IgnoredReplies, Verdict, judge, judge_bytes};

/// How a query travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// One datagram each way.
    Udp,
    /// A connection carrying a length-prefixed message.
    Tcp,
    /// DNS over TLS (RFC 7858): length-prefixed messages on a TLS connection.
    Tls,
    /// DNS over HTTPS (RFC 8484): one HTTP/2 request per message.
    Https,
}

impl Transport {
    /// "udp" or "tcp".
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Https => "https",
        }
    }
}

/// Where and how to ask.
#[derive(Debug, Clone)]
pub struct QueryPolicy {
    /// Servers in the order they are tried in each round.
    pub servers: Vec<SocketAddr>,
    /// Ask over TCP only.
    pub tcp_only: bool,
    /// How long each try waits.
    pub timeout: Duration,
    /// Rounds over the servers.
    pub attempts: u8,
    /// `--dnssec`: EDNS with the DO bit, so signatures come with the records.
    pub dnssec: bool,
    /// `--trace`: ask without recursion (RD clear), as a resolver asks authoritative servers.
    pub iterative: bool,
}

/// What one send to one server came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryOutcome {
    /// A response to this query arrived.
    Answered,
    /// A UDP response arrived with the TC bit set: too large for a datagram.
    Truncated,
    /// Nothing arrived in time.
    TimedOut,
    /// The server could not be reached (refused, unreachable).
    NoConnection(String),
    /// Something arrived that is not a usable answer.
    BadResponse(String),
}

/// One send to one server.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(into = "TryReport")]
#[schemars(with = "TryReport")]
pub struct Try {
    /// The server asked.
    pub server: SocketAddr,
    /// Over UDP or TCP.
    pub transport: Transport,
    /// What came of it.
    pub outcome: TryOutcome,
    /// From the first byte sent (or connect, over TCP) to the outcome.
    pub elapsed: Duration,
    /// Datagrams that arrived while waiting but were not the answer.
    pub ignored: IgnoredReplies,
}

/// One send as the JSON shows it: the outcome's name, and its detail where it has one.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TryReport {
    /// The server asked.
    pub server: SocketAddr,
    /// Over UDP or TCP.
    pub transport: Transport,
    /// What came of it.
    pub outcome: TryOutcomeName,
    /// Why there was no connection or no usable answer; null for the other outcomes.
    pub detail: Option<String>,
    /// From the first byte sent (or connect, over TCP) to the outcome.
    pub elapsed_ms: f64,
    /// Datagrams that arrived while waiting but were not the answer, by reason.
    pub ignored_replies: IgnoredReplies,
}

/// The name of a [`TryOutcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TryOutcomeName {
    /// A response to this query arrived.
    Answered,
    /// A UDP response arrived with the TC bit set: too large for a datagram.
    Truncated,
    /// Nothing arrived in time.
    TimedOut,
    /// The server could not be reached (refused, unreachable).
    NoConnection,
    /// Something arrived that is not a usable answer.
    BadResponse,
}

impl From<Try> for TryReport {
    fn from(t: Try) -> Self {
        let (outcome, detail) = match t.outcome {
            TryOutcome::Answered => (TryOutcomeName::Answered, None),
            TryOutcome::Truncated => (TryOutcomeName::Truncated, None),
            TryOutcome::TimedOut => (TryOutcomeName::TimedOut, None),
            TryOutcome::NoConnection(why) => (TryOutcomeName::NoConnection, Some(why)),
            TryOutcome::BadResponse(why) => (TryOutcomeName::BadResponse, Some(why)),
        };
        TryReport {
            server: t.server,
            transport: t.transport,
            outcome,
            detail,
            elapsed_ms: crate::render::ms_f64(t.elapsed),
            ignored_replies: t.ignored,
        }
    }
}

/// The answer that ended an exchange.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The response message.
    pub message: Message,
    /// The server that sent it.
    pub server: SocketAddr,
    /// The transport that carried it.
    pub transport: Transport,
    /// From sending the query to receiving this answer (dig's "Query time").
    pub query_time: Duration,
    /// The size of the response in bytes.
    pub size: usize,
}

/// Everything that happened while asking one question.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Every try in order.
    pub tries: Vec<Try>,
    /// The answer, when one came.
    pub answer: Option<Answered>,
}

impl Exchange {
    /// Whether a truncated UDP answer sent this query to TCP.
    pub fn truncated_udp(&self) -> bool {
        self.tries.iter().any(|t| t.outcome == TryOutcome::Truncated)
    }
}

/// glibc asks at most three nameservers (MAXNS); the system's servers are cut to that many.
pub const MAX_SYSTEM_SERVERS: usize = 3;

/// Asks one question as the policy says: each round tries every server, UDP first unless TCP-only; a truncated
/// UDP answer is asked again over TCP at the same server; the first answer of any response code ends it.
pub async fn ask(policy: &QueryPolicy, query: &Query) -> Exchange {
    let mut tries = Vec::new();
    let mut unreachable: Vec<SocketAddr> = Vec::new();
    let first = if policy.tcp_only {
        Transport::Tcp
    } else {
        Transport::Udp
    };
    for _round in 0..policy.attempts.max(1) {
        for &server in &policy.servers {
            if unreachable.contains(&server) {
                continue;
            }
            let (sent, answer) = try_once(server, first, query, policy).await;
            let outcome = sent.outcome.clone();
            tries.push(sent);
            match outcome {
                TryOutcome::Truncated => {
                    // The full answer is only available over TCP; whatever TCP says ends the exchange.
                    let (sent, answer) = try_once(server, Transport::Tcp, query, policy).await;
                    tries.push(sent);
                    return Exchange { tries, answer };
                }
                TryOutcome::Answered => return Exchange { tries, answer },
                // A refused or unreachable server stays so for this query; sending again only adds noise.
                TryOutcome::NoConnection(_) => unreachable.push(server),
                TryOutcome::TimedOut | TryOutcome::BadResponse(_) => {}
            }
        }
    }
    Exchange { tries, answer: None }
}

/// Sends the query once and waits for its answer until the timeout. A UDP answer with the TC bit set is
/// recorded as truncated (the caller asks again over TCP).
async fn try_once(
    server: SocketAddr,
    transport: Transport,
    query: &Query,
    policy: &QueryPolicy,
) -> (Try, Option<Answered>) {
    let timeout = policy.timeout;
    let mut ignored = IgnoredReplies::default();
    let sent = |outcome, elapsed, ignored| Try {
        server,
        transport,
        outcome,
        elapsed,
        ignored,
    };
    let mut message = Message::query();
    message.metadata.recursion_desired = !policy.iterative;
    message.add_query(query.clone());
    if policy.dnssec {
        // DO asks for the RRSIGs; 1232 bytes is the payload DNS Flag Day 2020 settled on.
        let mut edns = Edns::new();
        edns.set_max_payload(1232).set_dnssec_ok(true);
        message.set_edns(edns);
    }
    let id = message.metadata.id;
    let bytes = match message.to_vec() {
        Ok(b) => b,
        Err(e) => {
            let why = format!("cannot encode the query: {e}");
            return (sent(TryOutcome::BadResponse(why), Duration::ZERO, ignored), None);
        }
    };
    let deadline = Instant::now() + timeout;
    let result = match transport {
        Transport::Udp => udp(server, &bytes, id, query, deadline, &mut ignored).await,
        // The encrypted transports have their own connection (encrypted/); a plain policy asks over TCP.
        Transport::Tcp | Transport::Tls | Transport::Https => tcp(server, &bytes, id, query, deadline).await,
    };
    match result {
        Ok((message, size, query_time)) => {
            let outcome = if transport == Transport::Udp && message.metadata.truncation {
                TryOutcome::Truncated
            } else {
                TryOutcome::Answered
            };
            let answer = Answered {
                message,
                server,
                transport,
                query_time,
                size,
            };
            (sent(outcome, query_time, ignored), Some(answer))
        }
        Err((outcome, elapsed)) => (sent(outcome, elapsed, ignored), None),
    }
}

type Wire = Result<(Message, usize, Duration), (TryOutcome, Duration)>;

async fn udp(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    query: &Query,
    deadline: Instant,
    ignored: &mut IgnoredReplies,
) -> Wire {
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let mut start = Instant::now();
    let fail = |e: io::Error, start: Instant| (no_connection(&e), start.elapsed());
    let socket = UdpSocket::bind(bind).await.map_err(|e| fail(e, start))?;
    // Not connected, so a reply from another address or port reaches us and is counted rather than dropped
    // unseen by the kernel; IP_RECVERR still turns the server's ICMP port-unreachable into "refused".
    crate::sys::errqueue::enable(&socket, server.is_ipv6()).map_err(|e| fail(e, start))?;
    start = Instant::now();
    socket.send_to(bytes, server).await.map_err(|e| fail(e, start))?;
    let mut buf = vec![0u8; 65_535];
    loop {
        match timeout_at(deadline, socket.recv_from(&mut buf)).await {
            Err(_) => return Err((TryOutcome::TimedOut, start.elapsed())),
            Ok(Err(e)) => return Err(fail(e, start)),
            Ok(Ok((n, from))) => match judge(&buf[..n], from, server, id, query) {
                Verdict::Ours(message) => return Ok((message, n, start.elapsed())),
                // Not an answer to this query (a late or forged datagram): keep waiting until the deadline.
                Verdict::Foreign(why) => ignored.count(why),
                Verdict::Malformed(why) => return Err((TryOutcome::BadResponse(why), start.elapsed())),
            },
        }
    }
}

async fn tcp(server: SocketAddr, bytes: &[u8], id: u16, query: &Query, deadline: Instant) -> Wire {
    let start = Instant::now();
    let timed_out = |_| (TryOutcome::TimedOut, start.elapsed());
    let mut stream = timeout_at(deadline, TcpStream::connect(server))
        .await
        .map_err(timed_out)?
        .map_err(|e| (no_connection(&e), start.elapsed()))?;
    let sent = Instant::now();
    let exchange = async {
        let len = u16::try_from(bytes.len()).map_err(io::Error::other)?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(bytes);
        stream.write_all(&framed).await?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).await?;
        Ok::<_, io::Error>(buf)
    };
    let buf = match timeout_at(deadline, exchange).await.map_err(timed_out)? {
        Ok(buf) => buf,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Err((
                TryOutcome::BadResponse(
                    "the server closed the TCP connection without a complete answer".into(),
                ),
                start.elapsed(),
            ));
        }
        Err(e) => return Err((no_connection(&e), start.elapsed())),
    };
    match judge_bytes(&buf, id, query) {
        Verdict::Ours(message) => Ok((message, buf.len(), sent.elapsed())),
        Verdict::Foreign(_) => Err((
            TryOutcome::BadResponse("the TCP answer does not match the query (ID or question)".into()),
            start.elapsed(),
        )),
        Verdict::Malformed(why) => Err((TryOutcome::BadResponse(why), start.elapsed())),
    }
}

/// An I/O failure reaching a server, in plain words without the OS error number.
fn no_connection(e: &io::Error) -> TryOutcome {
    let text = match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::HostUnreachable => "host unreachable".to_string(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".to_string(),
        _ => crate::error::plain_io(e),
    };
    TryOutcome::NoConnection(text)
}
