//! The log's writer: lines go into a bounded queue that a thread of its own writes out, so a stderr (or stdout)
//! that cannot take more never blocks the event loop. When the queue is full a line is counted and dropped.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Lines waiting to be written; beyond this they are dropped (a few hundred KiB at most).
const QUEUE_LINES: usize = 4096;
/// Bytes the writer gathers into one write.
const BATCH_BYTES: usize = 64 << 10;
/// How long the writer lets lines gather after a write: a busy listener (a line per HTTP request) then wakes
/// it, and writes, at most about a thousand times a second instead of once a line.
const GATHER: Duration = Duration::from_millis(1);

/// Where the lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Standard output (the NDJSON events).
    Stdout,
    /// Standard error (the text log and warnings).
    Stderr,
}

/// What the writer thread and the event loop share.
#[derive(Debug, Default)]
struct Counters {
    dropped: AtomicU64,
    /// Lines accepted into the queue and not yet written.
    queued: AtomicU64,
    stdout_closed: AtomicBool,
}

/// The sending end of the log, shared by every part of the listener.
#[derive(Debug)]
pub struct LineSink {
    tx: Mutex<Option<SyncSender<(Target, String)>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

impl LineSink {
    /// Starts the writer thread (if it cannot start, every line is counted as dropped: never block).
    pub fn start() -> LineSink {
        let (tx, rx) = mpsc::sync_channel(QUEUE_LINES);
        let counters = Arc::new(Counters::default());
        let theirs = counters.clone();
        let writer = std::thread::Builder::new()
            .name("log".into())
            .spawn(move || write_lines(&rx, &theirs))
            .ok();
        LineSink {
            tx: Mutex::new(writer.is_some().then_some(tx)),
            writer: Mutex::new(writer),
            counters,
        }
    }

    /// Queues a line (without its newline); drops and counts it when the queue is full.
    pub fn send(&self, target: Target, line: String) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tx) = tx.as_ref() else {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = tx.try_send((target, line)) {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether a write to stdout found it closed (its reader went away).
    pub fn stdout_closed(&self) -> bool {
        self.counters.stdout_closed.load(Ordering::Relaxed)
    }

    /// Stops taking lines and lets the writer finish: for as long as it needs when `wait_all` (the NDJSON on
    /// stdout must be complete before the summary follows it), else at most `grace`. Returns how many lines
    /// were dropped, counting those still unwritten then.
    pub fn finish(&self, wait_all: bool, grace: Duration) -> u64 {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = writer {
            let start = Instant::now();
            while !wait_all && !w.is_finished() && start.elapsed() < grace {
                std::thread::sleep(Duration::from_millis(2));
            }
            if wait_all || w.is_finished() {
                let _ = w.join();
            }
        }
        self.counters.dropped.load(Ordering::Relaxed) + self.counters.queued.load(Ordering::Relaxed)
    }
}

/// The writer thread: takes a line, gathers what else is queued, writes it in one go, lets more gather, until
/// the sink closes.
fn write_lines(rx: &Receiver<(Target, String)>, counters: &Counters) {
    // Descriptors of our own: std's stdout/stderr locks stay free for the main thread while this one is
    // blocked on a full pipe.
    let mut out = own(io::stdout().as_fd());
    let mut err = own(io::stderr().as_fd());
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    while let Ok((target, line)) = rx.recv() {
        let mut lines = 1;
        push(&mut batch, &line);
        // Gather more of the same target, so one write carries many lines.
        let mut next = None;
        while batch.len() < BATCH_BYTES {
            match rx.try_recv() {
                Ok((t, l)) if t == target => {
                    push(&mut batch, &l);
                    lines += 1;
                }
                Ok(other) => {
                    next = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        flush(target, &mut batch, &mut out, &mut err, counters);
        counters.queued.fetch_sub(lines, Ordering::Relaxed);
        if let Some((t, l)) = next {
            push(&mut batch, &l);
            flush(t, &mut batch, &mut out, &mut err, counters);
            counters.queued.fetch_sub(1, Ordering::Relaxed);
        }
        std::thread::sleep(GATHER);
    }
}

fn own(fd: std::os::fd::BorrowedFd<'_>) -> Option<File> {
    fd.try_clone_to_owned().ok().map(File::from)
}

fn push(batch: &mut Vec<u8>, line: &str) {
    batch.extend_from_slice(line.as_bytes());
    batch.push(b'\n');
}

/// Writes the batch to its target; a closed stdout is noted (the listener stops), a failed stderr is not.
fn flush(target: Target, batch: &mut Vec<u8>, out: &mut Option<File>, err: &mut Option<File>, c: &Counters) {
    let file = match target {
        Target::Stdout => out.as_mut(),
        Target::Stderr => err.as_mut(),
    };
    if let Some(f) = file
        && let Err(e) = f.write_all(batch)
        && target == Target::Stdout
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        c.stdout_closed.store(true, Ordering::Relaxed);
    }
    batch.clear();
    if batch.capacity() > 2 * BATCH_BYTES {
        batch.shrink_to(BATCH_BYTES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_beyond_the_queue_are_counted_not_waited_for() {
        // Without a writer (as when the thread could not start), every line is dropped and counted at once.
        let sink = LineSink {
            tx: Mutex::new(None),
            writer: Mutex::new(None),
            counters: Arc::new(Counters::default()),
        };
        for i in 0..10 {
            sink.send(Target::Stderr, format!("line {i}"));
        }
        assert_eq!(sink.finish(false, Duration::ZERO), 10);
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let (tx, rx) = mpsc::sync_channel(3);
        let sink = LineSink {
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(None),
            counters: Arc::new(Counters::default()),
        };
        for i in 0..10 {
            sink.send(Target::Stderr, format!("line {i}"));
        }
        // Three queued and never written (no writer), seven dropped: all ten count as dropped at the end.
        assert_eq!(sink.counters.dropped.load(Ordering::Relaxed), 7);
        assert_eq!(rx.try_iter().count(), 3);
        assert_eq!(sink.finish(false, Duration::ZERO), 10);
    }
}
