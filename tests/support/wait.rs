//! Bounded polling, so the lab waits for readiness instead of sleeping a fixed time.

use std::thread;
use std::time::{Duration, Instant};

/// Polls `check` every `step` until it returns `Some` or `timeout` passes; `None` on timeout.
pub fn poll<T>(timeout: Duration, step: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(step);
    }
}

/// Like [`poll`] for a boolean condition; panics naming `what` when it never holds.
pub fn until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    if poll(timeout, Duration::from_millis(10), || check().then_some(())).is_none() {
        panic!("lab: timed out after {timeout:?} waiting for {what}");
    }
}

/// Milliseconds as a `Duration`, for short scenario tables.
pub const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
