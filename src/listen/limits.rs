//! Abuse limits of the TCP accept loop (pure: every call is given the time): how many connections one source may
//! hold, and a log of refusals that writes one line per source per interval, not one per connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Refusals of one source are logged at most once per this interval.
pub const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);
/// Sources whose refusals are remembered; beyond this, stale entries are dropped, then refusals of new sources
/// are only counted (a flood from many addresses must not grow the table without bound).
const MAX_REFUSING_SOURCES: usize = 4096;

/// The unit one limit applies to: an IPv4 address, or an IPv6 /64 (one host commonly holds a whole /64, so a
/// per-address limit would not bind it).
pub fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
    }
}

/// Connections held per source, each source allowed at most `max`.
#[derive(Debug)]
pub struct SourceSlots {
    max: usize,
    held: HashMap<IpAddr, usize>,
}

impl SourceSlots {
    /// No connection held yet; each source may hold `max`.
    pub fn new(max: usize) -> Self {
        SourceSlots {
            max: max.max(1),
            held: HashMap::new(),
        }
    }

    /// Takes a slot for a connection from `ip`; false when its source already holds `max`.
    pub fn take(&mut self, ip: IpAddr) -> bool {
        let n = self.held.entry(source_of(ip)).or_insert(0);
        if *n >= self.max {
            return false;
        }
        *n += 1;
        true
    }

    /// Gives back the slot of a connection from `ip` that ended.
    pub fn release(&mut self, ip: IpAddr) {
        let key = source_of(ip);
        if let Some(n) = self.held.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.held.remove(&key);
            }
        }
    }

    /// Connections held by the source of `ip`.
    #[cfg(test)]
    pub fn held(&self, ip: IpAddr) -> usize {
        self.held.get(&source_of(ip)).copied().unwrap_or(0)
    }
}

/// When a source's refusals were last logged, and how many came since.
#[derive(Debug, Clone, Copy)]
struct Refusing {
    logged_at: Duration,
    since: u64,
}

/// Decides which refusals get a log line: the first of a source, then one per interval carrying the count of those
/// not logged in between.
#[derive(Debug, Default)]
pub struct RefusalLog {
    sources: HashMap<IpAddr, Refusing>,
}

impl RefusalLog {
    /// An empty log.
    pub fn new() -> Self {
        RefusalLog::default()
    }

    /// Notes a refusal of `ip` at `now`. Some(n): log a line now, n refusals of this source having gone unlogged
    /// since its last line; None: only count it.
    pub fn note(&mut self, ip: IpAddr, now: Duration) -> Option<u64> {
        let key = source_of(ip);
        if let Some(r) = self.sources.get_mut(&key) {
            if now.saturating_sub(r.logged_at) < REFUSAL_LOG_INTERVAL {
                r.since += 1;
                return None;
            }
            let unlogged = r.since;
            *r = Refusing {
                logged_at: now,
                since: 0,
            };
            return Some(unlogged);
        }
        if self.sources.len() >= MAX_REFUSING_SOURCES {
            self.sources
                .retain(|_, r| now.saturating_sub(r.logged_at) < REFUSAL_LOG_INTERVAL);
            if self.sources.len() >= MAX_REFUSING_SOURCES {
                return None;
            }
        }
        self.sources.insert(
            key,
            Refusing {
                logged_at: now,
                since: 0,
            },
        );
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_source_holds_at_most_its_share_and_gets_slots_back() {
        let mut s = SourceSlots::new(2);
        assert!(s.take(ip("127.0.0.2")));
        assert!(s.take(ip("127.0.0.2")));
        assert!(!s.take(ip("127.0.0.2")));
        assert!(s.take(ip("127.0.0.3")), "another source has its own share");
        s.release(ip("127.0.0.2"));
        assert!(s.take(ip("127.0.0.2")));
        assert_eq!(s.held(ip("127.0.0.2")), 2);
        s.release(ip("127.0.0.3"));
        s.release(ip("127.0.0.3")); // a second release of nothing held does not underflow
        assert_eq!(s.held(ip("127.0.0.3")), 0);
    }

    #[test]
    fn ipv6_sources_are_64_prefixes() {
        let mut s = SourceSlots::new(1);
        assert!(s.take(ip("2001:db8:1:2::1")));
        assert!(!s.take(ip("2001:db8:1:2:ffff::9")), "same /64");
        assert!(s.take(ip("2001:db8:1:3::1")), "another /64");
        assert_eq!(source_of(ip("203.0.113.9")), ip("203.0.113.9"));
    }

    #[test]
    fn refusals_are_logged_once_per_source_per_interval_with_the_count() {
        let mut log = RefusalLog::new();
        let a = ip("127.0.0.2");
        assert_eq!(log.note(a, secs(0)), Some(0));
        assert_eq!((0..100).filter_map(|_| log.note(a, secs(1))).count(), 0);
        assert_eq!(log.note(ip("127.0.0.3"), secs(1)), Some(0), "each source its own");
        assert_eq!(log.note(a, secs(10)), Some(100));
        assert_eq!(log.note(a, secs(11)), None);
        assert_eq!(log.note(a, secs(25)), Some(1));
    }

    #[test]
    fn many_refusing_sources_stay_bounded() {
        let mut log = RefusalLog::new();
        for i in 0..MAX_REFUSING_SOURCES as u32 + 10 {
            let addr = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            log.note(addr, secs(0));
        }
        assert_eq!(log.sources.len(), MAX_REFUSING_SOURCES);
        // Once the old entries are stale, new sources are logged again.
        assert_eq!(log.note(ip("192.0.2.1"), secs(60)), Some(0));
        assert_eq!(log.sources.len(), 1);
    }
}
