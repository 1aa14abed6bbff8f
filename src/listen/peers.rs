//! The bounded table of UDP peers: least recently active forgotten first, idle ones expired, and a token
//! bucket per peer limiting answers (pure: every call is given the time).

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::time::Duration;

use super::session::SessionId;

/// Allows `rate` events per second with bursts of up to `rate`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket at time `now`.
    pub fn new(rate: u32, now: Duration) -> Self {
        TokenBucket {
            rate: f64::from(rate.max(1)),
            tokens: f64::from(rate.max(1)),
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Duration) -> bool {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the table holds per peer.
#[derive(Debug)]
pub struct Peer {
    /// The peer's session in the ledger.
    pub session: SessionId,
    /// Limits answers to this peer.
    pub bucket: TokenBucket,
    seq: u64,
    last: Duration,
}

/// UDP peers by key, at most `max` of them.
#[derive(Debug)]
pub struct PeerTable<K> {
    max: usize,
    rate: u32,
    peers: HashMap<K, Peer>,
    /// (activity sequence, key): the first entry is the peer idle the longest.
    order: BTreeSet<(u64, K)>,
    seq: u64,
}

impl<K: Hash + Ord + Clone> PeerTable<K> {
    /// An empty table for at most `max` peers, each allowed `rate` answers per second.
    pub fn new(max: usize, rate: u32) -> Self {
        PeerTable {
            max: max.max(1),
            rate,
            peers: HashMap::new(),
            order: BTreeSet::new(),
            seq: 0,
        }
    }

    /// The peer, marked active at `now`; None for a peer not in the table.
    pub fn touch(&mut self, key: &K, now: Duration) -> Option<&mut Peer> {
        let peer = self.peers.get_mut(key)?;
        self.order.remove(&(peer.seq, key.clone()));
        self.seq += 1;
        peer.seq = self.seq;
        peer.last = now;
        self.order.insert((peer.seq, key.clone()));
        Some(peer)
    }

    /// Adds a new peer (active at `now`); when full, first forgets the peer idle the longest and returns its session.
    pub fn insert(&mut self, key: K, session: SessionId, now: Duration) -> Option<SessionId> {
        let evicted = if self.peers.len() >= self.max && !self.peers.contains_key(&key) {
            let (_, oldest) = self.order.pop_first()?;
            self.peers.remove(&oldest).map(|p| p.session)
        } else {
            None
        };
        self.seq += 1;
        if let Some(old) = self.peers.insert(
            key.clone(),
            Peer {
                session,
                bucket: TokenBucket::new(self.rate, now),
                seq: self.seq,
                last: now,
            },
        ) {
            self.order.remove(&(old.seq, key.clone()));
        }
        self.order.insert((self.seq, key));
        evicted
    }

    /// Forgets the peers silent for at least `idle` at `now` and returns their sessions, idlest first.
    pub fn expire(&mut self, now: Duration, idle: Duration) -> Vec<SessionId> {
        let mut gone = Vec::new();
        while let Some((_, key)) = self.order.first() {
            let peer = &self.peers[key];
            if now.saturating_sub(peer.last) < idle {
                break;
            }
            let (_, key) = self.order.pop_first().expect("first exists");
            gone.extend(self.peers.remove(&key).map(|p| p.session));
        }
        gone
    }

    /// How many peers are tracked.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is tracked.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let mut b = TokenBucket::new(10, ms(0));
        let burst = (0..100).filter(|_| b.take(ms(0))).count();
        assert_eq!(burst, 10);
        assert!(!b.take(ms(50)), "half a token after 50 ms");
        assert!(b.take(ms(100)), "one token after 100 ms");
        assert!(!b.take(ms(100)));
        // Over one second at 1000 tries per second, about `rate` more get through, never more than the bucket holds.
        let passed = (1..=1000).filter(|i| b.take(ms(100 + i))).count();
        assert_eq!(passed, 10);
        // A long pause refills only up to the burst.
        let burst = (0..100).filter(|_| b.take(ms(60_000))).count();
        assert_eq!(burst, 10);
        // Time going backwards does not mint tokens.
        assert!(!b.take(ms(0)));
    }

    #[test]
    fn full_table_forgets_the_least_recently_active() {
        let mut t = PeerTable::new(2, 5);
        assert_eq!(t.insert("a", 1, ms(0)), None);
        assert_eq!(t.insert("b", 2, ms(1)), None);
        assert_eq!(t.touch(&"a", ms(2)).map(|p| p.session), Some(1));
        assert_eq!(t.insert("c", 3, ms(3)), Some(2), "b was idle the longest");
        assert!(t.touch(&"b", ms(4)).is_none());
        assert_eq!(t.insert("d", 4, ms(5)), Some(1));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn idle_peers_expire_in_order() {
        let mut t = PeerTable::new(10, 5);
        t.insert(1, 10, ms(0));
        t.insert(2, 20, ms(100));
        t.insert(3, 30, ms(200));
        t.touch(&1, ms(250));
        assert_eq!(t.expire(ms(300), ms(150)), vec![20]);
        assert_eq!(t.expire(ms(1000), ms(150)), vec![30, 10]);
        assert!(t.is_empty());
    }

    #[test]
    fn each_peer_has_its_own_bucket() {
        let mut t = PeerTable::new(10, 2);
        t.insert("a", 1, ms(0));
        t.insert("b", 2, ms(0));
        let a = (0..5)
            .filter(|_| t.touch(&"a", ms(0)).unwrap().bucket.take(ms(0)))
            .count();
        let b = (0..5)
            .filter(|_| t.touch(&"b", ms(0)).unwrap().bucket.take(ms(0)))
            .count();
        assert_eq!((a, b), (2, 2));
    }
}
