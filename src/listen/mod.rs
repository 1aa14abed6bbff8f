//! `sockdiag listen`: arguments to a checked `Config` (config.rs), bind, serve every client on one event loop
//! until told to stop, then build the summary (report.rs) that the caller renders.

mod bind;
mod chat;
mod chat_tcp;
mod config;
mod format;
mod http;
mod http_tcp;
mod interactive;
mod limits;
pub mod log;
pub mod modes;
pub mod peers;
pub mod report;
mod save;
pub mod session;
mod show;
mod sink;
mod state;
mod tcp;
mod udp;

use std::rc::Rc;

use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{GlobalArgs, ListenArgs};
use crate::error::{Context, Result};

use bind::Bound;
use log::Event;
use report::{BoundReport, ListenReport};
use session::Proto;
use state::{Shared, StopReason};

pub use config::Config;

/// Descriptors kept for the listening sockets, stdio and the event loop.
const SPARE_FDS: u64 = 64;

/// Runs the listener until it is told to stop and returns the summary; the global flags say where events go
/// (`--json`/`--format ndjson`: NDJSON on stdout, else text on stderr) and how many (`--quiet`).
pub fn run(args: &ListenArgs, global: &GlobalArgs) -> Result<ListenReport> {
    let cfg = Config::from_args(args, global)?;
    let bound = bind::bind_all(&cfg.binds, cfg.port, cfg.tcp, cfg.udp)?;
    let mut cfg = cfg;
    fit_fd_limit(&mut cfg);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context(|| "starting the event loop".to_string())?;
    let local = tokio::task::LocalSet::new();
    let log = cfg.log.clone();
    let report = local.block_on(&runtime, serve(cfg, bound));
    // Open connections are closed as the tasks holding them are dropped here.
    drop(local);
    drop(runtime);
    let dropped = log.finish();
    report.map(|mut r| {
        r.totals.log_lines_dropped = dropped;
        r
    })
}

/// Serves until a signal, --once/--clients or --deadline, then closes what is open and builds the report.
async fn serve(cfg: Config, bound: Vec<Bound>) -> Result<ListenReport> {
    let mut sigint =
        signal(SignalKind::interrupt()).context(|| "installing the SIGINT handler".to_string())?;
    let mut sigterm =
        signal(SignalKind::terminate()).context(|| "installing the SIGTERM handler".to_string())?;
    let saver = cfg.save.clone().map(save::Saver::start).transpose()?;
    let shared = Rc::new(Shared::new(cfg, saver));
    let bound_report = spawn_servers(bound, &shared)?;
    let deadline = async {
        match shared.cfg.deadline {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let reason = tokio::select! {
        _ = sigint.recv() => StopReason::Sigint,
        _ = sigterm.recv() => StopReason::Sigterm,
        _ = deadline => StopReason::Deadline,
        r = shared.stopped() => r,
    };
    shared.close_all();
    let elapsed = shared.now();
    let ledger = std::mem::take(&mut *shared.ledger.borrow_mut());
    Ok(ListenReport::new(
        shared.cfg.settings(),
        bound_report,
        reason,
        elapsed,
        ledger,
    ))
}

/// Logs each bound socket and spawns the task serving it (plus the UDP peer sweep); returns what was bound.
fn spawn_servers(bound: Vec<Bound>, shared: &Rc<Shared>) -> Result<Vec<BoundReport>> {
    let mut bound_report = Vec::new();
    for (index, b) in bound.into_iter().enumerate() {
        bound_report.push(BoundReport {
            protocol: b.proto,
            local: b.local,
            dual_stack: b.dual,
        });
        shared.emit(&Event::listening(b.proto, b.local, b.dual));
        let what = || format!("listening on {} {}", b.proto.name(), b.local);
        match b.proto {
            Proto::Tcp => {
                let listener = tokio::net::TcpListener::from_std(b.socket.into()).context(what)?;
                tokio::task::spawn_local(tcp::accept_loop(listener, shared.clone()));
            }
            Proto::Udp => {
                let sock = tokio::net::UdpSocket::from_std(b.socket.into()).context(what)?;
                tokio::task::spawn_local(udp::serve(sock, index, b.local, shared.clone()));
            }
        }
    }
    if shared.cfg.udp {
        tokio::task::spawn_local(udp::sweep_loop(shared.clone()));
    }
    if shared.cfg.tcp {
        tokio::task::spawn_local(tcp::trim_loop(shared.clone()));
    }
    Ok(bound_report)
}

/// Raises the soft open-files limit to the hard one; a default --max-conns shrinks to fit what remains, a
/// chosen one that does not fit gets a warning.
fn fit_fd_limit(cfg: &mut Config) {
    let soft = crate::sys::rlimit::raise_open_files(u64::MAX);
    let room = soft.saturating_sub(SPARE_FDS).max(1) as usize;
    // --save holds a file open beside each connection.
    let room = if cfg.save.is_some() {
        (room / 2).max(1)
    } else {
        room
    };
    if !cfg.tcp || cfg.max_conns <= room {
        return;
    }
    if cfg.max_conns_given {
        cfg.log.warn(&format!(
            "only {} files may be open (ulimit -n): about {room} of --max-conns {} clients can be served at once",
            soft, cfg.max_conns
        ));
    } else {
        cfg.max_conns = room;
    }
}
