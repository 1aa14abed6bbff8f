//! UDP: one loop per socket receiving datagrams, tracking peers as sessions and answering within the rules
//! (never more bytes than received, at most --udp-rate answers per second per peer, never queued).

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::time::Duration;

use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::bind::{unmap, unmap_ip};
use super::endpoint::Endpoint;
use super::log::Event;
use super::modes::udp_answer;
use super::session::{EndKind, Proto, SessionId};
use super::state::{PeerKey, Shared};
use crate::sys::pktinfo::{self, Arrival, Received};

/// Room for the largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;

/// Receives and answers datagrams on one socket until the listener stops.
pub async fn serve(sock: UdpSocket, index: usize, bound: SocketAddr, shared: Rc<Shared>) {
    let fd = sock.as_fd();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let got = sock
            .async_io(Interest::READABLE, || pktinfo::recv(fd, &mut buf))
            .await;
        // A receive error (a queued ICMP error, memory pressure) concerns no datagram: keep serving.
        if let Ok(r) = got {
            take_datagram(&shared, fd, index, bound, &buf[..r.len], &r);
        }
    }
}

/// Forgets idle UDP peers now and then, closing their sessions.
pub async fn sweep_loop(shared: Rc<Shared>) {
    let Some(idle) = shared.cfg.idle_timeout else {
        return;
    };
    let period = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        shared.expire_udp_peers();
    }
}

/// Counts one datagram against its peer's session (opening one for a new peer) and answers it as the mode and the
/// rate limit allow.
fn take_datagram(
    shared: &Shared,
    fd: BorrowedFd<'_>,
    index: usize,
    bound: SocketAddr,
    data: &[u8],
    r: &Received,
) {
    let peer = unmap(r.peer);
    let local = r
        .arrival
        .map(|a| SocketAddr::new(unmap_ip(a.dst), bound.port()))
        .unwrap_or(bound);
    let (peer, local) = (Endpoint::Ip(peer), Endpoint::Ip(local));
    let (id, allowed) = peer_session(shared, (index, Endpoint::Ip(r.peer)), Proto::Udp, &peer, &local);
    shared.received(id, data, true);
    let Some(answer) = udp_answer(&shared.cfg.mode, data) else {
        return;
    };
    if !allowed {
        if shared.ledger.borrow_mut().rate_limited(id) {
            shared.emit(&Event::rate_limited(Proto::Udp, peer, local, shared.cfg.udp_rate));
        }
        return;
    }
    let from = r.arrival.filter(answerable);
    // A full send buffer drops the answer: UDP promises nothing, and queueing would grow without bound.
    if let Ok(n) = pktinfo::send(fd, answer, r.peer, from.as_ref()) {
        shared.ledger.borrow_mut().datagram_out(id, n);
    }
}

/// The peer's session (opening one, and evicting the idlest peer when the table is full) and whether its
/// rate limit allows an answer now.
pub(super) fn peer_session(
    shared: &Shared,
    key: PeerKey,
    proto: Proto,
    peer: &Endpoint,
    local: &Endpoint,
) -> (SessionId, bool) {
    let now = shared.now();
    if let Some(p) = shared.peers.borrow_mut().touch(&key, now) {
        return (p.session, p.bucket.take(now));
    }
    let id = shared.open(proto, peer.clone(), local.clone());
    let evicted = shared.peers.borrow_mut().insert(key.clone(), id, now);
    if let Some(old) = evicted {
        shared.close(old, EndKind::Evicted.into());
    }
    let allowed = shared
        .peers
        .borrow_mut()
        .touch(&key, now)
        .is_some_and(|p| p.bucket.take(now));
    (id, allowed)
}

/// Whether an answer can be sent from the address the datagram arrived at (not from a multicast group).
fn answerable(a: &Arrival) -> bool {
    match a.reply_from {
        IpAddr::V4(v4) => !v4.is_unspecified() && !v4.is_multicast() && !v4.is_broadcast(),
        IpAddr::V6(v6) => !v6.is_unspecified() && !v6.is_multicast(),
    }
}
