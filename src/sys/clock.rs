//! The kernel's clocks as durations since their origins: CLOCK_MONOTONIC for intervals, CLOCK_REALTIME to
//! compare with kernel receive timestamps.

use std::time::Duration;

use rustix::time::{ClockId, Timespec, clock_gettime};

/// Now on the monotonic clock (std's `Instant` hides this value, and trace's timestamps need it).
pub fn monotonic() -> Duration {
    duration(clock_gettime(ClockId::Monotonic))
}

/// Now on the real-time clock, as SO_TIMESTAMPNS stamps packets.
pub fn realtime() -> Duration {
    duration(clock_gettime(ClockId::Realtime))
}

fn duration(ts: Timespec) -> Duration {
    Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_move_forward_and_realtime_is_the_epoch_clock() {
        let a = monotonic();
        let b = monotonic();
        assert!(b >= a);
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let real = realtime();
        assert!(
            real.abs_diff(epoch) < Duration::from_secs(5),
            "{real:?} vs {epoch:?}"
        );
    }
}
