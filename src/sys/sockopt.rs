//! Setting socket options that socket2 has no setter for (error queues, packet info, receive
//! timestamps, raw ICMP type filters).

use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// Sets an integer socket option (most on/off flags).
pub fn set_int(fd: impl AsFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    set_bytes(fd, level, name, &value.to_ne_bytes())
}

/// Sets a socket option from the bytes of its C value, in the host's byte order.
pub fn set_bytes(fd: impl AsFd, level: libc::c_int, name: libc::c_int, value: &[u8]) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "socket option value too long"))?;
    // SAFETY: the descriptor is borrowed open for the call; `value` is `len` readable bytes that the kernel
    // only copies (so their alignment does not matter) and that stay borrowed until the call returns.
    let rc = unsafe { libc::setsockopt(fd.as_fd().as_raw_fd(), level, name, value.as_ptr().cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Socket, Type};

    #[test]
    fn an_option_is_set_and_a_bad_one_is_an_error() {
        let sock = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        set_int(&sock, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1).unwrap();
        set_int(&sock, libc::SOL_IP, libc::IP_RECVERR, 1).unwrap();
        let err = set_int(&sock, libc::SOL_SOCKET, -1, 1).unwrap_err();
        assert!(err.raw_os_error().is_some());
    }
}
