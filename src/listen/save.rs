//! --save DIR: every byte each session received, one file per TCP connection or UDP peer, and a manifest
//! (`manifest.ndjson`, one line per session as it ends) naming each file with its session.

use super::endpoint::Endpoint;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::format::rfc3339;
use super::session::{End, Proto, Session, SessionId};
use crate::error::{Context, Error, Result};

/// The manifest's file name in DIR.
pub const MANIFEST: &str = "manifest.ndjson";

/// One line of the manifest.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    session_id: SessionId,
    protocol: Proto,
    peer: Endpoint,
    local: Endpoint,
    started_at: String,
    /// The file's name in DIR; null when the session sent nothing (no file was made).
    file: Option<&'a str>,
    received_bytes: u64,
    end: Option<&'a End>,
}

/// The open files of a --save run.
#[derive(Debug)]
pub struct Saver {
    dir: PathBuf,
    files: HashMap<SessionId, (String, File)>,
    manifest: File,
}

/// Checks DIR (made if missing; it must be empty, so no earlier run's files are mixed in) before the run starts.
pub fn prepare(dir: &Path) -> Result<PathBuf> {
    let shown = dir.display();
    std::fs::create_dir_all(dir).context(|| format!("making --save directory {shown}"))?;
    let mut entries = std::fs::read_dir(dir).context(|| format!("reading --save directory {shown}"))?;
    if entries.next().is_some() {
        return Err(Error::usage(format!(
            "--save {shown} is not empty: accepted is a new or empty directory; see 'sockdiag listen --help'"
        )));
    }
    Ok(dir.to_path_buf())
}

impl Saver {
    /// Starts the manifest in `dir` (checked by [`prepare`]).
    pub fn start(dir: PathBuf) -> Result<Saver> {
        let path = dir.join(MANIFEST);
        let manifest = File::create(&path).context(|| format!("creating {}", path.display()))?;
        Ok(Saver {
            dir,
            files: HashMap::new(),
            manifest,
        })
    }

    /// Appends what a session received to its file (made at its first byte); a failure is returned to be
    /// logged (a full disk must not end the listener).
    pub fn write(&mut self, s: &Session, data: &[u8]) -> std::io::Result<()> {
        if !self.files.contains_key(&s.id) {
            let name = file_name(s);
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.dir.join(&name))?;
            self.files.insert(s.id, (name, file));
        }
        let (_, file) = self.files.get_mut(&s.id).expect("inserted above");
        file.write_all(data)
    }

    /// Closes a finished session's file and writes its manifest line.
    pub fn finish(&mut self, s: &Session) -> std::io::Result<()> {
        let name = self.files.remove(&s.id).map(|(name, _)| name);
        let entry = Entry {
            session_id: s.id,
            protocol: s.protocol,
            peer: s.peer.clone(),
            local: s.local.clone(),
            started_at: rfc3339(s.started_at),
            file: name.as_deref(),
            received_bytes: s.traffic.received_bytes,
            end: s.end.as_ref(),
        };
        let mut line = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.manifest.write_all(&line)
    }
}

/// `000042-tcp-127.0.0.1_5555.bin`: the session number first, so a listing is in order of arrival; no `:`
/// (awkward in shells and on other systems' file systems).
fn file_name(s: &Session) -> String {
    let peer: String = s
        .peer
        .to_string()
        .chars()
        .map(|c| if c == ':' { '_' } else { c })
        .collect();
    format!("{:06}-{}-{peer}.bin", s.id, s.protocol.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listen::session::{EndKind, Ledger};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn each_session_gets_its_file_and_a_manifest_line() {
        let dir = std::env::temp_dir().join(format!("sockdiag-save-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut saver = Saver::start(prepare(&dir).unwrap()).unwrap();
        assert!(prepare(&dir).is_err(), "a directory with a manifest is not empty");
        let mut ledger = Ledger::new();
        let (peer, local): (Endpoint, Endpoint) = ("[::1]:5555".parse().unwrap(), "[::1]:7".parse().unwrap());
        let a = ledger.open(
            Proto::Tcp,
            peer.clone(),
            local.clone(),
            Duration::ZERO,
            UNIX_EPOCH,
        );
        let b = ledger.open(Proto::Udp, peer, local, Duration::ZERO, UNIX_EPOCH);
        saver.write(ledger.get(a).unwrap(), b"hello ").unwrap();
        saver.write(ledger.get(a).unwrap(), b"world").unwrap();
        ledger.add_in(a, 11);
        let a = ledger
            .close(a, EndKind::PeerClosed.into(), Duration::ZERO)
            .unwrap();
        let b = ledger
            .close(b, EndKind::IdleTimeout.into(), Duration::ZERO)
            .unwrap();
        saver.finish(&a).unwrap();
        saver.finish(&b).unwrap();
        let name = "000001-tcp-[__1]_5555.bin";
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), b"hello world");
        let manifest = std::fs::read_to_string(dir.join(MANIFEST)).unwrap();
        let lines: Vec<serde_json::Value> = manifest
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["file"], name);
        assert_eq!(lines[0]["received_bytes"], 11);
        assert_eq!(lines[0]["end"]["kind"], "peer_closed");
        assert!(lines[1]["file"].is_null(), "no data, no file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
