//! Timed delivery: a bounded heap of due packets and a thread that writes each at its time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Most replies waiting at once; beyond that new ones are dropped (and counted).
pub const MAX_PENDING: usize = 4096;

#[derive(Debug, Default)]
struct Queue {
    heap: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    seq: u64,
    stop: bool,
    dropped: u64,
}

/// A shared handle to the delivery queue.
#[derive(Debug, Clone, Default)]
pub struct Scheduler {
    inner: Arc<(Mutex<Queue>, Condvar)>,
}

impl Scheduler {
    /// Queues `packet` for `due`; false if the queue is full or stopped.
    pub fn push(&self, due: Instant, packet: Vec<u8>) -> bool {
        let (lock, cv) = &*self.inner;
        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
        if q.stop || q.heap.len() >= MAX_PENDING {
            q.dropped += 1;
            return false;
        }
        q.seq += 1;
        let seq = q.seq;
        q.heap.push(Reverse((due, seq, packet)));
        cv.notify_one();
        true
    }

    /// Delivers packets with `write` at their due time until [`Scheduler::stop`].
    pub fn run(&self, mut write: impl FnMut(&[u8])) {
        let (lock, cv) = &*self.inner;
        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !q.stop {
            let now = Instant::now();
            match q.heap.peek() {
                Some(Reverse((due, _, _))) if *due <= now => {
                    let Reverse((_, _, pkt)) = q.heap.pop().expect("peeked");
                    drop(q);
                    write(&pkt);
                    q = lock.lock().unwrap_or_else(|e| e.into_inner());
                }
                next => {
                    // Wake for the next due packet, a new packet, or stop; 50 ms at most.
                    let wait = next.map_or(Duration::from_millis(50), |Reverse((due, _, _))| *due - now);
                    q = cv
                        .wait_timeout(q, wait.min(Duration::from_millis(50)))
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    /// Stops delivery; pending packets are discarded.
    pub fn stop(&self) {
        let (lock, cv) = &*self.inner;
        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
        q.stop = true;
        q.heap.clear();
        cv.notify_all();
    }

    /// Replies dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner()).dropped
    }
}
