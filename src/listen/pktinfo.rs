//! UDP receive and send that carry each datagram's local address (IP_PKTINFO / IPV6_PKTINFO), so a listener
//! bound to a wildcard address logs where a datagram arrived and answers from that same address.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;

use socket2::SockAddr;

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
pub fn enable(fd: RawFd, ipv6: bool) -> io::Result<()> {
    setsockopt_on(fd, libc::IPPROTO_IP, libc::IP_PKTINFO)?;
    if ipv6 {
        setsockopt_on(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO)?;
    }
    Ok(())
}

fn setsockopt_on(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a valid c_int for the duration of the call and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Control-message space, aligned for cmsghdr; room for both kinds of packet info.
#[repr(C, align(8))]
struct CmsgBuf([u8; 128]);

/// Receives one datagram without blocking (WouldBlock when none is queued).
pub fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<Received> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = CmsgBuf([0; 128]);
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    // SAFETY: try_init hands us zeroed sockaddr storage and its length; recvmsg writes at most that many bytes
    // into it and reports the length used, which we pass back.
    let (len, addr) = unsafe {
        SockAddr::try_init(|storage, len| {
            msg.msg_name = storage.cast();
            msg.msg_namelen = *len;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.0.as_mut_ptr().cast();
            msg.msg_controllen = control.0.len();
            let n = libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT);
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            *len = msg.msg_namelen;
            Ok(n as usize)
        })?
    };
    let peer = addr
        .as_socket()
        .ok_or_else(|| io::Error::other("datagram from a non-IP address"))?;
    Ok(Received {
        len,
        peer,
        // SAFETY: msg was filled by a successful recvmsg and its control buffer is still alive.
        arrival: unsafe { arrival(&msg) },
    })
}

/// Reads IP_PKTINFO or IPV6_PKTINFO from a received message's control data.
///
/// # Safety
/// `msg` must come from a successful recvmsg whose control buffer is still alive.
unsafe fn arrival(msg: &libc::msghdr) -> Option<Arrival> {
    // SAFETY: the caller guarantees msg and its control buffer are valid; the CMSG_* macros stay within
    // msg_controllen, and each payload is read unaligned only when its cmsg_len covers its type's size.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            let data = libc::CMSG_DATA(cmsg);
            // A message cut short (MSG_CTRUNC) carries less than its type says: never read past it.
            let fits = |size: usize| c.cmsg_len as usize >= libc::CMSG_LEN(size as u32) as usize;
            if c.cmsg_level == libc::IPPROTO_IP
                && c.cmsg_type == libc::IP_PKTINFO
                && fits(size_of::<libc::in_pktinfo>())
            {
                let info: libc::in_pktinfo = std::ptr::read_unaligned(data.cast());
                return Some(Arrival {
                    dst: IpAddr::V4(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr))),
                    reply_from: IpAddr::V4(Ipv4Addr::from(u32::from_be(info.ipi_spec_dst.s_addr))),
                    ifindex: info.ipi_ifindex as u32,
                });
            }
            if c.cmsg_level == libc::IPPROTO_IPV6
                && c.cmsg_type == libc::IPV6_PKTINFO
                && fits(size_of::<libc::in6_pktinfo>())
            {
                let info: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                let addr = IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                return Some(Arrival {
                    dst: addr,
                    reply_from: addr,
                    ifindex: info.ipi6_ifindex,
                });
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// Sends one datagram without blocking, from the address it answers when given (WouldBlock when the socket's
/// buffer is full: the caller drops the answer rather than queue it).
pub fn send(fd: RawFd, data: &[u8], peer: SocketAddr, from: Option<&Arrival>) -> io::Result<usize> {
    let addr = SockAddr::from(peer);
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut control = CmsgBuf([0; 128]);
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = addr.as_ptr() as *mut libc::c_void;
    msg.msg_namelen = addr.len();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(a) = from {
        msg.msg_control = control.0.as_mut_ptr().cast();
        // SAFETY: the control buffer is large enough for one in_pktinfo or in6_pktinfo message (checked by
        // CMSG_SPACE against its size), and msg points at it for the CMSG macros.
        unsafe { write_source(&mut msg, a, control.0.len()) };
    }
    // SAFETY: msg points at live buffers (addr, iov, control) for the duration of the call.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Writes the source-address control message for an answer into msg's control buffer.
///
/// # Safety
/// msg.msg_control must point at `room` writable bytes aligned for cmsghdr.
unsafe fn write_source(msg: &mut libc::msghdr, a: &Arrival, room: usize) {
    // SAFETY: see the function's contract; sizes are checked against `room` before writing.
    unsafe {
        match a.reply_from {
            IpAddr::V4(v4) => {
                let space = libc::CMSG_SPACE(size_of::<libc::in_pktinfo>() as u32) as usize;
                assert!(space <= room);
                msg.msg_controllen = space;
                let cmsg = libc::CMSG_FIRSTHDR(msg);
                (*cmsg).cmsg_level = libc::IPPROTO_IP;
                (*cmsg).cmsg_type = libc::IP_PKTINFO;
                (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<libc::in_pktinfo>() as u32) as usize;
                let info = libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(v4).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast(), info);
            }
            IpAddr::V6(v6) => {
                let space = libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32) as usize;
                assert!(space <= room);
                msg.msg_controllen = space;
                let cmsg = libc::CMSG_FIRSTHDR(msg);
                (*cmsg).cmsg_level = libc::IPPROTO_IPV6;
                (*cmsg).cmsg_type = libc::IPV6_PKTINFO;
                (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as usize;
                // The interface matters for link-local peers; for others the kernel routes as usual.
                let ifindex = if is_link_local(&v6) { a.ifindex } else { 0 };
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr { s6_addr: v6.octets() },
                    ipi6_ifindex: ifindex,
                };
                std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast(), info);
            }
        }
    }
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}
