//! One row per socket, whatever its kind: the kernel's records turned into named states, printable endpoints and
//! their owners, ready to filter, diagnose and render.

use std::net::SocketAddr;

use serde::Serialize;

use crate::inventory::owners::{Owner, Owners};
use crate::inventory::tcp_info::{self, TcpInfo};
use crate::inventory::wire::{InetSocket, UnixSocket};

/// Which kind of socket a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// Raw IP (ping, traceroute, DHCP clients).
    Raw,
    /// Unix domain.
    Unix,
}

impl Proto {
    /// The name users type and read.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Raw => "raw",
            Proto::Unix => "unix",
        }
    }
}

/// One socket of this host (or, for TIME-WAIT, a group of them).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SocketRow {
    /// tcp, udp, raw or unix.
    pub proto: Proto,
    /// For Unix sockets: stream, dgram or seqpacket.
    pub kind: Option<&'static str>,
    /// The state as ss names it: LISTEN, ESTAB, SYN-SENT, TIME-WAIT, UNCONN...
    pub state: &'static str,
    /// Local end: address:port, a Unix path (`@name` for abstract ones) or `*`.
    pub local: String,
    /// Peer end: address:port, the peer's inode for Unix sockets, or `*`.
    pub peer: String,
    /// Local address and port (inet sockets).
    #[serde(skip)]
    pub local_addr: Option<SocketAddr>,
    /// Peer address and port (inet sockets).
    #[serde(skip)]
    pub peer_addr: Option<SocketAddr>,
    /// Bytes waiting to be read; for a listener, connections waiting to be accepted.
    pub recv_q: u32,
    /// Bytes sent and not acknowledged; for a listener, its backlog.
    pub send_q: u32,
    /// The socket's owner uid, as the kernel reports it.
    pub uid: Option<u32>,
    /// Inode (0 for sockets no process holds, such as TIME-WAIT).
    pub inode: u64,
    /// The processes holding it (empty: none, or not visible to this user).
    pub owners: Vec<Owner>,
    /// The kernel's view of a TCP connection.
    pub tcp: Option<TcpInfo>,
    /// TCP congestion control algorithm.
    pub congestion: Option<String>,
    /// How many sockets this row stands for (TIME-WAIT sockets of one endpoint pair are counted in one row).
    pub count: u32,
    /// Diagnoses: what this socket's state means for a connection that does not work.
    pub notes: Vec<String>,
}

/// The state name of a TCP state number, as ss prints it; UDP and raw sockets use ESTAB and UNCONN.
pub fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTAB",
        2 => "SYN-SENT",
        3 => "SYN-RECV",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "UNCONN",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW-SYN-RECV",
        _ => "UNKNOWN",
    }
}

/// Every state name, in the order of their text: rows sort by protocol name, then state name.
const STATES_IN_ORDER: [&str; 13] = [
    "CLOSE-WAIT",
    "CLOSING",
    "ESTAB",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "LAST-ACK",
    "LISTEN",
    "NEW-SYN-RECV",
    "SYN-RECV",
    "SYN-SENT",
    "TIME-WAIT",
    "UNCONN",
    "UNKNOWN",
];

/// Where a row of this protocol and state sorts (protocol names, then state names, in the order of their text),
/// as one small number so that a sort key of a hundred thousand rows stays small.
pub fn rank(proto: Proto, state: &str) -> u8 {
    let proto = match proto {
        Proto::Raw => 0,
        Proto::Tcp => 1,
        Proto::Udp => 2,
        Proto::Unix => 3,
    };
    let state = STATES_IN_ORDER
        .iter()
        .position(|s| *s == state)
        .unwrap_or(STATES_IN_ORDER.len());
    proto * 16 + state as u8
}

/// A row from an inet_diag record.
pub fn inet_row(proto: Proto, s: InetSocket, owners: &Owners) -> SocketRow {
    let connected = !s.peer.ip().is_unspecified() || s.peer.port() != 0;
    SocketRow {
        proto,
        kind: None,
        state: state_name(s.state),
        local: endpoint(s.local),
        peer: if connected { endpoint(s.peer) } else { "*".into() },
        local_addr: Some(s.local),
        peer_addr: connected.then_some(s.peer),
        recv_q: s.recv_q,
        send_q: s.send_q,
        uid: Some(s.uid),
        inode: u64::from(s.inode),
        owners: owners.of(u64::from(s.inode)),
        tcp: s.tcp_info.as_deref().map(tcp_info::parse),
        congestion: s.congestion,
        count: 1,
        notes: Vec::new(),
    }
}

/// A row from a unix_diag record.
pub fn unix_row(s: UnixSocket, owners: &Owners) -> SocketRow {
    let kind = match i32::from(s.kind) {
        libc::SOCK_STREAM => "stream",
        libc::SOCK_DGRAM => "dgram",
        libc::SOCK_SEQPACKET => "seqpacket",
        _ => "other",
    };
    SocketRow {
        proto: Proto::Unix,
        kind: Some(kind),
        state: state_name(s.state),
        local: s.path.filter(|p| !p.is_empty()).unwrap_or_else(|| "*".into()),
        peer: s.peer_inode.map_or_else(|| "*".into(), |i| format!("inode {i}")),
        local_addr: None,
        peer_addr: None,
        recv_q: s.recv_q.unwrap_or(0),
        send_q: s.send_q.unwrap_or(0),
        uid: s.uid,
        inode: u64::from(s.inode),
        owners: owners.of(u64::from(s.inode)),
        tcp: None,
        congestion: None,
        count: 1,
        notes: Vec::new(),
    }
}

/// Whether a socket with this inode and no visible owner belongs to a process this user may not look into.
pub fn hidden_owner(inode: u64, no_owner: bool, owners: &Owners) -> bool {
    owners.hidden_processes > 0 && inode != 0 && no_owner
}

/// `198.51.100.7:22`, `[2001:db8::1]:22`, and `*:22` for the wildcard address, as ss writes them.
pub fn endpoint(addr: SocketAddr) -> String {
    match addr {
        // Written by hand: the formatting machinery showed in the profile of listing 20,000 sockets.
        SocketAddr::V4(a) => {
            let mut out = String::with_capacity(21);
            for (i, octet) in a.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(&mut out, u32::from(octet));
            }
            out.push(':');
            push_decimal(&mut out, u32::from(a.port()));
            out
        }
        SocketAddr::V6(a) if a.ip().is_unspecified() => format!("[::]:{}", a.port()),
        SocketAddr::V6(_) => addr.to_string(),
    }
}

/// Appends `n` in decimal.
pub(super) fn push_decimal(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_read_as_ss_writes_them() {
        assert_eq!(endpoint("198.51.100.7:22".parse().unwrap()), "198.51.100.7:22");
        assert_eq!(endpoint("[2001:db8::1]:22".parse().unwrap()), "[2001:db8::1]:22");
        assert_eq!(endpoint("0.0.0.0:80".parse().unwrap()), "0.0.0.0:80");
        assert_eq!(endpoint("[::]:80".parse().unwrap()), "[::]:80");
        assert_eq!(endpoint("0.0.0.0:0".parse().unwrap()), "0.0.0.0:0");
        assert_eq!(
            endpoint("255.255.255.255:65535".parse().unwrap()),
            "255.255.255.255:65535"
        );
        assert_eq!(endpoint("10.0.200.9:7000".parse().unwrap()), "10.0.200.9:7000");
    }

    #[test]
    fn ranks_follow_the_names_of_protocols_and_states() {
        let mut sorted = STATES_IN_ORDER;
        sorted.sort_unstable();
        assert_eq!(sorted, STATES_IN_ORDER);
        assert!((0..=255).all(|n| STATES_IN_ORDER.contains(&state_name(n))));
        assert!(rank(Proto::Tcp, "ESTAB") < rank(Proto::Tcp, "LISTEN"));
        assert!(rank(Proto::Tcp, "UNKNOWN") < rank(Proto::Udp, "CLOSE-WAIT"));
        assert!(rank(Proto::Raw, "UNCONN") < rank(Proto::Tcp, "CLOSE-WAIT"));
        assert!(rank(Proto::Udp, "UNCONN") < rank(Proto::Unix, "ESTAB"));
    }

    #[test]
    fn states_are_named() {
        assert_eq!(state_name(10), "LISTEN");
        assert_eq!(state_name(2), "SYN-SENT");
        assert_eq!(state_name(7), "UNCONN");
        assert_eq!(state_name(200), "UNKNOWN");
    }
}
