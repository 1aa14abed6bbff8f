//! Ctrl-C during resolve: SIGINT sets a flag instead of killing the process, so the run can print what it
//! has, name what it did not do, and exit 130.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, mpsc};
use std::time::Duration;

use crate::error::{Error, Result};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALLED: Once = Once::new();

/// How often a waiting task looks at the flag.
const POLL: Duration = Duration::from_millis(25);

/// Catches SIGINT from now on (once per process); returns when the handler is in place.
pub fn catch() -> Result<()> {
    let mut result = Ok(());
    INSTALLED.call_once(|| result = install());
    result
}

fn install() -> Result<()> {
    let (ready, installed) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(r) => r,
            Err(e) => return drop(ready.send(Err(e))),
        };
        runtime.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let mut sigint = match signal(SignalKind::interrupt()) {
                Ok(s) => s,
                Err(e) => return drop(ready.send(Err(e))),
            };
            let _ = ready.send(Ok(()));
            sigint.recv().await;
            INTERRUPTED.store(true, Ordering::SeqCst);
        });
    });
    match installed.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::io("installing the SIGINT handler", e)),
        Err(_) => Err(Error::System("the SIGINT handler thread ended early".into())),
    }
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Resolves when Ctrl-C is pressed (never, when it is not).
pub async fn wait() {
    while !interrupted() {
        tokio::time::sleep(POLL).await;
    }
}

/// Blocks for at most `limit`; returns early when Ctrl-C is pressed.
pub fn sleep_unless_interrupted(limit: Duration) {
    let end = std::time::Instant::now() + limit;
    while !interrupted() && std::time::Instant::now() < end {
        std::thread::sleep(POLL.min(end.saturating_duration_since(std::time::Instant::now())));
    }
}
