//! NETLINK_SOCK_DIAG messages, pure: the dump requests for inet_diag (TCP, UDP, raw) and unix_diag, and a decoder
//! of the kernel's answers that checks every length against the bytes it has (the input is the kernel's, but the
//! decoder is fuzzed like the ICMP one). Layouts from linux/netlink.h, linux/inet_diag.h and linux/unix_diag.h.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `SOCK_DIAG_BY_FAMILY`: the message type of every sock_diag request and answer.
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `TCPDIAG_GETSOCK`: the older inet_diag request, whose dumps (and answers) cover both address families at once.
pub const TCPDIAG_GETSOCK: u16 = 18;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_HDRLEN: usize = 16;

/// `inet_diag_msg` is 72 bytes: family, state, timer, retrans, the 48-byte socket id, then five u32.
const INET_DIAG_MSG_LEN: usize = 72;
/// `unix_diag_msg` is 16 bytes: family, type, state, pad, inode, cookie.
const UNIX_DIAG_MSG_LEN: usize = 16;

/// inet_diag attribute carrying `struct tcp_info`.
const INET_DIAG_INFO: u16 = 2;
/// inet_diag attribute carrying the congestion control name.
const INET_DIAG_CONG: u16 = 4;
/// unix_diag attributes.
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_PEER: u16 = 2;
const UNIX_DIAG_RQLEN: u16 = 4;
const UNIX_DIAG_UID: u16 = 7;

/// Transport protocols asked of inet_diag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InetProto {
    /// IPPROTO_TCP.
    Tcp,
    /// IPPROTO_UDP.
    Udp,
    /// IPPROTO_RAW: raw sockets of every protocol (raw_diag).
    Raw,
}

impl InetProto {
    fn number(self) -> u8 {
        match self {
            InetProto::Tcp => libc::IPPROTO_TCP as u8,
            InetProto::Udp => libc::IPPROTO_UDP as u8,
            InetProto::Raw => libc::IPPROTO_RAW as u8,
        }
    }
}

/// A dump request of every inet socket of one family and protocol, asking for `tcp_info` and, when `congestion`,
/// the congestion algorithm (TCP only).
pub fn inet_request(family: u8, proto: InetProto, seq: u32, congestion: bool) -> Vec<u8> {
    let mut body = [0u8; 56];
    body[0] = family;
    body[1] = proto.number();
    if proto == InetProto::Tcp {
        body[2] = 1 << (INET_DIAG_INFO - 1);
        if congestion {
            body[2] |= 1 << (INET_DIAG_CONG - 1);
        }
    }
    if proto == InetProto::Raw {
        // inet_diag_req_raw's sdiag_raw_protocol: IPPROTO_RAW dumps raw sockets of every protocol.
        body[3] = libc::IPPROTO_RAW as u8;
    }
    body[4..8].copy_from_slice(&u32::MAX.to_ne_bytes());
    message(SOCK_DIAG_BY_FAMILY, &body, seq)
}

/// A dump request of every TCP socket of both families in one walk of the kernel's tables (`inet_diag_req`, the
/// older layout: the kernel's socket table is shared by both families, and a request per family walks it twice).
/// Asks for `tcp_info` and, when `congestion`, the congestion algorithm.
pub fn tcp_request_both(seq: u32, congestion: bool) -> Vec<u8> {
    let mut body = [0u8; 60];
    body[3] = 1 << (INET_DIAG_INFO - 1);
    if congestion {
        body[3] |= 1 << (INET_DIAG_CONG - 1);
    }
    body[52..56].copy_from_slice(&u32::MAX.to_ne_bytes());
    message(TCPDIAG_GETSOCK, &body, seq)
}

/// A dump request of every Unix socket with its name, peer, queue lengths and owner uid.
pub fn unix_request(seq: u32) -> Vec<u8> {
    const SHOW: u32 = 0x1 | 0x4 | 0x10 | 0x40; // NAME | PEER | RQLEN | UID
    let mut body = [0u8; 24];
    body[0] = libc::AF_UNIX as u8;
    body[4..8].copy_from_slice(&u32::MAX.to_ne_bytes());
    body[12..16].copy_from_slice(&SHOW.to_ne_bytes());
    message(SOCK_DIAG_BY_FAMILY, &body, seq)
}

fn message(kind: u16, body: &[u8], seq: u32) -> Vec<u8> {
    let len = (NLMSG_HDRLEN + body.len()) as u32;
    let mut out = Vec::with_capacity(len as usize);
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(body);
    out
}

/// One inet socket as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetSocket {
    /// AF_INET or AF_INET6.
    pub family: u8,
    /// The kernel's TCP state number (UDP and raw sockets use 1 connected, 7 unconnected).
    pub state: u8,
    /// Local address and port (for raw sockets the port is the IP protocol).
    pub local: SocketAddr,
    /// Peer address and port (unspecified when not connected).
    pub peer: SocketAddr,
    /// Interface the socket is bound to (0: none).
    pub interface: u32,
    /// Bytes waiting to be read; for a listener, connections waiting in the accept queue.
    pub recv_q: u32,
    /// Bytes not yet acknowledged; for a listener, the accept backlog.
    pub send_q: u32,
    /// Owner uid.
    pub uid: u32,
    /// Inode of the socket, the key to its owning process.
    pub inode: u32,
    /// Retransmit timer firings for this socket (inet_diag's idiag_retrans).
    pub timer_retrans: u8,
    /// `struct tcp_info` as the kernel sent it, whatever its length.
    pub tcp_info: Option<Vec<u8>>,
    /// Congestion control algorithm.
    pub congestion: Option<String>,
}

/// One Unix socket as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSocket {
    /// SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
    pub kind: u8,
    /// TCP-like state: 10 listening, 1 connected, 7 unconnected, 2 connecting.
    pub state: u8,
    /// Inode of this socket.
    pub inode: u32,
    /// Bound path (an abstract name starts with `@`), if any.
    pub path: Option<String>,
    /// Inode of the peer socket, if connected.
    pub peer_inode: Option<u32>,
    /// Receive queue: bytes, or for a listener connections waiting to be accepted.
    pub recv_q: Option<u32>,
    /// Send queue: bytes, or for a listener the backlog.
    pub send_q: Option<u32>,
    /// Owner uid.
    pub uid: Option<u32>,
}

/// What one netlink datagram held.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Batch<T> {
    /// The sockets it described.
    pub sockets: Vec<T>,
    /// The dump ended (NLMSG_DONE).
    pub done: bool,
    /// The kernel refused the request with this errno (e.g. ENOENT: no raw_diag module).
    pub error: Option<i32>,
}

/// Why a datagram could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A length field points past the end of the data.
    #[error("netlink message truncated at byte {0}")]
    Truncated(usize),
    /// A message of a type a sock_diag dump does not send.
    #[error("unexpected netlink message type {0}")]
    UnexpectedType(u16),
}

/// Decodes one datagram of an inet_diag dump.
pub fn decode_inet(data: &[u8]) -> Result<Batch<InetSocket>, WireError> {
    decode(data, inet_socket)
}

/// Decodes one datagram of a unix_diag dump.
pub fn decode_unix(data: &[u8]) -> Result<Batch<UnixSocket>, WireError> {
    decode(data, unix_socket)
}

fn decode<T>(data: &[u8], one: fn(&[u8], usize) -> Result<T, WireError>) -> Result<Batch<T>, WireError> {
    let mut batch = Batch {
        // Sized for TCP records with tcp_info (some 400 bytes each), the bulk of a large dump; smaller ones grow it.
        sockets: Vec::with_capacity(data.len() / 400),
        done: false,
        error: None,
    };
    let mut at = 0;
    while at + NLMSG_HDRLEN <= data.len() {
        let len = u32_at(data, at) as usize;
        let kind = u16::from_ne_bytes([data[at + 4], data[at + 5]]);
        if len < NLMSG_HDRLEN || at + len > data.len() {
            return Err(WireError::Truncated(at));
        }
        let body = &data[at + NLMSG_HDRLEN..at + len];
        match kind {
            NLMSG_DONE => {
                batch.done = true;
                break;
            }
            NLMSG_ERROR => {
                let errno = body
                    .get(..4)
                    .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                batch.error = Some(errno.wrapping_neg());
                batch.done = true;
                break;
            }
            // The older request's answers carry its type; their records are the same.
            SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK => batch.sockets.push(one(body, at + NLMSG_HDRLEN)?),
            other => return Err(WireError::UnexpectedType(other)),
        }
        at += align4(len);
    }
    Ok(batch)
}

fn inet_socket(body: &[u8], offset: usize) -> Result<InetSocket, WireError> {
    if body.len() < INET_DIAG_MSG_LEN {
        return Err(WireError::Truncated(offset));
    }
    let family = body[0];
    let addr = |at: usize| -> IpAddr {
        if family == libc::AF_INET6 as u8 {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&body[at..at + 16]);
            IpAddr::V6(Ipv6Addr::from(octets))
        } else {
            IpAddr::V4(Ipv4Addr::new(body[at], body[at + 1], body[at + 2], body[at + 3]))
        }
    };
    let port = |at: usize| u16::from_be_bytes([body[at], body[at + 1]]);
    let mut socket = InetSocket {
        family,
        state: body[1],
        local: SocketAddr::new(addr(8), port(4)),
        peer: SocketAddr::new(addr(24), port(6)),
        interface: u32_at(body, 40),
        recv_q: u32_at(body, 56),
        send_q: u32_at(body, 60),
        uid: u32_at(body, 64),
        inode: u32_at(body, 68),
        timer_retrans: body[3],
        tcp_info: None,
        congestion: None,
    };
    for (kind, value) in attributes(&body[INET_DIAG_MSG_LEN..], offset + INET_DIAG_MSG_LEN)? {
        match kind {
            INET_DIAG_INFO => socket.tcp_info = Some(value.to_vec()),
            INET_DIAG_CONG => socket.congestion = Some(c_string(value)),
            _ => {}
        }
    }
    Ok(socket)
}

fn unix_socket(body: &[u8], offset: usize) -> Result<UnixSocket, WireError> {
    if body.len() < UNIX_DIAG_MSG_LEN {
        return Err(WireError::Truncated(offset));
    }
    let mut socket = UnixSocket {
        kind: body[1],
        state: body[2],
        inode: u32_at(body, 4),
        path: None,
        peer_inode: None,
        recv_q: None,
        send_q: None,
        uid: None,
    };
    for (kind, value) in attributes(&body[UNIX_DIAG_MSG_LEN..], offset + UNIX_DIAG_MSG_LEN)? {
        match kind {
            UNIX_DIAG_NAME => socket.path = Some(unix_path(value)),
            UNIX_DIAG_PEER if value.len() >= 4 => socket.peer_inode = Some(u32_at(value, 0)),
            UNIX_DIAG_RQLEN if value.len() >= 8 => {
                socket.recv_q = Some(u32_at(value, 0));
                socket.send_q = Some(u32_at(value, 4));
            }
            UNIX_DIAG_UID if value.len() >= 4 => socket.uid = Some(u32_at(value, 0)),
            _ => {}
        }
    }
    Ok(socket)
}

/// The rtattr list after a message's fixed part: (type, value) pairs, each checked against the data.
fn attributes(mut data: &[u8], mut offset: usize) -> Result<Vec<(u16, &[u8])>, WireError> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let len = u16::from_ne_bytes([data[0], data[1]]) as usize;
        let kind = u16::from_ne_bytes([data[2], data[3]]) & 0x3fff;
        if len < 4 || len > data.len() {
            return Err(WireError::Truncated(offset));
        }
        out.push((kind, &data[4..len]));
        let step = align4(len).min(data.len());
        data = &data[step..];
        offset += step;
    }
    Ok(out)
}

/// A Unix socket name: a path, or an abstract name (leading NUL) shown with `@` as ss does.
fn unix_path(value: &[u8]) -> String {
    match value.split_first() {
        Some((0, rest)) => format!("@{}", String::from_utf8_lossy(rest)),
        _ => c_string(value),
    }
}

fn c_string(value: &[u8]) -> String {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end]).into_owned()
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

fn align4(len: usize) -> usize {
    (len + 3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One netlink message of `kind` around `body`, padded as the kernel pads it.
    fn nlmsg(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(body);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    fn rtattr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    /// An inet_diag_msg for 198.51.100.7:22 <- 203.0.113.9:40000, ESTABLISHED, queues 5/6, uid 1000, inode 4242.
    fn inet_msg() -> Vec<u8> {
        let mut m = vec![0u8; 72];
        m[0] = libc::AF_INET as u8;
        m[1] = 1;
        m[3] = 2;
        m[4..6].copy_from_slice(&22u16.to_be_bytes());
        m[6..8].copy_from_slice(&40000u16.to_be_bytes());
        m[8..12].copy_from_slice(&[198, 51, 100, 7]);
        m[24..28].copy_from_slice(&[203, 0, 113, 9]);
        m[56..60].copy_from_slice(&5u32.to_ne_bytes());
        m[60..64].copy_from_slice(&6u32.to_ne_bytes());
        m[64..68].copy_from_slice(&1000u32.to_ne_bytes());
        m[68..72].copy_from_slice(&4242u32.to_ne_bytes());
        m
    }

    #[test]
    fn requests_have_the_kernel_layout() {
        let lean = inet_request(libc::AF_INET6 as u8, InetProto::Tcp, 7, false);
        assert_eq!(lean[18], 0b0010);
        let r = inet_request(libc::AF_INET6 as u8, InetProto::Tcp, 7, true);
        assert_eq!(r.len(), 16 + 56);
        assert_eq!(u32_at(&r, 0), 72);
        assert_eq!(u16::from_ne_bytes([r[4], r[5]]), 20);
        assert_eq!(u16::from_ne_bytes([r[6], r[7]]), 0x301);
        assert_eq!(u32_at(&r, 8), 7);
        assert_eq!((r[16], r[17], r[18]), (10, 6, 0b1010));
        assert_eq!(u32_at(&r, 20), u32::MAX);
        let raw = inet_request(2, InetProto::Raw, 1, true);
        assert_eq!((raw[17], raw[19]), (255, 255));
        let both = tcp_request_both(9, false);
        assert_eq!(both.len(), 16 + 60);
        assert_eq!(u16::from_ne_bytes([both[4], both[5]]), 18);
        assert_eq!((both[16], both[19], u32_at(&both, 68)), (0, 0b0010, u32::MAX));
        let u = unix_request(3);
        assert_eq!(u.len(), 16 + 24);
        assert_eq!((u[16], u32_at(&u, 28)), (1, 0x55));
    }

    #[test]
    fn inet_message_with_info_and_congestion() {
        let mut body = inet_msg();
        body.extend(rtattr(INET_DIAG_INFO, &[1u8; 10]));
        body.extend(rtattr(INET_DIAG_CONG, b"cubic\0"));
        body.extend(rtattr(99, b"ignored"));
        let mut data = nlmsg(SOCK_DIAG_BY_FAMILY, &body);
        data.extend(nlmsg(NLMSG_DONE, &[0; 4]));
        let batch = decode_inet(&data).unwrap();
        assert!(batch.done);
        let s = &batch.sockets[0];
        assert_eq!(s.local, "198.51.100.7:22".parse().unwrap());
        assert_eq!(s.peer, "203.0.113.9:40000".parse().unwrap());
        assert_eq!(
            (s.state, s.recv_q, s.send_q, s.uid, s.inode, s.timer_retrans),
            (1, 5, 6, 1000, 4242, 2)
        );
        assert_eq!(s.tcp_info.as_deref(), Some(&[1u8; 10][..]));
        assert_eq!(s.congestion.as_deref(), Some("cubic"));
    }

    #[test]
    fn answers_to_the_older_request_are_the_same_records() {
        let batch = decode_inet(&nlmsg(TCPDIAG_GETSOCK, &inet_msg())).unwrap();
        assert_eq!(batch.sockets[0].local, "198.51.100.7:22".parse().unwrap());
    }

    #[test]
    fn ipv6_addresses_are_sixteen_bytes() {
        let mut body = inet_msg();
        body[0] = libc::AF_INET6 as u8;
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        body[8..24].copy_from_slice(&v6.octets());
        let batch = decode_inet(&nlmsg(SOCK_DIAG_BY_FAMILY, &body)).unwrap();
        assert_eq!(batch.sockets[0].local, "[2001:db8::1]:22".parse().unwrap());
        assert!(!batch.done);
    }

    #[test]
    fn unix_message_with_abstract_name_peer_queues_and_uid() {
        let mut body = vec![0u8; 16];
        body[0] = 1;
        body[1] = libc::SOCK_STREAM as u8;
        body[2] = 10;
        body[4..8].copy_from_slice(&77u32.to_ne_bytes());
        body.extend(rtattr(UNIX_DIAG_NAME, b"\0lab"));
        body.extend(rtattr(UNIX_DIAG_PEER, &88u32.to_ne_bytes()));
        let rq: Vec<u8> = [3u32, 128].iter().flat_map(|v| v.to_ne_bytes()).collect();
        body.extend(rtattr(UNIX_DIAG_RQLEN, &rq));
        body.extend(rtattr(UNIX_DIAG_UID, &65534u32.to_ne_bytes()));
        let s = &decode_unix(&nlmsg(SOCK_DIAG_BY_FAMILY, &body)).unwrap().sockets[0];
        assert_eq!(s.path.as_deref(), Some("@lab"));
        assert_eq!((s.kind, s.state, s.inode, s.peer_inode), (1, 10, 77, Some(88)));
        assert_eq!((s.recv_q, s.send_q, s.uid), (Some(3), Some(128), Some(65534)));
    }

    #[test]
    fn kernel_errors_end_the_dump_with_the_errno() {
        let data = nlmsg(NLMSG_ERROR, &(-libc::ENOENT).to_ne_bytes());
        let batch = decode_inet(&data).unwrap();
        assert_eq!((batch.done, batch.error), (true, Some(libc::ENOENT)));
        // Found by the fuzzer: the most negative errno must not overflow.
        let data = nlmsg(NLMSG_ERROR, &i32::MIN.to_ne_bytes());
        assert_eq!(decode_inet(&data).unwrap().error, Some(i32::MIN));
    }

    #[test]
    fn lengths_past_the_data_are_errors_not_panics() {
        let mut data = nlmsg(SOCK_DIAG_BY_FAMILY, &inet_msg());
        data[0] = 200;
        assert!(matches!(decode_inet(&data), Err(WireError::Truncated(0))));
        let short = nlmsg(SOCK_DIAG_BY_FAMILY, &[0u8; 40]);
        assert!(decode_inet(&short).is_err());
        let mut bad_attr = inet_msg();
        bad_attr.extend_from_slice(&[200, 0, 2, 0]);
        assert!(decode_inet(&nlmsg(SOCK_DIAG_BY_FAMILY, &bad_attr)).is_err());
        assert!(decode_unix(&nlmsg(77, &[0u8; 16])).is_err());
        for cut in 0..data.len() {
            let _ = decode_inet(&data[..cut]);
            let _ = decode_unix(&data[..cut]);
        }
    }
}
