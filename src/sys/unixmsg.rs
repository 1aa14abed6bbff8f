//! Receiving one datagram on a Unix datagram socket with its sender's path and, once SO_PASSCRED is on, the
//! credentials the kernel attaches to it (SCM_CREDENTIALS): the pid, uid and gid of the sending process.

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::cmsg;

/// `struct ucred`: pid, uid, gid, as the kernel writes them.
const UCRED_LEN: usize = size_of::<libc::ucred>();
/// Room for one SCM_CREDENTIALS message, and some to spare for any the kernel adds.
const CONTROL_ROOM: usize = 128;

/// Control-message space, aligned for `cmsghdr` as the kernel writes it.
#[repr(C, align(8))]
struct ControlBuf([u8; CONTROL_ROOM]);

/// The sending process as the kernel vouches for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderCred {
    /// Its process id; None when the kernel could not name one in our pid namespace (it sends 0 then).
    pub pid: Option<i32>,
    /// Its user id.
    pub uid: u32,
    /// Its group id.
    pub gid: u32,
}

/// One datagram received on a Unix socket.
#[derive(Debug)]
pub struct UnixReceived {
    /// Bytes of data written into the caller's buffer.
    pub len: usize,
    /// The path the sender is bound to; None when it is unnamed (or abstract: no path to answer to).
    pub path: Option<PathBuf>,
    /// Who sent it; None unless SO_PASSCRED is on.
    pub cred: Option<SenderCred>,
}

/// Receives one datagram into `data` without blocking (WouldBlock when none is queued).
pub fn recv(fd: impl AsFd, data: &mut [u8]) -> io::Result<UnixReceived> {
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid empty address.
    let mut name: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let mut control = ControlBuf([0; CONTROL_ROOM]);
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; all zeroes is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&raw mut name).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_un>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = CONTROL_ROOM as _;
    // SAFETY: the descriptor is borrowed open; each pointer in msg refers to a live buffer (name, iov and the
    // caller's data, control) of the length set beside it, and recvmsg writes only within those lengths.
    let n = unsafe { libc::recvmsg(fd.as_fd().as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let name_len = (msg.msg_namelen as usize).min(size_of::<libc::sockaddr_un>());
    let path_len = name_len.saturating_sub(offset_of!(libc::sockaddr_un, sun_path));
    // sun_path is c_char; its bytes as the kernel wrote them.
    let path_bytes: Vec<u8> = name.sun_path[..path_len].iter().map(|&c| c as u8).collect();
    let control_len = (msg.msg_controllen as usize).min(CONTROL_ROOM);
    let (path, cred) = sender(&path_bytes, &control.0[..control_len]);
    Ok(UnixReceived {
        len: (n as usize).min(data.len()),
        path,
        cred,
    })
}

/// The sender of a datagram from what recvmsg filled in: the `sun_path` bytes of its address and the control
/// messages. Pure, so that it is fuzzed (fuzz/fuzz_targets/control.rs).
pub fn sender(sun_path: &[u8], control: &[u8]) -> (Option<PathBuf>, Option<SenderCred>) {
    let path = pathname(sun_path).map(Path::to_path_buf);
    (path, cmsg::iter(control).find_map(|m| credentials(&m)))
}

/// The filesystem path in a `sun_path` (up to its NUL); None for an unnamed or abstract address.
fn pathname(sun_path: &[u8]) -> Option<&Path> {
    let end = sun_path.iter().position(|&b| b == 0).unwrap_or(sun_path.len());
    (end > 0).then(|| Path::new(std::ffi::OsStr::from_bytes(&sun_path[..end])))
}

/// The sender of an SCM_CREDENTIALS message; None for any other message or a short one.
fn credentials(m: &cmsg::Cmsg<'_>) -> Option<SenderCred> {
    if m.level != libc::SOL_SOCKET || m.kind != libc::SCM_CREDENTIALS || m.data.len() < UCRED_LEN {
        return None;
    }
    let field = |at: usize| -> [u8; 4] { m.data[at..at + 4].try_into().unwrap_or_default() };
    let pid = i32::from_ne_bytes(field(offset_of!(libc::ucred, pid)));
    Some(SenderCred {
        pid: (pid > 0).then_some(pid),
        uid: u32::from_ne_bytes(field(offset_of!(libc::ucred, uid))),
        gid: u32::from_ne_bytes(field(offset_of!(libc::ucred, gid))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn a_datagram_comes_with_its_sender_path_and_process() {
        let dir = std::env::temp_dir().join(format!("sockdiag-unixmsg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rx = UnixDatagram::bind(dir.join("rx")).unwrap();
        socket2::SockRef::from(&rx).set_passcred(true).unwrap();
        let tx = UnixDatagram::bind(dir.join("tx")).unwrap();
        tx.send_to(b"hello", dir.join("rx")).unwrap();
        let mut buf = [0u8; 16];
        let got = recv(&rx, &mut buf).unwrap();
        assert_eq!(&buf[..got.len], b"hello");
        assert_eq!(got.path.as_deref(), Some(dir.join("tx").as_path()));
        let cred = got.cred.expect("SCM_CREDENTIALS with SO_PASSCRED on");
        assert_eq!(cred.pid, Some(std::process::id() as i32));
        assert_eq!(cred.uid, rustix::process::geteuid().as_raw());
        UnixDatagram::unbound()
            .unwrap()
            .send_to(b"x", dir.join("rx"))
            .unwrap();
        let unnamed = recv(&rx, &mut buf).unwrap();
        assert_eq!((unnamed.len, unnamed.path), (1, None));
        assert_eq!(recv(&rx, &mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_a_whole_credentials_message_names_a_sender() {
        let mut ucred = [0u8; UCRED_LEN];
        ucred[..4].copy_from_slice(&7i32.to_ne_bytes());
        let m = |kind, data| cmsg::Cmsg {
            level: libc::SOL_SOCKET,
            kind,
            data,
        };
        assert_eq!(
            credentials(&m(libc::SCM_CREDENTIALS, &ucred)).unwrap().pid,
            Some(7)
        );
        assert_eq!(credentials(&m(libc::SCM_CREDENTIALS, &ucred[..8])), None);
        assert_eq!(credentials(&m(libc::SCM_RIGHTS, &ucred)), None);
        assert_eq!(pathname(b"\0abstract"), None);
        assert_eq!(pathname(b"/tmp/a\0\0"), Some(Path::new("/tmp/a")));
    }
}
