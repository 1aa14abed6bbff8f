//! Who holds a socket: the processes whose `/proc/PID/fd` links name its inode (`socket:[INODE]`), as ss and lsof
//! find them. Without the privilege to read another user's fds the owner stays unknown, and is counted as such.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::hash::{BuildHasherDefault, Hasher};

use rustix::fs::{self as rfs, Mode, OFlags};

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
///
/// Kept small because a host may hold hundreds of thousands of sockets: one process index per inode, and a second
/// map only for the few sockets shared by several processes (after a fork).
#[derive(Debug, Default)]
pub struct Owners {
    processes: Vec<Owner>,
    /// Each process's OWNER cell, `nginx (812)`.
    cells: Vec<String>,
    first: InodeMap<u32>,
    more: InodeMap<Vec<u32>>,
    /// Processes whose fds this user may not read.
    pub hidden_processes: usize,
}

impl Owners {
    /// Walks every process in /proc once.
    pub fn scan() -> Owners {
        // Sized once for this namespace's sockets: growing by doubling leaves the old tables' memory behind.
        let mut owners = Owners {
            first: InodeMap::with_capacity_and_hasher(super::socket_estimate(), Default::default()),
            ..Owners::default()
        };
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

    /// Reads the process's fd links relative to its open fd directory: one short lookup per fd instead of resolving
    /// `/proc/PID/fd/N` from the root each time, which is most of the walk's cost on a host with many sockets.
    fn scan_process(&mut self, pid: u32) {
        let dir = format!("/proc/{pid}/fd");
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let Ok(mut fds) = rfs::openat(rfs::CWD, dir.as_str(), flags, Mode::empty()).and_then(rfs::Dir::new)
        else {
            // Gone since the listing, or another user's: only the latter hides sockets.
            if fs::metadata(format!("/proc/{pid}")).is_ok() {
                self.hidden_processes += 1;
            }
            return;
        };
        let mut index = None;
        let mut link = [0u8; 64];
        while let Some(Ok(entry)) = fds.read() {
            let Ok(dirfd) = fds.fd() else { break };
            let Ok(len) = rfs::readlinkat_raw(dirfd, entry.file_name(), &mut link[..]) else {
                continue;
            };
            let Some(inode) = std::str::from_utf8(&link[..len])
                .ok()
                .and_then(socket_inode)
                .and_then(|i| u32::try_from(i).ok())
            else {
                continue;
            };
            let index = *index.get_or_insert_with(|| {
                let owner = describe(pid);
                self.cells.push(format!("{} ({})", owner.process, owner.pid));
                self.processes.push(owner);
                (self.processes.len() - 1) as u32
            });
            self.add(inode, index);
        }
    }

    fn add(&mut self, inode: u32, index: u32) {
        match self.first.get(&inode) {
            None => {
                self.first.insert(inode, index);
            }
            Some(&held) if held == index => {}
            Some(_) => {
                let more = self.more.entry(inode).or_default();
                if !more.contains(&index) {
                    more.push(index);
                }
            }
        }
    }

    /// The processes holding the socket with this inode (empty: none visible).
    pub fn of(&self, inode: u64) -> Vec<Owner> {
        self.held_by(inode).map(Owner::clone).collect()
    }

    /// Whether some visible process holds the socket with this inode.
    pub fn holds(&self, inode: u64) -> bool {
        u32::try_from(inode).is_ok_and(|inode| self.first.contains_key(&inode))
    }

    /// The OWNER cell of the socket with this inode, `nginx (812), nginx (813)`, unescaped; borrowed for the
    /// usual socket of one process, so that a report of many sockets formats each process once.
    pub fn cell(&self, inode: u64) -> Cow<'_, str> {
        let Some(first) = u32::try_from(inode).ok().and_then(|i| self.first.get(&i)) else {
            return Cow::Borrowed("");
        };
        if !self.more.contains_key(&(inode as u32)) {
            return Cow::Borrowed(&self.cells[*first as usize]);
        }
        Cow::Owned(
            self.indices(inode)
                .map(|i| self.cells[i as usize].as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    fn held_by(&self, inode: u64) -> impl Iterator<Item = &Owner> {
        self.indices(inode).map(|i| &self.processes[i as usize])
    }

    /// Indices into `processes` of the holders; none for an inode wider than 32 bits, which no sock_diag record
    /// carries.
    fn indices(&self, inode: u64) -> impl Iterator<Item = u32> + '_ {
        let inode = u32::try_from(inode).ok();
        let first = inode.and_then(|i| self.first.get(&i)).copied();
        let more = inode
            .and_then(|i| self.more.get(&i))
            .map_or(&[][..], Vec::as_slice);
        first.into_iter().chain(more.iter().copied())
    }
}

/// Inode-keyed maps hashed by one multiplication: inodes are numbers the kernel hands out, not keys an attacker
/// picks, and SipHash showed in the profile of listing 20,000 sockets.
type InodeMap<V> = HashMap<u32, V, BuildHasherDefault<InodeHasher>>;

/// Fibonacci hashing of a u32 key.
#[derive(Default)]
struct InodeHasher(u64);

impl Hasher for InodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
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
        assert!(owners.holds(inode));
        assert!(
            owners.cell(inode).contains(&format!("({me})")),
            "{}",
            owners.cell(inode)
        );
        assert!(!owners.holds(u64::from(u32::MAX) + 1));
        assert_eq!(owners.cell(u64::from(u32::MAX) + 1), "");
    }
}
