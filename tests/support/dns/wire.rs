//! Just enough DNS wire format for readiness checks and the stub servers (not a resolver).

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// Record type A.
pub const TYPE_A: u16 = 1;
/// Record type SOA.
pub const TYPE_SOA: u16 = 6;
/// Response code REFUSED.
pub const RCODE_REFUSED: u8 = 5;

/// The fixed 12-byte header of a DNS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Message id.
    pub id: u16,
    /// QR bit: this is a response.
    pub response: bool,
    /// TC bit: truncated.
    pub truncated: bool,
    /// Response code (low 4 bits).
    pub rcode: u8,
    /// Number of answer records.
    pub answers: u16,
}

/// Encodes a standard query (RD set) for `name` and `qtype`.
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m
}

/// Parses the header of a message, if it is long enough.
pub fn header(msg: &[u8]) -> Option<Header> {
    if msg.len() < 12 {
        return None;
    }
    Some(Header {
        id: u16::from_be_bytes([msg[0], msg[1]]),
        response: msg[2] & 0x80 != 0,
        truncated: msg[2] & 0x02 != 0,
        rcode: msg[3] & 0x0f,
        answers: u16::from_be_bytes([msg[6], msg[7]]),
    })
}

/// End offset of the first question, if the query has exactly one well-formed question.
fn question_end(msg: &[u8]) -> Option<usize> {
    if msg.len() < 12 || msg[4..6] != [0, 1] {
        return None;
    }
    let mut i = 12;
    loop {
        let len = *msg.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        i += len;
    }
    (i + 4 <= msg.len()).then_some(i + 4)
}

/// A reply to `query` carrying its id and question and the response code `rcode`.
pub fn reply_with_rcode(query: &[u8], rcode: u8) -> Option<Vec<u8>> {
    let end = question_end(query)?;
    let mut r = query[..end].to_vec();
    r[2] = 0x80 | (query[2] & 0x79); // QR, keep opcode and RD
    r[3] = rcode & 0x0f;
    r[6..12].fill(0);
    Some(r)
}

/// Sends one UDP query and waits up to `timeout` for the reply with the same id.
pub fn ask_udp(server: SocketAddr, name: &str, qtype: u16, timeout: Duration) -> Option<Vec<u8>> {
    let bind: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }
        .parse()
        .ok()?;
    let sock = UdpSocket::bind(bind).ok()?;
    sock.set_read_timeout(Some(timeout)).ok()?;
    let id = (std::process::id() as u16) ^ 0x5d5d;
    sock.send_to(&query(id, name, qtype), server).ok()?;
    let mut buf = [0u8; 4096];
    // Bounded: at most a few stray datagrams are skipped before giving up.
    for _ in 0..4 {
        let (n, from) = sock.recv_from(&mut buf).ok()?;
        if from == server && header(&buf[..n]).is_some_and(|h| h.id == id && h.response) {
            return Some(buf[..n].to_vec());
        }
    }
    None
}
