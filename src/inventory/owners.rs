//! Who holds a socket: the processes whose `/proc/PID/fd` links name its inode (`socket:[INODE]`), as ss and lsof
//! find them. Without the privilege to read another user's fds the owner stays unknown, and is counted as such.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::CStr;
use std::fs;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

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
    /// (inode, process) sorted by inode, the first holder of each: 8 bytes a socket, half a hash map's.
    first: Vec<(u32, u32)>,
    more: InodeMap<Vec<u32>>,
    /// Processes whose fds this user may not read.
    pub hidden_processes: usize,
}

impl Owners {
    /// Walks every process in /proc once.
    pub fn scan() -> Owners {
        let mut walk = Walk::list();
        let found = walk.work();
        let rest = walk.finish();
        Owners::merge(walk, vec![found, rest])
    }

    /// The owners a [`Walk`] found, whichever threads shared its work: the processes in the order /proc listed
    /// them, as one thread walking alone would have found them.
    pub fn merge(walk: Walk, found: Vec<Found>) -> Owners {
        let mut owners = Owners {
            hidden_processes: walk.hidden_processes,
            ..Owners::default()
        };
        let mut described: HashMap<u32, Owner> = found.into_iter().flat_map(|f| f.described).collect();
        let done = || walk.chunks.iter().filter(|c| c.done.load(Ordering::Acquire));
        let sockets = done()
            .flat_map(|c| &walk.slots[c.start as usize..c.end as usize])
            .filter(|s| s.load(Ordering::Relaxed) != 0)
            .count();
        // Sized once: growing by doubling leaves the old tables' memory behind.
        let mut pairs = Vec::with_capacity(sockets);
        // Processes numbered in the order of their first chunk, /proc's: as one thread walking alone finds them.
        let mut indices: HashMap<u32, u32> = HashMap::new();
        for chunk in done() {
            let pid = chunk.pid;
            for slot in &walk.slots[chunk.start as usize..chunk.end as usize] {
                let inode = slot.load(Ordering::Relaxed);
                if inode == 0 {
                    continue;
                }
                let index = *indices.entry(pid).or_insert_with(|| {
                    let owner = described.remove(&pid).unwrap_or_else(|| describe(pid));
                    owners.cells.push(format!("{} ({})", owner.process, owner.pid));
                    owners.processes.push(owner);
                    (owners.processes.len() - 1) as u32
                });
                pairs.push((inode, index));
            }
        }
        drop(walk);
        pairs.sort_unstable();
        // Each inode keeps its first holder; the others of a shared socket go to `more`, each once.
        let more = &mut owners.more;
        pairs.dedup_by(|later, kept| {
            if later.0 != kept.0 {
                return false;
            }
            if later.1 != kept.1 {
                let others: &mut Vec<u32> = more.entry(later.0).or_default();
                if others.last() != Some(&later.1) {
                    others.push(later.1);
                }
            }
            true
        });
        owners.first = pairs;
        owners
    }

    /// The first holder of the socket with this inode.
    fn first_of(&self, inode: u32) -> Option<u32> {
        let at = self.first.binary_search_by_key(&inode, |&(i, _)| i).ok()?;
        Some(self.first[at].1)
    }

    /// The processes holding the socket with this inode (empty: none visible).
    pub fn of(&self, inode: u64) -> Vec<Owner> {
        self.held_by(inode).map(Owner::clone).collect()
    }

    /// Whether some visible process holds the socket with this inode.
    pub fn holds(&self, inode: u64) -> bool {
        u32::try_from(inode).is_ok_and(|inode| self.first_of(inode).is_some())
    }

    /// The OWNER cell of the socket with this inode, `nginx (812), nginx (813)`, unescaped; borrowed for the
    /// usual socket of one process, so that a report of many sockets formats each process once.
    pub fn cell(&self, inode: u64) -> Cow<'_, str> {
        let Some(first) = u32::try_from(inode).ok().and_then(|i| self.first_of(i)) else {
            return Cow::Borrowed("");
        };
        if !self.more.contains_key(&(inode as u32)) {
            return Cow::Borrowed(&self.cells[first as usize]);
        }
        Cow::Owned(
            self.indices(inode)
                .map(|i| self.cells[i as usize].as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    /// Who holds the socket with this inode, by process number (see [`Owners::process_cell`]).
    pub fn holders(&self, inode: u64) -> Holders {
        let Some(inode) = u32::try_from(inode).ok() else {
            return Holders::None;
        };
        match self.first_of(inode) {
            None => Holders::None,
            Some(_) if self.more.contains_key(&inode) => Holders::Several,
            Some(index) => Holders::One(index),
        }
    }

    /// The OWNER cell of one process, `nginx (812)`, unescaped.
    pub fn process_cell(&self, process: u32) -> &str {
        self.cells.get(process as usize).map_or("", String::as_str)
    }

    fn held_by(&self, inode: u64) -> impl Iterator<Item = &Owner> {
        self.indices(inode).map(|i| &self.processes[i as usize])
    }

    /// Indices into `processes` of the holders; none for an inode wider than 32 bits, which no sock_diag record
    /// carries.
    fn indices(&self, inode: u64) -> impl Iterator<Item = u32> + '_ {
        let inode = u32::try_from(inode).ok();
        let first = inode.and_then(|i| self.first_of(i));
        let more = inode
            .and_then(|i| self.more.get(&i))
            .map_or(&[][..], Vec::as_slice);
        first.into_iter().chain(more.iter().copied())
    }
}

/// Who holds a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holders {
    /// No process this user can see.
    None,
    /// One process, by its number in [`Owners`].
    One(u32),
    /// Several processes (a socket shared after a fork).
    Several,
}

/// Fds of one process to look at: a slice of [`Walk`]'s slots.
#[derive(Debug)]
struct Chunk {
    pid: u32,
    start: u32,
    end: u32,
    /// Its slots hold inodes now, not fd numbers.
    done: AtomicBool,
    /// How many of its fds were open (links read).
    links: AtomicU32,
}

/// Every process's fd numbers, listed first (one directory read each), then looked at in chunks that any number of
/// threads take in turn: the readlinks are most of the cost, and a host's sockets are often held by one or two
/// processes, whose fds a walk split by process could not share.
#[derive(Debug, Default)]
pub struct Walk {
    chunks: Vec<Chunk>,
    /// One per fd: its number until its chunk is looked at, then the inode of its socket (0: not a socket). The
    /// answers take the place of the questions, so that sharing the walk costs no memory.
    slots: Vec<AtomicU32>,
    next: AtomicUsize,
    hidden_processes: usize,
    /// Processes asked for fds 0 to their number of open fds: (pid, that number, their first chunk).
    probed: Vec<(u32, u32, u32)>,
}

/// What one thread found besides the inodes: the processes it described.
#[derive(Debug, Default)]
pub struct Found {
    described: Vec<(u32, Owner)>,
}

/// Fds looked at per chunk: enough that opening the directory again costs nothing, few enough that two threads
/// end together.
const CHUNK: usize = 512;

/// Open fds from which a process's fds are asked for by number instead of read from its directory.
const PROBE_FROM: usize = 256;

impl Walk {
    /// Lists the fds of every process in /proc.
    pub fn list() -> Walk {
        let mut walk = Walk {
            slots: Vec::with_capacity(super::socket_estimate() + 1024),
            ..Walk::default()
        };
        let Ok(entries) = fs::read_dir("/proc") else {
            return walk;
        };
        for entry in entries.flatten() {
            if let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) {
                walk.list_process(pid);
            }
        }
        walk
    }

    fn list_process(&mut self, pid: u32) {
        let Some(dir) = fd_dir(pid) else {
            // Gone since the listing, or another user's: only the latter hides sockets.
            if fs::metadata(format!("/proc/{pid}")).is_ok() {
                self.hidden_processes += 1;
            }
            return;
        };
        let start = self.slots.len();
        // Linux 6.2 and later give the number of open fds as the directory's size. A process holding many is
        // asked for fds 0 to that number without reading the directory, which costs as much as the readlinks
        // when it holds thousands: they are nearly always numbered from 0 without gaps, and `finish` reads the
        // directory of one whose numbers had gaps.
        let open = rfs::fstat(&dir).map_or(0, |st| st.st_size.max(0) as usize);
        if open >= PROBE_FROM {
            self.slots.extend((0..open as u32).map(AtomicU32::new));
            self.probed.push((pid, open as u32, self.chunks.len() as u32));
        } else if let Ok(mut fds) = rfs::Dir::new(dir) {
            while let Some(Ok(entry)) = fds.read() {
                if let Some(fd) = entry.file_name().to_str().ok().and_then(|n| n.parse().ok()) {
                    self.slots.push(AtomicU32::new(fd));
                }
            }
        }
        self.chunk(pid, start);
    }

    /// Cuts the slots from `start` on, all of process `pid`, into chunks.
    fn chunk(&mut self, pid: u32, start: usize) {
        for from in (start..self.slots.len()).step_by(CHUNK) {
            self.chunks.push(Chunk {
                pid,
                start: from as u32,
                end: (from + CHUNK).min(self.slots.len()) as u32,
                done: AtomicBool::new(false),
                links: AtomicU32::new(0),
            });
        }
    }

    /// After [`Walk::work`], from one thread: looks at the fds past the number a process was asked up to, for
    /// each process that had fewer fds below it than it had open (its numbers had gaps).
    pub fn finish(&mut self) -> Found {
        let first_new = self.chunks.len();
        for (pid, open, first) in std::mem::take(&mut self.probed) {
            let seen: u32 = self.chunks[first as usize..]
                .iter()
                .take_while(|c| c.pid == pid)
                .map(|c| c.links.load(Ordering::Relaxed))
                .sum();
            if seen >= open {
                continue;
            }
            let Some(Ok(mut fds)) = fd_dir(pid).map(rfs::Dir::new) else {
                continue;
            };
            let start = self.slots.len();
            while let Some(Ok(entry)) = fds.read() {
                if let Some(fd) = entry
                    .file_name()
                    .to_str()
                    .ok()
                    .and_then(|n| n.parse::<u32>().ok())
                    && fd >= open
                {
                    self.slots.push(AtomicU32::new(fd));
                }
            }
            self.chunk(pid, start);
        }
        *self.next.get_mut() = first_new;
        self.work()
    }

    /// Looks at chunks until none is left, from as many threads as share the walk.
    pub fn work(&self) -> Found {
        let mut found = Found::default();
        loop {
            let at = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(chunk) = self.chunks.get(at) else {
                return found;
            };
            let dir = fd_dir(chunk.pid);
            // A thread takes a process's chunks one after another: a process it has just described needs no
            // second look at /proc/PID (a process of 10,000 fds was being read 20 times).
            let mut described = found.described.last().is_some_and(|(pid, _)| *pid == chunk.pid);
            let mut links = 0;
            let mut link = [0u8; 64];
            for slot in &self.slots[chunk.start as usize..chunk.end as usize] {
                let mut name = [0u8; 12];
                let fd = fd_name(slot.load(Ordering::Relaxed), &mut name);
                let inode = dir
                    .as_ref()
                    .and_then(|d| rfs::readlinkat_raw(d, fd, &mut link[..]).ok())
                    .inspect(|_| links += 1)
                    .and_then(|len| std::str::from_utf8(&link[..len]).ok())
                    .and_then(socket_inode)
                    .and_then(|i| u32::try_from(i).ok())
                    .unwrap_or(0);
                slot.store(inode, Ordering::Relaxed);
                if inode != 0 && !described {
                    described = true;
                    found.described.push((chunk.pid, describe(chunk.pid)));
                }
            }
            chunk.links.store(links, Ordering::Relaxed);
            chunk.done.store(true, Ordering::Release);
        }
    }
}

/// The open fd directory of a process (None: gone, or not this user's to read).
fn fd_dir(pid: u32) -> Option<std::os::fd::OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let dir = format!("/proc/{pid}/fd");
    rfs::openat(rfs::CWD, dir.as_str(), flags, Mode::empty()).ok()
}

/// An fd number as the NUL-terminated name of its link, written into `buf` without allocating.
fn fd_name(fd: u32, buf: &mut [u8; 12]) -> &CStr {
    let mut digits = [0u8; 10];
    let mut n = fd;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[i] = digits[len - 1 - i];
    }
    buf[len] = 0;
    CStr::from_bytes_with_nul(&buf[..=len]).unwrap_or_default()
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
    fn a_walk_shared_by_two_threads_finds_every_socket_once() {
        use std::os::unix::fs::MetadataExt;
        // More sockets than a chunk, so that both threads take some of this process's fds; enough that its fds are
        // asked for by number, with a gap that puts some past its number of open fds (which `finish` finds).
        let mut sockets: Vec<_> = (0..2 * CHUNK + 100)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        sockets.drain(..CHUNK / 2);
        assert!(sockets.len() > PROBE_FROM);
        let inodes: Vec<u64> = sockets
            .iter()
            .map(|s| {
                let fd = std::os::fd::AsRawFd::as_raw_fd(s);
                fs::metadata(format!("/proc/self/fd/{fd}")).unwrap().ino()
            })
            .collect();
        let mut walk = Walk::list();
        let mut found = std::thread::scope(|scope| {
            let other = scope.spawn(|| walk.work());
            let mine = walk.work();
            vec![other.join().unwrap(), mine]
        });
        found.push(walk.finish());
        let owners = Owners::merge(walk, found);
        let me = std::process::id();
        for inode in inodes {
            assert_eq!(
                owners.of(inode).iter().filter(|o| o.pid == me).count(),
                1,
                "{inode}"
            );
        }
    }

    #[test]
    fn a_socket_two_processes_hold_names_both_once() {
        let walk = Walk {
            chunks: vec![
                Chunk {
                    pid: 1,
                    start: 0,
                    end: 3,
                    done: AtomicBool::new(true),
                    links: AtomicU32::new(3),
                },
                Chunk {
                    pid: 2,
                    start: 3,
                    end: 5,
                    done: AtomicBool::new(true),
                    links: AtomicU32::new(2),
                },
            ],
            slots: [7, 7, 9, 9, 11].into_iter().map(AtomicU32::new).collect(),
            ..Walk::default()
        };
        let owner = |pid| Owner {
            pid,
            process: format!("p{pid}"),
            uid: 0,
        };
        let found = Found {
            described: vec![(1, owner(1)), (2, owner(2))],
        };
        let owners = Owners::merge(walk, vec![found]);
        assert_eq!(owners.holders(7), Holders::One(0));
        assert_eq!(owners.holders(11), Holders::One(1));
        assert_eq!(owners.holders(9), Holders::Several);
        assert_eq!(owners.cell(9), "p1 (1), p2 (2)");
        assert_eq!(owners.holders(8), Holders::None);
        assert!(owners.holds(11) && !owners.holds(10));
    }

    #[test]
    fn fd_names_are_the_decimal_numbers() {
        let mut buf = [0u8; 12];
        assert_eq!(fd_name(0, &mut buf).to_bytes(), b"0");
        assert_eq!(fd_name(10_007, &mut buf).to_bytes(), b"10007");
        assert_eq!(fd_name(u32::MAX, &mut buf).to_bytes(), b"4294967295");
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
