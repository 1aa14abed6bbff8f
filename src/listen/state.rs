//! What every task of the event loop shares: the settings, the ledger, the UDP peer table, the log, one scratch
//! buffer, and the request to stop. Single-threaded (one event loop), so plain RefCells suffice.

use super::endpoint::Endpoint;
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::Serialize;
use tokio::sync::Notify;

use super::chat::Room;
use super::config::Config;
use super::format::rfc3339;
use super::http_tcp::Canned;
use super::limits::{REFUSAL_LOG_INTERVAL, RefusalLog, SourceSlots};
use super::log::{Event, Logger};
use super::peers::PeerTable;
use super::save::Saver;
use super::session::{End, EndKind, Ledger, Proto, Session, SessionId};
use super::show::{DataShown, allowance, base64};

/// Why the listener stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// SIGINT (Ctrl-C).
    Sigint,
    /// SIGTERM.
    Sigterm,
    /// --once: the first TCP client is done.
    Once,
    /// --clients N: N TCP clients are done.
    Clients,
    /// --deadline passed.
    Deadline,
    /// The reader of the NDJSON on stdout went away.
    OutputClosed,
}

/// Which limit turned a TCP connection away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// --max-conns connections were open.
    MaxConns,
    /// Its source held --max-conns-per-address connections.
    PerAddress,
}

/// A UDP peer's key: which UDP socket it talks to, and its address as the kernel gave it.
pub type PeerKey = (usize, Endpoint);

/// State shared by the accept loops, connection tasks and UDP loops.
pub struct Shared {
    /// The validated settings.
    pub cfg: Config,
    /// Every session.
    pub ledger: RefCell<Ledger>,
    /// UDP peers being tracked.
    pub peers: RefCell<PeerTable<PeerKey>>,
    /// Where events go.
    pub log: Logger,
    /// Read buffer lent to whichever task is reading (never held across an await), so idle connections own none.
    pub scratch: RefCell<Vec<u8>>,
    /// TCP connections held per source.
    pub slots: RefCell<SourceSlots>,
    refusals: RefCell<RefusalLog>,
    start: Instant,
    stop: Notify,
    released: Cell<usize>,
    /// Lines typed on stdin (--interactive), lent to the client being talked to.
    pub typed: RefCell<Option<super::interactive::Typed>>,
    /// The chat room (--mode chat).
    pub room: RefCell<Room>,
    /// --mode http --reply: the answer, built once.
    pub http_reply: Option<Canned>,
    saver: RefCell<Option<Saver>>,
    save_failed: Cell<bool>,
    stop_reason: Cell<Option<StopReason>>,
}

impl Shared {
    /// Fresh state for a run starting now, saving what clients send with `saver` (--save).
    pub fn new(cfg: Config, saver: Option<Saver>) -> Self {
        let peers = PeerTable::new(cfg.max_udp_peers, cfg.udp_rate);
        Shared {
            log: cfg.log.clone(),
            scratch: RefCell::new(vec![0; cfg.max_buffer]),
            ledger: RefCell::new(Ledger::new()),
            peers: RefCell::new(peers),
            slots: RefCell::new(SourceSlots::new(cfg.max_per_address())),
            refusals: RefCell::new(RefusalLog::new()),
            start: Instant::now(),
            stop: Notify::new(),
            released: Cell::new(0),
            room: RefCell::new(Room::new(cfg.max_buffer)),
            http_reply: match &cfg.mode {
                super::modes::Mode::Http(Some(text)) => Some(Canned::new(text)),
                _ => None,
            },
            typed: RefCell::new(
                matches!(cfg.mode, super::modes::Mode::Interactive).then(super::interactive::read_stdin),
            ),
            saver: RefCell::new(saver),
            save_failed: Cell::new(false),
            stop_reason: Cell::new(None),
            cfg,
        }
    }

    /// Time since the listener started.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Starts a session and logs it.
    pub fn open(&self, proto: Proto, peer: Endpoint, local: Endpoint) -> SessionId {
        let mut ledger = self.ledger.borrow_mut();
        let id = ledger.open(proto, peer, local, self.now(), SystemTime::now());
        let opened = ledger.get(id).map(Event::opened);
        drop(ledger);
        if let Some(e) = opened {
            self.emit(&e);
        }
        id
    }

    /// Logs an event; when the NDJSON reader has gone away, the listener stops (there is no one to tell).
    pub fn emit(&self, e: &Event) {
        self.log.log(e);
        if self.log.output_closed() {
            self.request_stop(StopReason::OutputClosed);
        }
    }

    /// Counts what a session received (a datagram when `datagram`), saves it (--save) and shows it (--show).
    pub fn received(&self, id: SessionId, data: &[u8], datagram: bool) {
        let mut ledger = self.ledger.borrow_mut();
        let Some(s) = ledger.get(id) else { return };
        if let Some(saver) = self.saver.borrow_mut().as_mut()
            && let Err(e) = saver.write(s, data)
        {
            self.save_failed(&e);
        }
        let shown = self.cfg.show.and_then(|style| {
            let n = allowance(s.shown_bytes, data.len(), self.cfg.show_max);
            (n > 0).then(|| DataShown {
                occurred_at: rfc3339(SystemTime::now()),
                protocol: s.protocol,
                session_id: id,
                peer: s.peer.clone(),
                local: s.local.clone(),
                offset: s.traffic.received_bytes,
                received_bytes: data.len() as u64,
                data_base64: base64(&data[..n]),
                shown_bytes: n as u64,
                limit_reached: s.shown_bytes + n as u64 >= self.cfg.show_max && n < data.len(),
                style: Some(style),
                bytes: data[..n].to_vec(),
            })
        });
        if datagram {
            ledger.datagram_in(id, data.len());
        } else {
            ledger.add_in(id, data.len());
        }
        if let Some(d) = shown {
            ledger.add_shown(id, d.shown_bytes as usize);
            drop(ledger);
            self.emit(&Event::Data(d));
        }
    }

    /// Warns once per run that --save could not write (a full disk does not end the listener).
    fn save_failed(&self, e: &std::io::Error) {
        if !self.save_failed.replace(true) {
            self.log
                .warn(&format!("--save: {e}; what clients send is no longer all saved"));
        }
    }

    /// Writes a finished session's --save manifest line.
    fn saved(&self, s: &Session) {
        if let Some(saver) = self.saver.borrow_mut().as_mut()
            && let Err(e) = saver.finish(s)
        {
            self.save_failed(&e);
        }
    }

    /// Ends a session, logs it, and stops the listener when --once or --clients is reached.
    pub fn close(&self, id: SessionId, end: End) {
        let now = self.now();
        let closed = self.ledger.borrow_mut().close(id, end, now);
        let Some(s) = closed else { return };
        self.saved(&s);
        self.emit(&Event::closed(&s, now, self.cfg.reports_rate()));
        if s.protocol.is_stream()
            && let Some(n) = self.cfg.stop_after
            && self.ledger.borrow().tcp_done() >= n
        {
            self.request_stop(if self.cfg.once {
                StopReason::Once
            } else {
                StopReason::Clients
            });
        }
    }

    /// Counts a refused TCP connection, and logs it if its source's refusals were not logged in the last
    /// interval (a flood of refusals is one line per source per interval, with the count of those in between).
    pub fn refused(&self, proto: Proto, peer: Endpoint, local: Endpoint, why: Refusal) {
        self.ledger.borrow_mut().refused(why == Refusal::PerAddress);
        // Unix clients have no address: they share one line per interval.
        let source = peer.ip().map_or(std::net::IpAddr::from([0u8; 4]), |a| a.ip());
        let Some(unlogged) = self.refusals.borrow_mut().note(source, self.now()) else {
            return;
        };
        let limit = match why {
            Refusal::MaxConns if matches!(self.cfg.mode, super::modes::Mode::Interactive) => {
                "--interactive talks to one client at a time".to_string()
            }
            Refusal::MaxConns => format!("--max-conns {} connections are open", self.cfg.max_conns),
            Refusal::PerAddress => format!(
                "--max-conns-per-address {} connections from this address are open",
                self.cfg.max_per_address()
            ),
        };
        let secs = REFUSAL_LOG_INTERVAL.as_secs();
        let detail = if unlogged == 0 {
            format!("{limit}; further refusals of this address are logged once per {secs} s")
        } else {
            format!("{limit}; {unlogged} more refused since the last line")
        };
        self.emit(&Event::refused(proto, peer, local, detail));
    }

    /// Notes that a connection gave back a buffer of `bytes`.
    pub fn released(&self, bytes: usize) {
        self.released.set(self.released.get().saturating_add(bytes));
    }

    /// Bytes given back since the last call.
    pub fn take_released(&self) -> usize {
        self.released.replace(0)
    }

    /// Asks the main loop to stop (the first reason wins).
    pub fn request_stop(&self, reason: StopReason) {
        if self.stop_reason.get().is_none() {
            self.stop_reason.set(Some(reason));
            self.stop.notify_one();
        }
    }

    /// Waits until a task asks to stop, and says why.
    pub async fn stopped(&self) -> StopReason {
        loop {
            if let Some(r) = self.stop_reason.get() {
                return r;
            }
            self.stop.notified().await;
        }
    }

    /// Ends every open session as the listener stops, logging each.
    pub fn close_all(&self) {
        let now = self.now();
        let closed = self
            .ledger
            .borrow_mut()
            .close_all(EndKind::ListenerStopped.into(), now);
        for s in &closed {
            self.saved(s);
            self.emit(&Event::closed(s, now, self.cfg.reports_rate()));
        }
    }

    /// Forgets the UDP peers idle for the idle timeout, closing their sessions.
    pub fn expire_udp_peers(&self) {
        let Some(idle) = self.cfg.idle_timeout else { return };
        let gone = self.peers.borrow_mut().expire(self.now(), idle);
        for id in gone {
            self.close(id, EndKind::IdleTimeout.into());
        }
    }
}
