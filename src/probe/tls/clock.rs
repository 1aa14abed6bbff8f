//! Phase timing from monotonic timestamps: each phase is the time between two consecutive marks, so the
//! phases add up to the total exactly.

use std::time::Duration;

use tokio::time::Instant;

use super::session::Phase;

/// The phases so far and the last mark.
#[derive(Debug)]
pub struct Clock {
    phases: Vec<(Phase, Duration)>,
    last: Instant,
}

impl Clock {
    /// Starts at `start` (the connect's start), after the name lookup that took `lookup`.
    pub fn start(lookup: Duration, start: Instant) -> Self {
        Clock {
            phases: vec![(Phase::Lookup, lookup)],
            last: start,
        }
    }

    /// Ends `phase` now.
    pub fn mark(&mut self, phase: Phase) {
        let now = Instant::now();
        self.phases.push((phase, now - self.last));
        self.last = now;
    }

    /// Ends `phase` at `at` (a timestamp taken when its event happened).
    pub fn mark_at(&mut self, phase: Phase, at: Instant) {
        let at = at.max(self.last);
        self.phases.push((phase, at - self.last));
        self.last = at;
    }

    /// The phases.
    pub fn into_phases(self) -> Vec<(Phase, Duration)> {
        self.phases
    }
}
