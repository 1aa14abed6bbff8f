//! `ScriptedServer`: a hostile DNS server on loopback UDP whose replies a test writes as a function of the
//! query: forged IDs, other questions, replies from another port, records for other names or classes, silence.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_resolver::proto::op::{Message, OpCode, Query};
use hickory_resolver::proto::rr::Record;

use crate::support::addr;
use crate::support::netns::Netns;

/// One datagram the server sends back.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The message.
    pub bytes: Vec<u8>,
    /// Sent from a second socket (another source port) rather than the one queried.
    pub from_other_port: bool,
}

impl Reply {
    /// A datagram from the queried port.
    pub fn new(message: &Message) -> Reply {
        Reply {
            bytes: message.to_vec().expect("encode a scripted reply"),
            from_other_port: false,
        }
    }

    /// The same datagram sent from another source port.
    pub fn via_other_port(mut self) -> Reply {
        self.from_other_port = true;
        self
    }
}

/// A response to `query` with its ID and question and these answer records.
pub fn answer(query: &Message, answers: Vec<Record>) -> Message {
    let mut m = Message::response(query.metadata.id, OpCode::Query);
    m.metadata.recursion_desired = query.metadata.recursion_desired;
    for q in &query.queries {
        m.add_query(q.clone());
    }
    m.insert_answers(answers);
    m
}

/// A response with the query's ID to another question.
pub fn answer_to(query: &Message, question: Query, answers: Vec<Record>) -> Message {
    let mut m = Message::response(query.metadata.id, OpCode::Query);
    m.add_query(question);
    m.insert_answers(answers);
    m
}

type Script = dyn Fn(&Message) -> Vec<Reply> + Send + Sync;

/// The server: serves until dropped; counts the queries it received.
pub struct ScriptedServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    queries: Arc<AtomicU32>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedServer {
    /// Starts on `127.0.0.1:<free port>` in the host namespace (no root needed).
    pub fn loopback(script: impl Fn(&Message) -> Vec<Reply> + Send + Sync + 'static) -> ScriptedServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the scripted DNS server");
        let other = UdpSocket::bind("127.0.0.1:0").expect("bind the scripted server's second port");
        Self::start(socket, other, Arc::new(script))
    }

    /// Starts inside `ns` on the lab DNS address (port 53), which the namespace's resolv.conf names, so the
    /// system resolver there meets the same script.
    pub fn start_in(
        ns: &Netns,
        script: impl Fn(&Message) -> Vec<Reply> + Send + Sync + 'static,
    ) -> ScriptedServer {
        ns.ip_batch(&format!("addr replace {}/32 dev lo\n", addr::LAB_DNS_V4));
        let at = SocketAddr::from((addr::LAB_DNS_V4, 53));
        // Sockets keep the namespace they were created in, so only the bind happens inside.
        let (socket, other) = ns.enter(|| {
            let socket = UdpSocket::bind(at).expect("bind the scripted DNS server in the namespace");
            let other = UdpSocket::bind((addr::LAB_DNS_V4, 0)).expect("bind the second port");
            (socket, other)
        });
        Self::start(socket, other, Arc::new(script))
    }

    fn start(socket: UdpSocket, other: UdpSocket, script: Arc<Script>) -> ScriptedServer {
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("read timeout");
        let addr = socket.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(AtomicU32::new(0));
        let thread = {
            let (stop, queries) = (stop.clone(), queries.clone());
            std::thread::spawn(move || serve(&socket, &other, &*script, &stop, &queries))
        };
        ScriptedServer {
            addr,
            stop,
            queries,
            thread: Some(thread),
        }
    }

    /// The address queried.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many queries arrived so far.
    pub fn queries(&self) -> u32 {
        self.queries.load(Ordering::Relaxed)
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers as the script says until `stop`; each wait is short so the loop notices `stop` quickly.
fn serve(socket: &UdpSocket, other: &UdpSocket, script: &Script, stop: &AtomicBool, queries: &AtomicU32) {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Ok(query) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        queries.fetch_add(1, Ordering::Relaxed);
        for reply in script(&query) {
            let via = if reply.from_other_port { other } else { socket };
            let _ = via.send_to(&reply.bytes, from);
        }
    }
}
