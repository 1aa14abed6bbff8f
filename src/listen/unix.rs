//! Unix domain sockets: the stream accept loop (each client named by the pid/uid/gid the kernel recorded at
//! connect, then served by the same mode code as TCP) and the datagram loop (each sender path and process one
//! peer, answered within the same rules as UDP).

use std::rc::Rc;
use std::time::Instant;

use tokio::io::Interest;
use tokio::net::{UnixDatagram, UnixListener};

use super::endpoint::{Cred, Endpoint};
use super::log::Event;
use super::modes::udp_answer;
use super::session::Proto;
use super::state::{Refusal, Shared};
use super::stream::Stream;
use super::tcp;
use super::udp::peer_session;
use crate::sys::unixmsg;

/// Room for the largest datagram.
const MAX_DATAGRAM: usize = 65_536;

/// Accepts Unix stream clients until the listener stops, spawning a task for each.
pub async fn accept_loop(listener: UnixListener, local: Endpoint, shared: Rc<Shared>) {
    let mut last_warning: Option<Instant> = None;
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tcp::accept_failed(&shared, &e, &mut last_warning).await;
                continue;
            }
        };
        let cred = stream.peer_cred().ok().map(|c| Cred {
            pid: c.pid(),
            uid: c.uid(),
            gid: c.gid(),
        });
        let peer = Endpoint::unix_client(addr.as_pathname(), cred);
        if shared.ledger.borrow().open_tcp() >= shared.cfg.max_conns {
            // Closed at once: the client reads an end of stream before anything else.
            drop(stream);
            shared.refused(Proto::Unix, peer, local.clone(), Refusal::MaxConns);
            continue;
        }
        let id = tcp::admit(&shared, Proto::Unix, &peer, &local);
        tokio::task::spawn_local(tcp::serve(
            Stream::Unix(stream),
            id,
            peer,
            local.clone(),
            shared.clone(),
        ));
    }
}

/// Receives and answers datagrams on a Unix datagram socket until the listener stops, each sender named by its
/// path and the process the kernel vouches for (SCM_CREDENTIALS). A sender that did not bind a path cannot be
/// answered (there is no address to send to); it is counted all the same.
pub async fn serve_datagrams(sock: UnixDatagram, index: usize, local: Endpoint, shared: Rc<Shared>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let Ok(got) = sock
            .async_io(Interest::READABLE, || unixmsg::recv(&sock, &mut buf))
            .await
        else {
            continue;
        };
        let path = got.path.as_deref();
        let cred = got.cred.map(|c| Cred {
            pid: c.pid,
            uid: c.uid,
            gid: c.gid,
        });
        let peer = Endpoint::unix_client(path, cred);
        let key = (index, peer.clone());
        let (id, allowed) = peer_session(&shared, key, Proto::Unixgram, &peer, &local);
        let data = &buf[..got.len];
        shared.received(id, data, true);
        let (Some(answer), Some(path)) = (udp_answer(&shared.cfg.mode, data), path) else {
            continue;
        };
        if !allowed {
            if shared.ledger.borrow_mut().rate_limited(id) {
                let e = Event::rate_limited(Proto::Unixgram, peer, local.clone(), shared.cfg.udp_rate);
                shared.emit(&e);
            }
            continue;
        }
        // A full receive queue at the sender drops the answer, as for UDP: never queued here.
        if let Ok(sent) = sock.try_send_to(answer, path) {
            shared.ledger.borrow_mut().datagram_out(id, sent);
        }
    }
}
