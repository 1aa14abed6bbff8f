//! Ctrl-C for code that does not run on the async runtime: a SIGINT handler that only sets a flag, so
//! a blocking loop can finish its report instead of dying with nothing printed.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

static CAUGHT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: the one thing a signal handler may safely do here.
    CAUGHT.store(true, Ordering::SeqCst);
}

/// Installs the handler. Without SA_RESTART, so a poll() in progress returns EINTR at once and the
/// caller sees the flag without waiting for its timeout; with SA_RESETHAND, so a second Ctrl-C ends the
/// process at once if the report is slow to come.
pub fn catch() -> io::Result<()> {
    // SAFETY: a zeroed sigaction is valid; the handler only stores to an atomic (async-signal-safe).
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = libc::SA_RESETHAND;
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether SIGINT arrived since [`catch`].
pub fn caught() -> bool {
    CAUGHT.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_sigint_sets_the_flag_instead_of_ending_the_process() {
        catch().unwrap();
        // SAFETY: raising a signal whose handler was just installed.
        unsafe { libc::raise(libc::SIGINT) };
        assert!(caught());
    }
}
