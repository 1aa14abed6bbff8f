//! Reading the socket error queue (IP_RECVERR / IPV6_RECVERR): which ICMP error came back, from whom.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, RawFd};

use super::verdict::{ErrOrigin, QueuedError};

/// Asks the kernel to queue ICMP errors on the socket with their details (and report all of them).
pub fn enable(fd: &impl AsRawFd, v6: bool) -> io::Result<()> {
    let (level, name) = if v6 {
        (libc::SOL_IPV6, libc::IPV6_RECVERR)
    } else {
        (libc::SOL_IP, libc::IP_RECVERR)
    };
    let on: libc::c_int = 1;
    // SAFETY: the option value points at a c_int of the size passed, alive across the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Takes one entry off the socket's error queue without blocking; None when the queue is empty.
pub fn take(fd: RawFd) -> Option<QueuedError> {
    let mut data = [0u8; 256];
    let mut control = [0u64; 64];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; every pointer set below refers to a live local buffer of the stated size.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: fd is an open socket and msg describes valid buffers.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    // SAFETY: the kernel filled msg_control with msg_controllen bytes of cmsgs; the CMSG macros walk them
    // within that length and each data slice lies inside the control buffer.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let hdr = &*cmsg;
            let header_len = libc::CMSG_LEN(0) as usize;
            let len = (hdr.cmsg_len as usize).saturating_sub(header_len);
            let bytes = std::slice::from_raw_parts(libc::CMSG_DATA(cmsg), len);
            if let Some(q) = parse(hdr.cmsg_level, hdr.cmsg_type, bytes) {
                return Some(q);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    None
}

/// Parses one control message: a `sock_extended_err` followed by the offender's sockaddr.
pub fn parse(level: i32, kind: i32, data: &[u8]) -> Option<QueuedError> {
    let ours = (level == libc::SOL_IP && kind == libc::IP_RECVERR)
        || (level == libc::SOL_IPV6 && kind == libc::IPV6_RECVERR);
    if !ours || data.len() < 16 {
        return None;
    }
    let errno = u32::from_ne_bytes(data[0..4].try_into().ok()?) as i32;
    let origin = match data[4] {
        libc::SO_EE_ORIGIN_LOCAL => ErrOrigin::Local,
        libc::SO_EE_ORIGIN_ICMP => ErrOrigin::Icmp,
        libc::SO_EE_ORIGIN_ICMP6 => ErrOrigin::Icmp6,
        other => ErrOrigin::Other(other),
    };
    Some(QueuedError {
        errno,
        origin,
        icmp_type: data[5],
        code: data[6],
        offender: offender(&data[16..]),
    })
}

/// The address in a sockaddr_in or sockaddr_in6 (AF_UNSPEC or too short: unknown).
fn offender(sa: &[u8]) -> Option<IpAddr> {
    let family = u16::from_ne_bytes(sa.get(0..2)?.try_into().ok()?) as i32;
    match family {
        libc::AF_INET => {
            let b: [u8; 4] = sa.get(4..8)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
        libc::AF_INET6 => {
            let b: [u8; 16] = sa.get(8..24)?.try_into().ok()?;
            let v6 = Ipv6Addr::from(b);
            // An IPv4 router answering for a v4-mapped destination shows up mapped.
            Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ee(errno: i32, origin: u8, kind: u8, code: u8) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(errno as u32).to_ne_bytes());
        v.extend_from_slice(&[origin, kind, code, 0]);
        v.extend_from_slice(&0u32.to_ne_bytes()); // ee_info
        v.extend_from_slice(&0u32.to_ne_bytes()); // ee_data
        v
    }

    #[test]
    fn icmpv4_admin_prohibited_with_offender() {
        let mut data = ee(libc::EHOSTUNREACH, libc::SO_EE_ORIGIN_ICMP, 3, 13);
        data.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        data.extend_from_slice(&0u16.to_be_bytes());
        data.extend_from_slice(&[198, 51, 100, 1]);
        data.extend_from_slice(&[0; 8]);
        let q = parse(libc::SOL_IP, libc::IP_RECVERR, &data).unwrap();
        assert_eq!(q.errno, libc::EHOSTUNREACH);
        assert_eq!((q.origin, q.icmp_type, q.code), (ErrOrigin::Icmp, 3, 13));
        assert_eq!(q.offender, Some("198.51.100.1".parse().unwrap()));
    }

    #[test]
    fn icmpv6_port_unreachable_with_offender() {
        let mut data = ee(libc::ECONNREFUSED, libc::SO_EE_ORIGIN_ICMP6, 1, 4);
        data.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        data.extend_from_slice(&[0; 6]); // port, flowinfo
        data.extend_from_slice(&"2001:db8::9".parse::<Ipv6Addr>().unwrap().octets());
        data.extend_from_slice(&[0; 4]); // scope id
        let q = parse(libc::SOL_IPV6, libc::IPV6_RECVERR, &data).unwrap();
        assert_eq!((q.origin, q.icmp_type, q.code), (ErrOrigin::Icmp6, 1, 4));
        assert_eq!(q.offender, Some("2001:db8::9".parse().unwrap()));
    }

    #[test]
    fn foreign_short_or_anonymous_messages() {
        let data = ee(libc::EMSGSIZE, libc::SO_EE_ORIGIN_LOCAL, 0, 0);
        assert!(parse(libc::SOL_SOCKET, libc::IP_RECVERR, &data).is_none());
        assert!(parse(libc::SOL_IP, libc::IP_RECVERR, &data[..10]).is_none());
        // No offender bytes at all: the error is still read, with no sender.
        let q = parse(libc::SOL_IP, libc::IP_RECVERR, &data).unwrap();
        assert_eq!((q.origin, q.offender), (ErrOrigin::Local, None));
        let mut unspec = data.clone();
        unspec.extend_from_slice(&[0; 16]);
        assert_eq!(
            parse(libc::SOL_IP, libc::IP_RECVERR, &unspec).unwrap().offender,
            None
        );
    }
}
