//! Receiving one message with its sender and control messages (recvmsg), without blocking.

use std::io;
use std::mem::size_of;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};

use super::{cmsg, sockaddr};

/// Room for the control messages sockdiag asks for: a timestamp, an extended error with its offender,
/// packet info.
const CONTROL_ROOM: usize = 512;

/// Control-message space, aligned for `cmsghdr` as the kernel writes it.
#[repr(C, align(8))]
struct ControlBuf([u8; CONTROL_ROOM]);

/// One received message: how much data, from whom, and its control messages.
pub struct Received {
    /// Bytes of data written into the caller's buffer.
    pub len: usize,
    /// The address the kernel named: the sender, or for an error-queue message the original destination.
    pub peer: Option<SocketAddr>,
    control: ControlBuf,
    control_len: usize,
}

impl Received {
    /// The control messages that came with it.
    pub fn cmsgs(&self) -> cmsg::Iter<'_> {
        cmsg::iter(&self.control.0[..self.control_len])
    }
}

/// Receives one message into `data` without blocking (WouldBlock when none is queued): from the socket's
/// error queue (MSG_ERRQUEUE) when `error_queue`, else the next one.
pub fn recv(fd: impl AsFd, data: &mut [u8], error_queue: bool) -> io::Result<Received> {
    let mut name = [0u8; size_of::<libc::sockaddr_storage>()];
    let mut control = ControlBuf([0; CONTROL_ROOM]);
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; all zeroes is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = name.as_mut_ptr().cast();
    msg.msg_namelen = name.len() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = CONTROL_ROOM as _;
    let flags = libc::MSG_DONTWAIT | if error_queue { libc::MSG_ERRQUEUE } else { 0 };
    // SAFETY: the descriptor is borrowed open; each pointer in msg refers to a live buffer (name, iov and
    // the caller's data, control) of the length set beside it, and recvmsg writes only within those lengths.
    let n = unsafe { libc::recvmsg(fd.as_fd().as_raw_fd(), &mut msg, flags) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let name_len = (msg.msg_namelen as usize).min(name.len());
    Ok(Received {
        len: (n as usize).min(data.len()),
        peer: sockaddr::parse(&name[..name_len]),
        control_len: (msg.msg_controllen as usize).min(CONTROL_ROOM),
        control,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn a_datagram_arrives_with_its_sender_and_nothing_more_blocks() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(b"hello", rx.local_addr().unwrap()).unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut peek = [0u8; 1];
        rx.peek(&mut peek).unwrap(); // waits for the datagram, so the non-blocking read finds it
        let mut buf = [0u8; 3];
        let got = recv(&rx, &mut buf, false).unwrap();
        assert_eq!((got.len, &buf), (3, b"hel"));
        assert_eq!(got.peer, Some(tx.local_addr().unwrap()));
        assert_eq!(got.cmsgs().count(), 0);
        let err = recv(&rx, &mut buf, false).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        let err = recv(&rx, &mut buf, true).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}
