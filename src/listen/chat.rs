//! --mode chat: the room every TCP client is in. Each line a client sends goes to every other client, prefixed
//! with the sender; joins and leaves are announced. Each member has a bounded queue: a member whose queue is
//! full (it does not read) is dropped, so a slow reader never holds up the others (pure, but for the wake-ups).

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use tokio::sync::Notify;

use super::session::SessionId;

/// One member: what waits to be sent to it.
#[derive(Debug, Default)]
struct Member {
    queue: VecDeque<Rc<[u8]>>,
    /// Bytes queued, less what of the first message was sent.
    bytes: usize,
    /// Bytes of the first message already sent.
    sent: usize,
    wake: Rc<Notify>,
    dropped: bool,
}

/// Everyone in the chat.
#[derive(Debug)]
pub struct Room {
    members: HashMap<SessionId, Member>,
    limit: usize,
}

impl Room {
    /// An empty room whose members may each have `limit` bytes waiting.
    pub fn new(limit: usize) -> Self {
        Room {
            members: HashMap::new(),
            limit: limit.max(1),
        }
    }

    /// Adds a member; the returned Notify wakes its task when something is queued for it or it is dropped.
    pub fn join(&mut self, id: SessionId) -> Rc<Notify> {
        let m = self.members.entry(id).or_default();
        m.wake.clone()
    }

    /// Removes a member.
    pub fn leave(&mut self, id: SessionId) {
        self.members.remove(&id);
    }

    /// Queues `msg` for every member but `from`; returns those dropped now because their queue was full.
    pub fn broadcast(&mut self, from: Option<SessionId>, msg: &Rc<[u8]>) -> Vec<SessionId> {
        let mut dropped = Vec::new();
        for (id, m) in self.members.iter_mut() {
            if Some(*id) == from || m.dropped {
                continue;
            }
            if m.bytes + msg.len() > self.limit {
                // Its queue is full: it goes, and its queue with it (nothing more will be sent to it).
                m.dropped = true;
                m.queue.clear();
                m.bytes = 0;
                dropped.push(*id);
            } else {
                m.queue.push_back(msg.clone());
                m.bytes += msg.len();
            }
            m.wake.notify_one();
        }
        dropped.sort_unstable();
        dropped
    }

    /// Whether the member was dropped for not reading.
    pub fn is_dropped(&self, id: SessionId) -> bool {
        self.members.get(&id).is_some_and(|m| m.dropped)
    }

    /// What is to be sent to the member next (the unsent rest of its first message).
    pub fn pending(&self, id: SessionId) -> Option<&[u8]> {
        let m = self.members.get(&id)?;
        m.queue.front().map(|msg| &msg[m.sent..])
    }

    /// Up to `max` queued messages for the member, the first without what was sent of it: one write for many.
    pub fn pending_batch(&self, id: SessionId, max: usize) -> Vec<&[u8]> {
        let Some(m) = self.members.get(&id) else {
            return Vec::new();
        };
        m.queue
            .iter()
            .take(max)
            .enumerate()
            .map(|(i, msg)| if i == 0 { &msg[m.sent..] } else { &msg[..] })
            .collect()
    }

    /// Records that `n` bytes of the member's pending messages were sent (they may span several).
    pub fn sent(&mut self, id: SessionId, mut n: usize) {
        let Some(m) = self.members.get_mut(&id) else {
            return;
        };
        m.bytes = m.bytes.saturating_sub(n);
        while let Some(front) = m.queue.front() {
            let left = front.len() - m.sent;
            if n < left {
                m.sent += n;
                break;
            }
            n -= left;
            m.queue.pop_front();
            m.sent = 0;
        }
        if m.queue.is_empty() {
            // Released, not kept: a burst must not leave each member holding its peak.
            m.queue = VecDeque::new();
        }
    }
}

/// Splits complete lines off `partial` (each with its newline); a line longer than `max` is cut at `max` so one
/// client cannot make the listener hold an endless line.
pub fn take_lines(partial: &mut Vec<u8>, max: usize) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    loop {
        let cut = match partial.iter().position(|b| *b == b'\n') {
            Some(i) if i < max => i + 1,
            _ if partial.len() >= max => max,
            _ => break,
        };
        let rest = partial.split_off(cut);
        lines.push(std::mem::replace(partial, rest));
    }
    lines
}

/// `[PEER] LINE` with a newline at the end (added when the line was cut).
pub fn said(peer: &str, line: &[u8]) -> Rc<[u8]> {
    let mut msg = format!("[{peer}] ").into_bytes();
    msg.extend_from_slice(line);
    if !line.ends_with(b"\n") {
        msg.push(b'\n');
    }
    msg.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> Rc<[u8]> {
        Rc::from(s.as_bytes())
    }

    #[test]
    fn lines_go_to_everyone_but_the_sender_in_order() {
        let mut room = Room::new(100);
        for id in 1..=3 {
            room.join(id);
        }
        assert!(room.broadcast(Some(1), &msg("a\n")).is_empty());
        assert!(room.broadcast(Some(2), &msg("b\n")).is_empty());
        assert_eq!(room.pending(1), Some(&b"b\n"[..]));
        assert_eq!(room.pending(2), Some(&b"a\n"[..]));
        room.sent(3, 1);
        assert_eq!(room.pending(3), Some(&b"\n"[..]), "a partial write resumes");
        room.sent(3, 1);
        assert_eq!(room.pending(3), Some(&b"b\n"[..]));
        room.sent(3, 2);
        assert_eq!(room.pending(3), None);
        room.broadcast(Some(1), &msg("cc\n"));
        room.broadcast(Some(1), &msg("dd\n"));
        room.sent(3, 4);
        assert_eq!(
            room.pending_batch(3, 8),
            vec![&b"d\n"[..]],
            "a write spanning two messages"
        );
    }

    #[test]
    fn a_member_whose_queue_is_full_is_dropped_and_the_others_are_not_held_up() {
        let mut room = Room::new(10);
        room.join(1);
        room.join(2);
        room.join(3);
        for _ in 0..3 {
            // Member 3 reads everything at once; member 2 never reads.
            assert!(room.broadcast(Some(1), &msg("abcd\n")).is_empty() || room.is_dropped(2));
            while let Some(p) = room.pending(3).map(<[u8]>::len) {
                room.sent(3, p);
            }
        }
        assert!(room.is_dropped(2));
        assert!(!room.is_dropped(3));
        assert_eq!(
            room.pending(2),
            None,
            "nothing more is queued for a dropped member"
        );
        assert!(room.broadcast(Some(1), &msg("more\n")).is_empty(), "dropped once");
        room.leave(2);
        assert!(!room.is_dropped(2));
    }

    #[test]
    fn lines_are_split_and_overlong_ones_cut() {
        let mut partial = b"one\ntwo\nthr".to_vec();
        assert_eq!(
            take_lines(&mut partial, 100),
            vec![b"one\n".to_vec(), b"two\n".to_vec()]
        );
        assert_eq!(partial, b"thr");
        let mut long = vec![b'x'; 25];
        let cut = take_lines(&mut long, 10);
        assert_eq!(cut.len(), 2);
        assert_eq!(long.len(), 5);
        assert_eq!(&*said("127.0.0.1:5", b"hi"), b"[127.0.0.1:5] hi\n");
        assert_eq!(&*said("p", b"hi\n"), b"[p] hi\n");
    }
}
