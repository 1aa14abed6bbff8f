//! One end of a session: an IP address and port, or a Unix socket (its path, and the process the kernel vouches
//! for: SO_PEERCRED for a stream client, SCM_CREDENTIALS for a datagram sender). Shown and serialised as one string (pure).

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};

/// Where one end of a session is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// An IP address and port (IPv4-mapped addresses already shown as IPv4).
    Ip(SocketAddr),
    /// A Unix domain socket end.
    Unix(UnixEnd),
}

/// A Unix socket end: the path it is bound to (a client's is usually unnamed) and who is behind it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnixEnd {
    /// The bound path, escaped for display; None when unnamed.
    pub path: Option<Arc<str>>,
    /// The client's process as the kernel recorded it (at connect for a stream, with each datagram).
    pub cred: Option<Cred>,
}

/// A Unix client's process, from SO_PEERCRED (stream) or SCM_CREDENTIALS (datagram).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cred {
    /// Its process id (None when the kernel could not name one, e.g. from another pid namespace).
    pub pid: Option<i32>,
    /// Its user id.
    pub uid: u32,
    /// Its group id.
    pub gid: u32,
}

impl Endpoint {
    /// A Unix socket bound to `path` (or unnamed), with no credentials.
    pub fn unix_path(path: Option<&Path>) -> Self {
        Endpoint::Unix(UnixEnd {
            path: path.map(|p| Arc::from(crate::text::escape_bytes(p.as_os_str().as_bytes()))),
            cred: None,
        })
    }

    /// A Unix client: its credentials, and its path if it bound one.
    pub fn unix_client(path: Option<&Path>, cred: Option<Cred>) -> Self {
        match Endpoint::unix_path(path) {
            Endpoint::Unix(u) => Endpoint::Unix(UnixEnd { cred, ..u }),
            ip => ip,
        }
    }

    /// The IP address and port, for an IP end.
    pub fn ip(&self) -> Option<SocketAddr> {
        match self {
            Endpoint::Ip(a) => Some(*a),
            Endpoint::Unix(_) => None,
        }
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(a: SocketAddr) -> Self {
        Endpoint::Ip(a)
    }
}

impl std::str::FromStr for Endpoint {
    type Err = std::net::AddrParseError;

    /// An IP end from `ADDR:PORT`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Endpoint::Ip)
    }
}

impl fmt::Display for Endpoint {
    /// `ADDR:PORT`, `unix:PATH`, `pid=N,uid=N,gid=N` for a client with no path (both for one with a path),
    /// `unix:(unnamed)` for an unnamed client without credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = match self {
            Endpoint::Ip(a) => return a.fmt(f),
            Endpoint::Unix(u) => u,
        };
        match (&u.path, &u.cred) {
            (Some(p), None) => write!(f, "unix:{p}"),
            (None, Some(c)) => c.fmt(f),
            (Some(p), Some(c)) => write!(f, "unix:{p},{c}"),
            (None, None) => f.write_str("unix:(unnamed)"),
        }
    }
}

impl fmt::Display for Cred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid={pid},uid={},gid={}", self.uid, self.gid),
            None => write!(f, "pid=?,uid={},gid={}", self.uid, self.gid),
        }
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl JsonSchema for Endpoint {
    fn schema_name() -> Cow<'static, str> {
        "Endpoint".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_end_reads_as_one_string() {
        let ip = Endpoint::from("[::1]:80".parse::<SocketAddr>().unwrap());
        assert_eq!(ip.to_string(), "[::1]:80");
        assert_eq!(serde_json::to_string(&ip).unwrap(), r#""[::1]:80""#);
        let local = Endpoint::unix_path(Some(Path::new("/tmp/x.sock")));
        assert_eq!(local.to_string(), "unix:/tmp/x.sock");
        let cred = Cred {
            pid: Some(42),
            uid: 1000,
            gid: 100,
        };
        assert_eq!(
            Endpoint::unix_client(None, Some(cred)).to_string(),
            "pid=42,uid=1000,gid=100"
        );
        assert_eq!(Endpoint::unix_path(None).to_string(), "unix:(unnamed)");
        assert_eq!(local.ip(), None);
    }

    #[test]
    fn a_path_a_client_chose_cannot_drive_the_terminal() {
        let hostile = Endpoint::unix_path(Some(Path::new("/tmp/\x1b[2Jx")));
        assert!(!hostile.to_string().contains('\x1b'), "{hostile}");
    }
}
