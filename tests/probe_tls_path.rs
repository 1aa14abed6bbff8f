//! A delayed path for the timing tests of `probe --tls`: two lab namespaces joined by a pair of TUN devices,
//! with a relay here that holds every packet for a fixed time each way. The kernels on both ends do all of
//! TCP and TLS; only the wire is slow. (netem would do the same, but the lab's kernel may lack sch_netem.)

use std::fs::File;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::support::netns::Netns;
use crate::support::sim::tun;

/// The client's address on the link.
pub const CLIENT: &str = "198.51.100.1";
/// The server's address on the link.
pub const SERVER: &str = "198.51.100.2";
/// The relay never runs longer than this.
const LIFETIME: Duration = Duration::from_secs(120);

/// The link; its relay threads stop and the devices go on drop.
pub struct DelayedPath {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl DelayedPath {
    /// Joins `client` and `server` with a link that delays each packet by `one_way` in each direction.
    pub fn new(client: &Netns, server: &Netns, one_way: Duration) -> DelayedPath {
        let a = tun::open_in(client, "sdgdelay");
        let b = tun::open_in(server, "sdgdelay");
        for (ns, me, peer) in [(client, CLIENT, SERVER), (server, SERVER, CLIENT)] {
            ns.ip(&["addr", "add", me, "peer", peer, "dev", "sdgdelay"]);
            ns.ip(&["link", "set", "sdgdelay", "up"]);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (from, to) in [(&a, &b), (&b, &a)] {
            let (from, to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
            let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
            let flag = Arc::clone(&stop);
            threads.push(std::thread::spawn(move || read_side(from, tx, one_way, &flag)));
            threads.push(std::thread::spawn(move || write_side(to, rx)));
        }
        DelayedPath { stop, threads }
    }
}

impl Drop for DelayedPath {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Reads packets as they leave one end and stamps each with the time it is due at the other.
fn read_side(mut from: File, tx: mpsc::Sender<(Instant, Vec<u8>)>, delay: Duration, stop: &AtomicBool) {
    let born = Instant::now();
    let tick = Timespec {
        tv_sec: 0,
        tv_nsec: 20_000_000,
    };
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::SeqCst) && born.elapsed() < LIFETIME {
        let mut fds = [PollFd::new(&from, PollFlags::IN)];
        if !matches!(poll(&mut fds, Some(&tick)), Ok(n) if n > 0) {
            continue;
        }
        match from.read(&mut buf) {
            Ok(n) if n > 0 => {
                if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
    // Dropping the sender ends the writer.
}

/// Writes each packet into the other end when it is due (in order: every packet waits the same time).
fn write_side(mut to: File, rx: mpsc::Receiver<(Instant, Vec<u8>)>) {
    while let Ok((due, packet)) = rx.recv() {
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let _ = to.write_all(&packet);
    }
}
