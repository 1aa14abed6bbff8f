//! `sockdiag probe unix:PATH` (and `unixgram:PATH`): connect to a Unix domain socket and say whether a
//! listener is there (open, and whose: SO_PEERCRED of the listener), refused (a socket file nobody listens
//! on), no such file, permission denied, not a socket, or a socket of the other kind.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;

use crate::cli::ProbeArgs;
use crate::error::{Context, Error, Outcome, Result};
use crate::render::{Cell, Report, Section, Tone, View, ms_f64};

/// How long a stream connect may wait when -w is not given (a Unix connect waits only on a full backlog).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a Unix socket probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnixState {
    /// A listener accepted the connection (unixgram: the socket took our address).
    Open,
    /// The file is a socket, but nobody listens on it (a listener that is gone left it).
    Refused,
    /// Nothing is at the path.
    NoSuchFile,
    /// This user may not connect (the socket file, or a directory on its path, is not writable/searchable).
    PermissionDenied,
    /// Something that is not a socket is at the path.
    NotASocket,
    /// A socket of the other kind (stream or datagram) is there.
    WrongType,
    /// The listener's backlog stayed full for the timeout.
    Timeout,
    /// Another error (the reason says which).
    Error,
}

impl UnixState {
    /// The state's name, as the JSON has it.
    pub fn name(self) -> &'static str {
        match self {
            UnixState::Open => "open",
            UnixState::Refused => "refused",
            UnixState::NoSuchFile => "no_such_file",
            UnixState::PermissionDenied => "permission_denied",
            UnixState::NotASocket => "not_a_socket",
            UnixState::WrongType => "wrong_type",
            UnixState::Timeout => "timeout",
            UnixState::Error => "error",
        }
    }
}

/// One Unix socket probed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UnixProbe {
    /// The target as given (`unix:PATH` or `unixgram:PATH`), escaped.
    pub target: String,
    /// "unix" (stream) or "unixgram".
    pub protocol: String,
    /// What was found.
    pub state: UnixState,
    /// Why, in words (the system's error, or who listens).
    pub reason: String,
    /// The listening process, when open on a stream socket: `pid=N,uid=N,gid=N`; null otherwise.
    pub listener: Option<String>,
    /// How long the connect took.
    pub rtt_ms: f64,
}

/// `sockdiag probe` over Unix sockets: one row per target.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UnixProbeReport {
    /// The targets in the order given.
    pub probes: Vec<UnixProbe>,
}

impl Report for UnixProbeReport {
    fn view(&self) -> View {
        let mut section = Section::new(&["TARGET", "STATE", "RTT", "REASON"]);
        section.rows = self
            .probes
            .iter()
            .map(|p| {
                let tone = match p.state {
                    UnixState::Open => Tone::Good,
                    UnixState::Timeout => Tone::Warn,
                    _ => Tone::Bad,
                };
                vec![
                    p.target.clone().into(),
                    Cell::toned(p.state.name(), tone),
                    crate::render::fmt_ms(Duration::from_secs_f64(p.rtt_ms / 1000.0)).into(),
                    p.reason.clone().into(),
                ]
            })
            .collect();
        View {
            sections: vec![section],
        }
    }
}

/// Whether the run probes Unix sockets: its first target is `unix:PATH` or `unixgram:PATH`.
pub fn wanted(args: &ProbeArgs) -> bool {
    args.targets.first().is_some_and(|t| parse(t).is_some())
}

/// `unix:PATH` as (path, datagram).
fn parse(target: &str) -> Option<(PathBuf, bool)> {
    let (path, datagram) = match target.strip_prefix("unix:") {
        Some(p) => (p, false),
        None => (target.strip_prefix("unixgram:")?, true),
    };
    Some((PathBuf::from(path), datagram))
}

/// Probes every target (all must be Unix ones); exit 1 unless every socket is open.
pub fn run(args: &ProbeArgs) -> Result<(UnixProbeReport, Outcome)> {
    let mut targets = Vec::new();
    for t in &args.targets {
        let shown = crate::text::escape(t).into_owned();
        match parse(t) {
            Some((p, _)) if p.as_os_str().is_empty() => {
                return Err(Error::usage(format!(
                    "'{shown}' has no path: accepted is unix:PATH or unixgram:PATH; see 'sockdiag probe --help'"
                )));
            }
            Some((p, d)) => targets.push((shown, p, d)),
            None => {
                return Err(Error::usage(format!(
                    "'{shown}' is not a Unix socket target: unix:PATH and unixgram:PATH targets are probed \
                     without host targets or ports; see 'sockdiag probe --help'"
                )));
            }
        }
    }
    let timeout = args.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context(|| "starting the async runtime".to_string())?;
    let probes: Vec<UnixProbe> = targets
        .into_iter()
        .map(|(shown, path, datagram)| runtime.block_on(probe_one(shown, &path, datagram, timeout)))
        .collect();
    let outcome = if probes.iter().all(|p| p.state == UnixState::Open) {
        Outcome::Success
    } else {
        Outcome::Negative
    };
    Ok((UnixProbeReport { probes }, outcome))
}

/// Connects once to the socket at `path` and judges what happened.
async fn probe_one(target: String, path: &Path, datagram: bool, timeout: Duration) -> UnixProbe {
    let start = Instant::now();
    let (state, reason, listener) = if datagram {
        let r = tokio::net::UnixDatagram::unbound().and_then(|s| s.connect(path));
        match r {
            Ok(()) => (
                UnixState::Open,
                "a datagram socket is bound there".to_string(),
                None,
            ),
            Err(e) => judge_error(path, &e),
        }
    } else {
        match tokio::time::timeout(timeout, tokio::net::UnixStream::connect(path)).await {
            Err(_) => (
                UnixState::Timeout,
                "the listener's backlog stayed full".to_string(),
                None,
            ),
            Ok(Ok(s)) => {
                let cred = s.peer_cred().ok().map(|c| {
                    let pid = c.pid().map_or("?".to_string(), |p| p.to_string());
                    format!("pid={pid},uid={},gid={}", c.uid(), c.gid())
                });
                let reason = match &cred {
                    Some(c) => format!("a listener accepted ({c})"),
                    None => "a listener accepted".to_string(),
                };
                (UnixState::Open, reason, cred)
            }
            Ok(Err(e)) => judge_error(path, &e),
        }
    };
    UnixProbe {
        target,
        protocol: if datagram { "unixgram" } else { "unix" }.to_string(),
        state,
        reason,
        listener,
        rtt_ms: ms_f64(start.elapsed()),
    }
}

/// The state a failed connect means. Linux refuses a connect to a file that is not a socket with
/// ECONNREFUSED, as for a dead socket: the file's type tells them apart.
fn judge_error(path: &Path, e: &io::Error) -> (UnixState, String, Option<String>) {
    let state = match e.raw_os_error() {
        Some(libc::ENOENT) => UnixState::NoSuchFile,
        Some(libc::EACCES | libc::EPERM) => UnixState::PermissionDenied,
        Some(libc::ECONNREFUSED) => match std::fs::symlink_metadata(path) {
            Ok(m) if !m.file_type().is_socket() => UnixState::NotASocket,
            _ => UnixState::Refused,
        },
        Some(libc::ENOTSOCK | libc::ENOTDIR) => UnixState::NotASocket,
        Some(libc::EPROTOTYPE) => UnixState::WrongType,
        Some(libc::EAGAIN) => UnixState::Timeout,
        _ => UnixState::Error,
    };
    let reason = match state {
        UnixState::Refused => "a socket file, but nobody listens on it".to_string(),
        UnixState::NotASocket => "the path is not a socket".to_string(),
        UnixState::WrongType => "a socket of the other kind (stream/datagram) is there".to_string(),
        _ => e.to_string(),
    };
    (state, reason, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_unix_or_unixgram_paths() {
        assert_eq!(
            parse("unix:/run/x.sock"),
            Some((PathBuf::from("/run/x.sock"), false))
        );
        assert_eq!(
            parse("unixgram:/dev/log"),
            Some((PathBuf::from("/dev/log"), true))
        );
        assert_eq!(parse("localhost"), None);
        assert_eq!(UnixState::NoSuchFile.name(), "no_such_file");
        let json = serde_json::to_value(UnixState::PermissionDenied).unwrap();
        assert_eq!(json, "permission_denied");
    }
}
