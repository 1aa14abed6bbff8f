//! Packet info (IP_PKTINFO / IPV6_PKTINFO): where a UDP datagram arrived, so a listener bound to a wildcard
//! address logs it and answers from that same address.

use std::io::{self, IoSlice};
use std::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;

use socket2::{MsgHdr, SockAddr, SockRef};

use super::cmsg::{self, Cmsg};
use super::{msg, sockopt};

/// Room for one encoded packet-info message.
const CONTROL_ROOM: usize = cmsg::space(size_of::<libc::in6_pktinfo>());

/// Where a datagram arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// The destination address in the datagram's header.
    pub dst: IpAddr,
    /// The local address to answer from (for a broadcast, the interface's own address).
    pub reply_from: IpAddr,
    /// The interface it came in on.
    pub ifindex: u32,
}

/// A received datagram's length, sender and arrival.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// The sender as the kernel gave it (IPv4-mapped on a dual-stack socket).
    pub peer: SocketAddr,
    /// Where it arrived, when the kernel said.
    pub arrival: Option<Arrival>,
}

/// Asks the kernel for arrival information on a UDP socket (IPv4 packet info also on a dual-stack IPv6 socket).
pub fn enable(fd: impl AsFd, ipv6: bool) -> io::Result<()> {
    let fd = fd.as_fd();
    sockopt::set_int(fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
    if ipv6 {
        sockopt::set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
    }
    Ok(())
}

/// Receives one datagram without blocking (WouldBlock when none is queued).
pub fn recv(fd: impl AsFd, buf: &mut [u8]) -> io::Result<Received> {
    let got = msg::recv(fd, buf, false)?;
    let peer = got
        .peer
        .ok_or_else(|| io::Error::other("datagram from a non-IP address"))?;
    Ok(Received {
        len: got.len,
        peer,
        arrival: got.cmsgs().find_map(parse),
    })
}

/// Sends one datagram without blocking, from the address it answers when given (WouldBlock when the socket's
/// buffer is full: the caller drops the answer rather than queue it).
pub fn send(fd: impl AsFd, data: &[u8], peer: SocketAddr, from: Option<&Arrival>) -> io::Result<usize> {
    let addr = SockAddr::from(peer);
    let bufs = [IoSlice::new(data)];
    let mut control = [0u8; CONTROL_ROOM];
    let mut msg = MsgHdr::new().with_addr(&addr).with_buffers(&bufs);
    if let Some(a) = from {
        let used = encode_source(a, &mut control);
        msg = msg.with_control(&control[..used]);
    }
    SockRef::from(&fd).sendmsg(&msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
}

/// Reads an IP_PKTINFO or IPV6_PKTINFO message; None for any other, or one too short for its structure.
pub fn parse(c: Cmsg<'_>) -> Option<Arrival> {
    let d = c.data;
    if c.level == libc::IPPROTO_IP && c.kind == libc::IP_PKTINFO && d.len() >= size_of::<libc::in_pktinfo>() {
        let v4 = |at: usize| IpAddr::V4(Ipv4Addr::new(d[at], d[at + 1], d[at + 2], d[at + 3]));
        let ifindex = ne32(d, offset_of!(libc::in_pktinfo, ipi_ifindex));
        return Some(Arrival {
            dst: v4(offset_of!(libc::in_pktinfo, ipi_addr)),
            reply_from: v4(offset_of!(libc::in_pktinfo, ipi_spec_dst)),
            ifindex,
        });
    }
    if c.level == libc::IPPROTO_IPV6
        && c.kind == libc::IPV6_PKTINFO
        && d.len() >= size_of::<libc::in6_pktinfo>()
    {
        let at = offset_of!(libc::in6_pktinfo, ipi6_addr);
        let octets: [u8; 16] = d[at..at + 16].try_into().ok()?;
        let addr = IpAddr::V6(Ipv6Addr::from(octets));
        return Some(Arrival {
            dst: addr,
            reply_from: addr,
            ifindex: ne32(d, offset_of!(libc::in6_pktinfo, ipi6_ifindex)),
        });
    }
    None
}

/// Encodes the source-address message for an answer into `out`; returns the bytes used.
fn encode_source(a: &Arrival, out: &mut [u8; CONTROL_ROOM]) -> usize {
    let used = match a.reply_from {
        IpAddr::V4(v4) => {
            let mut info = [0u8; size_of::<libc::in_pktinfo>()];
            let at = offset_of!(libc::in_pktinfo, ipi_spec_dst);
            info[at..at + 4].copy_from_slice(&v4.octets());
            cmsg::encode(libc::IPPROTO_IP, libc::IP_PKTINFO, &info, out)
        }
        IpAddr::V6(v6) => {
            let mut info = [0u8; size_of::<libc::in6_pktinfo>()];
            let at = offset_of!(libc::in6_pktinfo, ipi6_addr);
            info[at..at + 16].copy_from_slice(&v6.octets());
            // The interface matters for link-local peers; for others the kernel routes as usual.
            let ifindex = if is_link_local(&v6) { a.ifindex } else { 0 };
            let at = offset_of!(libc::in6_pktinfo, ipi6_ifindex);
            info[at..at + 4].copy_from_slice(&ifindex.to_ne_bytes());
            cmsg::encode(libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, &info, out)
        }
    };
    used.expect("the control buffer has room for either packet info")
}

fn ne32(d: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Duration;

    #[test]
    fn an_encoded_source_parses_back() {
        let mut out = [0u8; CONTROL_ROOM];
        let v4 = Arrival {
            dst: "0.0.0.0".parse().unwrap(),
            reply_from: "198.51.100.4".parse().unwrap(),
            ifindex: 0,
        };
        let used = encode_source(&v4, &mut out);
        let back = cmsg::iter(&out[..used]).find_map(parse).unwrap();
        assert_eq!(back, v4);
        let link = Arrival {
            dst: "fe80::5".parse().unwrap(),
            reply_from: "fe80::5".parse().unwrap(),
            ifindex: 9,
        };
        let used = encode_source(&link, &mut out);
        assert_eq!(cmsg::iter(&out[..used]).find_map(parse), Some(link));
        let global = Arrival {
            ifindex: 9,
            ..Arrival {
                dst: "2001:db8::5".parse().unwrap(),
                reply_from: "2001:db8::5".parse().unwrap(),
                ifindex: 0,
            }
        };
        let used = encode_source(&global, &mut out);
        assert_eq!(cmsg::iter(&out[..used]).find_map(parse).unwrap().ifindex, 0);
    }

    #[test]
    fn short_or_foreign_messages_are_not_packet_info() {
        let data = [0u8; 20];
        let short = Cmsg {
            level: libc::IPPROTO_IP,
            kind: libc::IP_PKTINFO,
            data: &data[..11],
        };
        assert_eq!(parse(short), None);
        let short6 = Cmsg {
            level: libc::IPPROTO_IPV6,
            kind: libc::IPV6_PKTINFO,
            data: &data[..19],
        };
        assert_eq!(parse(short6), None);
        let other = Cmsg {
            level: libc::SOL_SOCKET,
            kind: libc::IP_PKTINFO,
            data: &data,
        };
        assert_eq!(parse(other), None);
    }

    #[test]
    fn loopback_datagram_arrives_with_its_address_and_is_answered_from_it() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        enable(&server, false).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        server.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        client.send_to(b"ping", server.local_addr().unwrap()).unwrap();
        server.peek(&mut [0u8; 1]).unwrap();
        let mut buf = [0u8; 16];
        let got = recv(&server, &mut buf).unwrap();
        assert_eq!((got.len, got.peer), (4, client.local_addr().unwrap()));
        let arrival = got.arrival.unwrap();
        assert_eq!(arrival.dst, IpAddr::from([127, 0, 0, 1]));
        assert_ne!(arrival.ifindex, 0);
        assert_eq!(send(&server, b"pong", got.peer, Some(&arrival)).unwrap(), 4);
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], server.local_addr().unwrap()));
    }
}
