//! Who holds a socket: the processes whose `/proc/PID/fd` links name its inode (`socket:[INODE]`), as ss and lsof
//! find them. Without the privilege to read another user's fds the owner stays unknown, and is counted as such.

use std::collections::HashMap;
use std::fs;

use serde::Serialize;

/// One process holding a socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// Command name (`/proc/PID/comm`).
    pub process: String,
    /// Real user id of the process.
    pub uid: u32,
}

/// Socket inodes mapped to the processes that hold them, and how many processes could not be looked into.
#[derive(Debug, Default)]
pub struct Owners {
    by_inode: HashMap<u64, Vec<Owner>>,
    /// Processes whose fds this user may not read.
    pub hidden_processes: usize,
}

impl Owners {
    /// Walks every process in /proc once.
    pub fn scan() -> Owners {
        let mut owners = Owners::default();
        let Ok(entries) = fs::read_dir("/proc") else {
            return owners;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            owners.scan_process(pid);
        }
        owners
    }

    fn scan_process(&mut self, pid: u32) {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            // Gone since the listing, or another user's: only the latter hides sockets.
            if fs::metadata(format!("/proc/{pid}")).is_ok() {
                self.hidden_processes += 1;
            }
            return;
        };
        let mut owner = None;
        for fd in fds.flatten() {
            let Some(inode) = fs::read_link(fd.path())
                .ok()
                .and_then(|l| socket_inode(l.to_str()?))
            else {
                continue;
            };
            let owner = owner.get_or_insert_with(|| describe(pid));
            let holders = self.by_inode.entry(inode).or_default();
            if !holders.iter().any(|o| o.pid == pid) {
                holders.push(owner.clone());
            }
        }
    }

    /// The processes holding the socket with this inode (empty: none visible).
    pub fn of(&self, inode: u64) -> &[Owner] {
        self.by_inode.get(&inode).map_or(&[], Vec::as_slice)
    }
}

/// The inode in a `socket:[12345]` fd link.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

fn describe(pid: u32) -> Owner {
    let process = fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim_end().to_string())
        .unwrap_or_default();
    let uid = fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| real_uid(&s))
        .unwrap_or(u32::MAX);
    Owner { pid, process, uid }
}

/// The real uid from the `Uid:` line of /proc/PID/status.
fn real_uid(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_links_name_socket_inodes() {
        assert_eq!(socket_inode("socket:[4242]"), Some(4242));
        assert_eq!(socket_inode("pipe:[4242]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }

    #[test]
    fn uid_is_the_first_of_the_uid_line() {
        assert_eq!(real_uid("Name:\tx\nUid:\t1000\t1000\t1000\t1000\n"), Some(1000));
        assert_eq!(real_uid("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_holds_its_own_socket() {
        use std::os::unix::fs::MetadataExt;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&listener);
        let inode = fs::metadata(format!("/proc/self/fd/{fd}")).unwrap().ino();
        let owners = Owners::scan();
        let me = std::process::id();
        assert!(
            owners.of(inode).iter().any(|o| o.pid == me),
            "{:?}",
            owners.of(inode)
        );
    }
}
