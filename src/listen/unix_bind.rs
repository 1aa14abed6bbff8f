//! Binding a Unix domain socket (`unix:PATH`, `unixgram:PATH`): a socket file left by a listener that is gone is
//! replaced, a live listener or a file that is not a socket is never touched, and the file is removed when the
//! run ends.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::error::{Error, Result};

/// Listen backlog asked for; the kernel caps it at net.core.somaxconn.
const BACKLOG: i32 = 65_535;
/// Longest path a Unix socket address holds (sun_path is 108 bytes with its terminating zero).
pub const MAX_PATH: usize = 107;

/// A Unix socket to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSpec {
    /// Its path.
    pub path: PathBuf,
    /// unixgram: rather than unix: (stream).
    pub datagram: bool,
}

/// What was found at the path before binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Previous {
    /// Nothing.
    Nothing,
    /// A socket file nobody listens on (connecting was refused): removed.
    StaleRemoved,
}

/// The bound socket file, removed when dropped if it is still the one we made (not one a later run made).
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .ok()
            .is_some_and(|m| Some((m.dev(), m.ino())) == self.id);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A bound Unix socket: listening (stream) or ready to receive (datagram), non-blocking.
#[derive(Debug)]
pub struct UnixBound {
    /// The socket.
    pub socket: Socket,
    /// What was at the path before.
    pub previous: Previous,
    /// Removes the file at the end of the run.
    pub file: SocketFile,
}

/// Binds `spec`, first clearing a stale socket file from a listener that is gone.
pub fn bind(spec: &UnixSpec) -> Result<UnixBound> {
    let shown = crate::text::escape(&spec.path.to_string_lossy()).into_owned();
    let previous = clear_stale(&spec.path, spec.datagram, &shown)?;
    let ty = if spec.datagram { Type::DGRAM } else { Type::STREAM };
    let what = || {
        format!(
            "binding {} {shown}",
            if spec.datagram { "unixgram" } else { "unix" }
        )
    };
    let socket = Socket::new(Domain::UNIX, ty, None).map_err(|e| Error::io(what(), e))?;
    let addr = SockAddr::unix(&spec.path).map_err(|e| Error::io(what(), e))?;
    socket.set_nonblocking(true).map_err(|e| Error::io(what(), e))?;
    if spec.datagram {
        // Before bind, so that no datagram arrives without its sender's credentials.
        socket.set_passcred(true).map_err(|e| Error::io(what(), e))?;
    }
    socket.bind(&addr).map_err(|e| bind_error(what(), e))?;
    let file = SocketFile {
        path: spec.path.clone(),
        id: std::fs::symlink_metadata(&spec.path)
            .ok()
            .map(|m| (m.dev(), m.ino())),
    };
    if !spec.datagram {
        socket.listen(BACKLOG).map_err(|e| Error::io(what(), e))?;
    }
    Ok(UnixBound {
        socket,
        previous,
        file,
    })
}

/// Leaves the path free for binding: nothing there, or a socket file nobody answers on (removed). A live
/// socket, or anything that is not a socket, is an error and stays as it is.
fn clear_stale(path: &Path, datagram: bool, shown: &str) -> Result<Previous> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Previous::Nothing),
        Err(e) => return Err(Error::io(format!("looking at {shown}"), e)),
        Ok(m) => m,
    };
    if !meta.file_type().is_socket() {
        return Err(Error::usage(format!(
            "{shown} exists and is not a socket: accepted is a new path, or the socket file of a listener \
             that is gone; see 'sockdiag listen --help'"
        )));
    }
    match liveness(path, datagram) {
        Some(libc::ECONNREFUSED) => {
            std::fs::remove_file(path).map_err(|e| Error::io(format!("removing stale socket {shown}"), e))?;
            Ok(Previous::StaleRemoved)
        }
        None | Some(libc::EPROTOTYPE) => Err(Error::System(format!(
            "binding {shown}: a running listener is on this socket (remove it only if that is intended)"
        ))),
        Some(errno) => Err(Error::io(
            format!("checking whether a listener is on {shown}"),
            io::Error::from_raw_os_error(errno),
        )),
    }
}

/// Connects to the socket at `path` as a client of the same kind would: None when something answers, else
/// the errno (ECONNREFUSED: nobody listens; EPROTOTYPE: a socket of the other kind is there and alive).
fn liveness(path: &Path, datagram: bool) -> Option<i32> {
    let result = if datagram {
        UnixDatagram::unbound().and_then(|s| s.connect(path))
    } else {
        UnixStream::connect(path).map(drop)
    };
    result.err().map(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

fn bind_error(what: String, e: io::Error) -> Error {
    let hint = match e.raw_os_error() {
        Some(libc::EACCES) => " (the directory is not writable for this user)",
        Some(libc::ENOENT) => " (the directory does not exist)",
        Some(libc::EADDRINUSE) => " (another listener bound it meanwhile)",
        _ => return Error::io(what, e),
    };
    Error::System(format!("{}{hint}", Error::io(what, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, datagram: bool) -> UnixSpec {
        UnixSpec {
            path: dir.join("s.sock"),
            datagram,
        }
    }

    fn tempdir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sockdiag-unix-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_stale_file_is_replaced_and_ours_removed_at_the_end() {
        let dir = tempdir("stale");
        for datagram in [false, true] {
            let s = spec(&dir, datagram);
            let first = bind(&s).unwrap();
            assert_eq!(first.previous, Previous::Nothing);
            // A listener that died without cleaning up leaves its file: close the socket, keep the file.
            std::mem::forget(first.file);
            drop(first.socket);
            let second = bind(&s).unwrap();
            assert_eq!(second.previous, Previous::StaleRemoved);
            drop(second);
            assert!(!s.path.exists(), "the file goes with the listener");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_live_listener_and_a_plain_file_are_left_alone() {
        let dir = tempdir("live");
        for datagram in [false, true] {
            let s = spec(&dir, datagram);
            let live = bind(&s).unwrap();
            let err = bind(&s).unwrap_err();
            assert_eq!(err.exit_code(), crate::error::exit::SYSTEM, "{err}");
            assert!(err.to_string().contains("a running listener"), "{err}");
            // The other kind of socket at the path is alive too.
            let other = bind(&UnixSpec {
                datagram: !datagram,
                ..s.clone()
            })
            .unwrap_err();
            assert!(other.to_string().contains("a running listener"), "{other}");
            drop(live);
        }
        let plain = dir.join("plain");
        std::fs::write(&plain, b"keep me").unwrap();
        let err = bind(&UnixSpec {
            path: plain.clone(),
            datagram: false,
        })
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE, "{err}");
        assert_eq!(std::fs::read(&plain).unwrap(), b"keep me");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
