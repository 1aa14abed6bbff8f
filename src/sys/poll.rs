//! Waiting for a socket to become readable (ppoll), for code that does not run on the async runtime.

use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

/// Sleeps until the socket has data or an error queued, or `timeout` passes. A signal interrupting the
/// wait counts as a wake-up: callers loop on their own deadline.
pub fn wait_readable(fd: impl AsFd, timeout: Duration) -> io::Result<()> {
    let mut fds = [PollFd::new(&fd, PollFlags::IN | PollFlags::ERR)];
    let ts = Timespec {
        tv_sec: timeout.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: timeout.subsec_nanos().into(),
    };
    match poll(&mut fds, Some(&ts)) {
        Err(e) if e == rustix::io::Errno::INTR => Ok(()),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

/// Sleeps until any of the sockets is readable, writable (a connect finished) or has an error queued,
/// or `timeout` passes; a signal counts as a wake-up, as in [`wait_readable`].
pub fn wait_any<F: AsFd>(fds: &[F], timeout: Duration) -> io::Result<()> {
    let mut polled: Vec<PollFd<'_>> = fds
        .iter()
        .map(|fd| PollFd::new(fd, PollFlags::IN | PollFlags::OUT | PollFlags::ERR))
        .collect();
    let ts = Timespec {
        tv_sec: timeout.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: timeout.subsec_nanos().into(),
    };
    match poll(&mut polled, Some(&ts)) {
        Err(e) if e == rustix::io::Errno::INTR => Ok(()),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Instant;

    #[test]
    fn waits_out_the_timeout_or_returns_when_data_is_queued() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let started = Instant::now();
        wait_readable(&rx, Duration::from_millis(30)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(25));
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(b"x", rx.local_addr().unwrap()).unwrap();
        let started = Instant::now();
        wait_readable(&rx, Duration::from_secs(10)).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
