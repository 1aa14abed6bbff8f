//! The socket error queue (IP_RECVERR / IPV6_RECVERR): which ICMP error came back for a socket's packets,
//! from whom. One reader of the kernel's `sock_extended_err`, for probe and trace alike.

use std::io;
use std::net::IpAddr;
use std::os::fd::AsFd;

use super::cmsg::Cmsg;
use super::{msg, sockaddr, sockopt};

/// Not in the libc crate: options for RFC 4884 offsets in error-queue messages (Linux 5.9+).
const IP_RECVERR_RFC4884: libc::c_int = 26;
const IPV6_RECVERR_RFC4884: libc::c_int = 31;
/// `sock_extended_err`: errno u32, origin u8, type u8, code u8, pad u8, info u32, data u32.
const EE_SIZE: usize = 16;
/// `SO_EE_RFC4884_FLAG_INVALID`: the kernel found the extension structure malformed.
const RFC4884_INVALID: u8 = 1;

/// Where a queued socket error came from (`sock_extended_err.ee_origin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrOrigin {
    /// Raised by this host's own stack.
    Local,
    /// An ICMPv4 message.
    Icmp,
    /// An ICMPv6 message.
    Icmp6,
    /// Anything else (timestamps, zerocopy), not an error about a packet.
    Other(u8),
}

/// An error the kernel queued on the socket with IP_RECVERR/IPV6_RECVERR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedError {
    /// The errno the kernel derived from it.
    pub errno: i32,
    /// Where it came from.
    pub origin: ErrOrigin,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// Length of the original datagram the ICMP message quotes before its RFC 4884 extensions (0: none
    /// announced, or not asked for with [`enable_rfc4884`]).
    pub rfc4884_len: u16,
    /// The address that sent the ICMP message (SO_EE_OFFENDER), when known.
    pub offender: Option<IpAddr>,
}

/// Asks the kernel to queue ICMP errors on the socket with their details.
pub fn enable(fd: impl AsFd, v6: bool) -> io::Result<()> {
    if v6 {
        sockopt::set_int(fd, libc::SOL_IPV6, libc::IPV6_RECVERR, 1)
    } else {
        sockopt::set_int(fd, libc::SOL_IP, libc::IP_RECVERR, 1)
    }
}

/// Also asks for the offset of RFC 4884 extensions (MPLS labels) in queued errors; older kernels refuse.
pub fn enable_rfc4884(fd: impl AsFd, v6: bool) -> io::Result<()> {
    if v6 {
        sockopt::set_int(fd, libc::SOL_IPV6, IPV6_RECVERR_RFC4884, 1)
    } else {
        sockopt::set_int(fd, libc::SOL_IP, IP_RECVERR_RFC4884, 1)
    }
}

/// Takes one entry off the socket's error queue without blocking; None when the queue is empty.
pub fn take(fd: impl AsFd) -> Option<QueuedError> {
    let mut data = [0u8; 256];
    let got = msg::recv(fd, &mut data, true).ok()?;
    got.cmsgs().find_map(parse)
}

/// Parses one control message like [`parse`], with `ee_info` too: the next-hop MTU of a fragmentation
/// needed / packet too big, or the local MTU of an `EMSGSIZE` the stack raised itself.
pub fn parse_with_info(c: Cmsg<'_>) -> Option<(QueuedError, u32)> {
    let err = parse(c)?;
    let info = u32::from_ne_bytes(c.data.get(8..12)?.try_into().ok()?);
    Some((err, info))
}

/// Parses one control message: a `sock_extended_err` followed by the offender's socket address.
pub fn parse(c: Cmsg<'_>) -> Option<QueuedError> {
    let ours = (c.level == libc::SOL_IP && c.kind == libc::IP_RECVERR)
        || (c.level == libc::SOL_IPV6 && c.kind == libc::IPV6_RECVERR);
    let data = c.data;
    if !ours || data.len() < EE_SIZE {
        return None;
    }
    let errno = u32::from_ne_bytes(data[0..4].try_into().ok()?) as i32;
    let origin = match data[4] {
        libc::SO_EE_ORIGIN_LOCAL => ErrOrigin::Local,
        libc::SO_EE_ORIGIN_ICMP => ErrOrigin::Icmp,
        libc::SO_EE_ORIGIN_ICMP6 => ErrOrigin::Icmp6,
        other => ErrOrigin::Other(other),
    };
    // ee_data holds struct sock_ee_data_rfc4884 { u16 len; u8 flags; u8 reserved } in host byte order.
    let rfc4884_len = if data[14] & RFC4884_INVALID != 0 {
        0
    } else {
        u16::from_ne_bytes([data[12], data[13]])
    };
    // An IPv4 router answering for a v4-mapped destination shows up mapped.
    let offender = sockaddr::parse(&data[EE_SIZE..]).map(|a| a.ip().to_canonical());
    Some(QueuedError {
        errno,
        origin,
        icmp_type: data[5],
        code: data[6],
        rfc4884_len,
        offender,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn ee(errno: i32, origin: u8, kind: u8, code: u8) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(errno as u32).to_ne_bytes());
        v.extend_from_slice(&[origin, kind, code, 0]);
        v.extend_from_slice(&0u32.to_ne_bytes()); // ee_info
        v.extend_from_slice(&0u32.to_ne_bytes()); // ee_data
        v
    }

    fn cm(level: i32, kind: i32, data: &[u8]) -> Cmsg<'_> {
        Cmsg { level, kind, data }
    }

    #[test]
    fn layout_matches_the_c_struct() {
        assert_eq!(std::mem::size_of::<libc::sock_extended_err>(), EE_SIZE);
        assert_eq!(std::mem::offset_of!(libc::sock_extended_err, ee_data), 12);
    }

    #[test]
    fn icmpv4_admin_prohibited_with_offender() {
        let mut data = ee(libc::EHOSTUNREACH, libc::SO_EE_ORIGIN_ICMP, 3, 13);
        data.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        data.extend_from_slice(&0u16.to_be_bytes());
        data.extend_from_slice(&[198, 51, 100, 1]);
        data.extend_from_slice(&[0; 8]);
        let q = parse(cm(libc::SOL_IP, libc::IP_RECVERR, &data)).unwrap();
        assert_eq!(q.errno, libc::EHOSTUNREACH);
        assert_eq!((q.origin, q.icmp_type, q.code), (ErrOrigin::Icmp, 3, 13));
        assert_eq!(q.offender, Some("198.51.100.1".parse().unwrap()));
        assert_eq!(q.rfc4884_len, 0);
    }

    #[test]
    fn icmpv6_port_unreachable_with_offender() {
        let mut data = ee(libc::ECONNREFUSED, libc::SO_EE_ORIGIN_ICMP6, 1, 4);
        data.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        data.extend_from_slice(&[0; 6]); // port, flowinfo
        data.extend_from_slice(&"2001:db8::9".parse::<Ipv6Addr>().unwrap().octets());
        data.extend_from_slice(&[0; 4]); // scope id
        let q = parse(cm(libc::SOL_IPV6, libc::IPV6_RECVERR, &data)).unwrap();
        assert_eq!((q.origin, q.icmp_type, q.code), (ErrOrigin::Icmp6, 1, 4));
        assert_eq!(q.offender, Some("2001:db8::9".parse().unwrap()));
    }

    #[test]
    fn fragmentation_needed_carries_the_next_hop_mtu_in_ee_info() {
        let mut data = ee(libc::EMSGSIZE, libc::SO_EE_ORIGIN_ICMP, 3, 4);
        data[8..12].copy_from_slice(&1400u32.to_ne_bytes());
        let (q, info) = parse_with_info(cm(libc::SOL_IP, libc::IP_RECVERR, &data)).unwrap();
        assert_eq!((q.errno, q.icmp_type, q.code, info), (libc::EMSGSIZE, 3, 4, 1400));
        assert!(parse_with_info(cm(libc::SOL_IP, libc::IP_RECVERR, &data[..12])).is_none());
    }

    #[test]
    fn a_mapped_offender_is_its_ipv4_address() {
        let mut data = ee(libc::EHOSTUNREACH, libc::SO_EE_ORIGIN_ICMP, 11, 0);
        data.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        data.extend_from_slice(&[0; 6]);
        data.extend_from_slice(&"::ffff:203.0.113.5".parse::<Ipv6Addr>().unwrap().octets());
        data.extend_from_slice(&[0; 4]);
        let q = parse(cm(libc::SOL_IPV6, libc::IPV6_RECVERR, &data)).unwrap();
        assert_eq!(q.offender, Some("203.0.113.5".parse().unwrap()));
    }

    #[test]
    fn rfc4884_length_unless_marked_invalid() {
        let mut data = ee(libc::EHOSTUNREACH, libc::SO_EE_ORIGIN_ICMP, 11, 0);
        data[12..14].copy_from_slice(&128u16.to_ne_bytes());
        assert_eq!(
            parse(cm(libc::SOL_IP, libc::IP_RECVERR, &data))
                .unwrap()
                .rfc4884_len,
            128
        );
        data[14] = RFC4884_INVALID;
        assert_eq!(
            parse(cm(libc::SOL_IP, libc::IP_RECVERR, &data))
                .unwrap()
                .rfc4884_len,
            0
        );
    }

    #[test]
    fn foreign_short_or_anonymous_messages() {
        let data = ee(libc::EMSGSIZE, libc::SO_EE_ORIGIN_LOCAL, 0, 0);
        assert!(parse(cm(libc::SOL_SOCKET, libc::IP_RECVERR, &data)).is_none());
        assert!(parse(cm(libc::SOL_IP, libc::IP_RECVERR, &data[..10])).is_none());
        // No offender bytes at all: the error is still read, with no sender.
        let q = parse(cm(libc::SOL_IP, libc::IP_RECVERR, &data)).unwrap();
        assert_eq!((q.origin, q.offender), (ErrOrigin::Local, None));
        let mut unspec = data.clone();
        unspec.extend_from_slice(&[0; 16]);
        assert_eq!(
            parse(cm(libc::SOL_IP, libc::IP_RECVERR, &unspec))
                .unwrap()
                .offender,
            None
        );
    }

    #[test]
    fn a_closed_loopback_port_queues_port_unreachable() {
        use std::net::UdpSocket;
        use std::time::{Duration, Instant};
        let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dest = closed.local_addr().unwrap();
        drop(closed);
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        enable(&sock, false).unwrap();
        assert_eq!(take(&sock), None, "an empty queue");
        sock.connect(dest).unwrap();
        sock.send(b"anyone?").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let q = loop {
            if let Some(q) = take(&sock) {
                break q;
            }
            assert!(Instant::now() < deadline, "no error queued");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(
            (q.errno, q.origin, q.icmp_type, q.code),
            (libc::ECONNREFUSED, ErrOrigin::Icmp, 3, 3)
        );
        assert_eq!(q.offender, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(take(&sock), None, "taken once");
    }
}
