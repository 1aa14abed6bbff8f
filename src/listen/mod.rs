//! `sockdiag listen`: arguments to a checked `Config` (config.rs), bind, serve every client on one event loop
//! until told to stop, then build the summary (report.rs) that the caller renders.

mod bind;
mod chat;
mod chat_tcp;
mod config;
pub mod endpoint;
mod format;
mod hello;
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
mod stream;
mod tcp;
mod tls;
pub mod tls_log;
mod tls_setup;
mod udp;
mod unix;
mod unix_bind;

use std::rc::Rc;

use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{GlobalArgs, ListenArgs};
use crate::error::{Context, Result};

use bind::Bound;
use log::Event;
use report::{BoundReport, ListenReport};
use session::Proto;
use state::{Shared, StopReason};
use unix_bind::UnixSpec;

pub use config::Config;
/// Longest Unix socket path `listen unix:PATH` accepts.
pub const MAX_UNIX_PATH: usize = unix_bind::MAX_PATH;

/// Descriptors kept for the listening sockets, stdio and the event loop.
const SPARE_FDS: u64 = 64;

/// Runs the listener until it is told to stop and returns the summary; the global flags say where events go
/// (`--json`/`--format ndjson`: NDJSON on stdout, else text on stderr) and how many (`--quiet`).
pub fn run(args: &ListenArgs, global: &GlobalArgs) -> Result<ListenReport> {
    let cfg = Config::from_args(args, global)?;
    let bound = match &cfg.unix {
        Some(spec) => Listeners::Unix(spec.clone(), unix_bind::bind(spec)?),
        None => Listeners::Ip(bind::bind_all(&cfg.binds, cfg.port, cfg.tcp, cfg.udp)?),
    };
    let mut cfg = cfg;
    fit_fd_limit(&mut cfg);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context(|| "starting the event loop".to_string())?;
    let local = tokio::task::LocalSet::new();
    let log = cfg.log.clone();
    let report = local.block_on(&runtime, serve(cfg, bound));
    // Open connections are closed as the tasks holding them are dropped here, and a Unix socket's file
    // removed.
    drop(local);
    drop(runtime);
    let dropped = log.finish();
    report.map(|mut r| {
        r.totals.log_lines_dropped = dropped;
        r
    })
}

/// Serves until a signal, --once/--clients or --deadline, then closes what is open and builds the report.
async fn serve(cfg: Config, bound: Listeners) -> Result<ListenReport> {
    let mut sigint =
        signal(SignalKind::interrupt()).context(|| "installing the SIGINT handler".to_string())?;
    let mut sigterm =
        signal(SignalKind::terminate()).context(|| "installing the SIGTERM handler".to_string())?;
    let saver = cfg.save.clone().map(save::Saver::start).transpose()?;
    let shared = Rc::new(Shared::new(cfg, saver));
    // Held until the run ends: its drop removes the socket file.
    let mut _socket_file = None;
    let bound_report = match bound {
        Listeners::Ip(bound) => spawn_servers(bound, &shared)?,
        Listeners::Unix(spec, b) => {
            _socket_file = Some(b.file);
            vec![spawn_unix(&spec, b.socket, b.previous, &shared)?]
        }
    };
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
            local: b.local.into(),
            dual_stack: b.dual,
        });
        shared.emit(&Event::listening(b.proto, b.local.into(), b.dual).with_tls(shared.cfg.tls.as_ref()));
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
            Proto::Unix | Proto::Unixgram => unreachable!("bind_all binds IP sockets only"),
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

/// What was bound: IP sockets, or one Unix socket.
enum Listeners {
    /// TCP and UDP sockets.
    Ip(Vec<Bound>),
    /// A Unix socket.
    Unix(UnixSpec, unix_bind::UnixBound),
}

/// Logs the bound Unix socket (and the stale file it replaced) and spawns the task serving it.
fn spawn_unix(
    spec: &UnixSpec,
    socket: socket2::Socket,
    previous: unix_bind::Previous,
    shared: &Rc<Shared>,
) -> Result<BoundReport> {
    let local = endpoint::Endpoint::unix_path(Some(&spec.path));
    let proto = if spec.datagram {
        Proto::Unixgram
    } else {
        Proto::Unix
    };
    if previous == unix_bind::Previous::StaleRemoved {
        shared.log.warn(&format!(
            "replaced {local}: a socket file nobody listened on (left by a listener that is gone)"
        ));
    }
    shared.emit(&Event::listening(proto, local.clone(), false).with_tls(shared.cfg.tls.as_ref()));
    let what = || format!("listening on {} {local}", proto.name());
    if spec.datagram {
        let std_sock = std::os::unix::net::UnixDatagram::from(std::os::fd::OwnedFd::from(socket));
        let sock = tokio::net::UnixDatagram::from_std(std_sock).context(what)?;
        tokio::task::spawn_local(unix::serve_datagrams(sock, 0, local.clone(), shared.clone()));
        tokio::task::spawn_local(udp::sweep_loop(shared.clone()));
    } else {
        let std_sock = std::os::unix::net::UnixListener::from(std::os::fd::OwnedFd::from(socket));
        let listener = tokio::net::UnixListener::from_std(std_sock).context(what)?;
        tokio::task::spawn_local(unix::accept_loop(listener, local.clone(), shared.clone()));
        tokio::task::spawn_local(tcp::trim_loop(shared.clone()));
    }
    Ok(BoundReport {
        protocol: proto,
        local,
        dual_stack: false,
    })
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
