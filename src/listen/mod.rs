//! `sockdiag listen`: validate the request, bind, serve every client on one event loop until told to stop,
//! then build the summary.

mod bind;
pub mod log;
pub mod modes;
pub mod peers;
pub mod report;
pub mod session;
mod state;
mod tcp;
mod udp;

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use clap::ValueEnum;

use crate::cli::{ListenArgs, ListenMode};
use crate::error::{Context, Error, Result};
use crate::target::parse_ip_literal;

use bind::{BindAddr, Bound};
use log::{Event, Kind, Logger};
use modes::Mode;
use report::{BoundReport, ListenReport};
use session::Proto;
use state::{Shared, StopReason};

/// Largest --reply-file accepted: a reply is a banner, not a download.
const MAX_REPLY: u64 = 16 << 20;
/// --max-conns when not given, if the open-files limit allows.
const DEFAULT_MAX_CONNS: usize = 16_384;
/// Descriptors kept for the listening sockets, stdio and the event loop.
const SPARE_FDS: u64 = 64;
/// Bounds of --max-buffer.
const BUFFER_RANGE: (u64, u64) = (1 << 10, 64 << 20);

/// The validated settings of a run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Port to bind (0: chosen by the system).
    pub port: u16,
    /// Addresses to bind.
    pub binds: Vec<BindAddr>,
    /// Serve TCP.
    pub tcp: bool,
    /// Serve UDP.
    pub udp: bool,
    /// What to do with what clients send.
    pub mode: Mode,
    /// Stop after this many TCP clients are done.
    pub stop_after: Option<u64>,
    /// Whether that is --once.
    pub once: bool,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Most TCP connections at once.
    pub max_conns: usize,
    /// Whether the user chose max_conns (else it follows the open-files limit).
    pub max_conns_given: bool,
    /// Idle timeout for TCP connections and UDP peers (None: never).
    pub idle: Option<Duration>,
    /// Most bytes buffered per TCP connection, and the read size.
    pub max_buffer: usize,
    /// Most UDP peers tracked.
    pub max_udp_peers: usize,
    /// UDP answers per second per peer.
    pub udp_rate: u32,
    /// Where events go.
    pub log: Logger,
}

impl Config {
    /// Checks the arguments and reads the reply file.
    pub fn from_args(args: &ListenArgs, json: bool) -> Result<Config> {
        let (v4, v6) = (args.family.ipv4, args.family.ipv6);
        let binds = if args.bind.is_empty() {
            bind::wildcard(v4, v6)
        } else {
            args.bind
                .iter()
                .map(|b| bind_addr(b, v4, v6))
                .collect::<Result<_>>()?
        };
        let mode = mode_from(args)?;
        let max_buffer = args.max_buffer;
        if !(BUFFER_RANGE.0..=BUFFER_RANGE.1).contains(&max_buffer) {
            return Err(Error::usage(format!(
                "--max-buffer {max_buffer} is out of range: accepted is 1KiB to 64MiB"
            )));
        }
        let idle = args.idle_timeout;
        let duration = args.duration;
        if duration == Some(Duration::ZERO) {
            return Err(Error::usage(
                "--duration 0 would stop at once: give a positive duration such as 10s",
            ));
        }
        let stop_after = if args.once { Some(1) } else { args.count };
        if stop_after.is_some() && args.udp {
            return Err(Error::usage(
                "--once and --count count TCP clients (a UDP peer never says it is done): with --udp use --duration",
            ));
        }
        Ok(Config {
            port: args.port,
            binds,
            tcp: !args.udp,
            udp: !args.tcp,
            mode,
            stop_after,
            once: args.once,
            duration,
            max_conns: args.max_conns.map_or(DEFAULT_MAX_CONNS, |n| n as usize),
            max_conns_given: args.max_conns.is_some(),
            idle: (!idle.is_zero()).then_some(idle),
            max_buffer: max_buffer as usize,
            max_udp_peers: args.max_udp_peers as usize,
            udp_rate: args.udp_rate,
            log: Logger {
                json,
                quiet: args.quiet,
            },
        })
    }

    /// Whether events and the summary report throughput (sink mode).
    pub fn reports_rate(&self) -> bool {
        matches!(self.mode, Mode::Sink)
    }
}

fn bind_addr(text: &str, v4: bool, v6: bool) -> Result<BindAddr> {
    let lit = parse_ip_literal(text)?.ok_or_else(|| {
        Error::usage(format!(
            "bad --bind '{text}': accepted is an IP address of this host (127.0.0.1, ::1, fe80::1%eth0, 0.0.0.0, ::)"
        ))
    })?;
    if (v4 && lit.addr.is_ipv6()) || (v6 && lit.addr.is_ipv4()) {
        let family = if v4 { "-4" } else { "-6" };
        return Err(Error::usage(format!("--bind {text} does not match {family}")));
    }
    Ok(BindAddr::plain(lit.addr, lit.scope_id))
}

fn mode_from(args: &ListenArgs) -> Result<Mode> {
    let text = match (&args.reply, &args.reply_file) {
        (Some(t), _) => Some(Arc::from(t.as_bytes())),
        (None, Some(path)) => {
            let shown = path.display();
            let meta = std::fs::metadata(path).context(|| format!("reading --reply-file {shown}"))?;
            if meta.len() > MAX_REPLY {
                return Err(Error::usage(format!(
                    "--reply-file {shown} has {} bytes: accepted is at most 16 MiB",
                    meta.len()
                )));
            }
            let bytes = std::fs::read(path).context(|| format!("reading --reply-file {shown}"))?;
            Some(Arc::from(bytes))
        }
        (None, None) => None,
    };
    match (args.mode, text) {
        (ListenMode::Echo | ListenMode::Reply, Some(t)) => Ok(Mode::Reply(t)),
        (ListenMode::Reply, None) => Err(Error::usage(
            "--mode reply needs --reply TEXT or --reply-file FILE",
        )),
        (m, Some(_)) => Err(Error::usage(format!(
            "--reply and --reply-file go with --mode reply, not --mode {}",
            m.to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        ))),
        (ListenMode::Echo, None) => Ok(Mode::Echo),
        (ListenMode::Discard, None) => Ok(Mode::Discard),
        (ListenMode::Chargen, None) => Ok(Mode::chargen()),
        (ListenMode::Sink, None) => Ok(Mode::Sink),
    }
}

/// Runs the listener until it is told to stop and returns the summary.
pub fn run(args: &ListenArgs, json: bool) -> Result<ListenReport> {
    let cfg = Config::from_args(args, json)?;
    let bound = bind::bind_all(&cfg.binds, cfg.port, cfg.tcp, cfg.udp)?;
    let mut cfg = cfg;
    fit_fd_limit(&mut cfg);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context(|| "starting the event loop".to_string())?;
    let local = tokio::task::LocalSet::new();
    let report = local.block_on(&runtime, serve(cfg, bound));
    // Open connections are closed as the tasks holding them are dropped here.
    drop(local);
    drop(runtime);
    report
}

/// Serves until a signal, --once/--count or --duration, then closes what is open and builds the report.
async fn serve(cfg: Config, bound: Vec<Bound>) -> Result<ListenReport> {
    let mut sigint =
        signal(SignalKind::interrupt()).context(|| "installing the SIGINT handler".to_string())?;
    let mut sigterm =
        signal(SignalKind::terminate()).context(|| "installing the SIGTERM handler".to_string())?;
    let sh = Rc::new(Shared::new(cfg));
    let mut bound_report = Vec::new();
    for (index, b) in bound.into_iter().enumerate() {
        bound_report.push(BoundReport {
            protocol: b.proto,
            local: b.local,
            dual_stack: b.dual,
        });
        let families = if b.dual {
            "IPv4 and IPv6"
        } else if b.local.is_ipv6() {
            "IPv6"
        } else {
            "IPv4"
        };
        sh.log
            .log(&Event::new(Kind::Listening, b.proto, None, b.local).with_detail(families));
        let what = || format!("listening on {} {}", b.proto.name(), b.local);
        match b.proto {
            Proto::Tcp => {
                let listener = tokio::net::TcpListener::from_std(b.socket.into()).context(what)?;
                tokio::task::spawn_local(tcp::accept_loop(listener, sh.clone()));
            }
            Proto::Udp => {
                let sock = tokio::net::UdpSocket::from_std(b.socket.into()).context(what)?;
                tokio::task::spawn_local(udp::serve(sock, index, b.local, sh.clone()));
            }
        }
    }
    if sh.cfg.udp {
        tokio::task::spawn_local(udp::sweep_loop(sh.clone()));
    }
    let deadline = async {
        match sh.cfg.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let reason = tokio::select! {
        _ = sigint.recv() => StopReason::Signal("SIGINT"),
        _ = sigterm.recv() => StopReason::Signal("SIGTERM"),
        _ = deadline => StopReason::Duration,
        r = sh.stopped() => r,
    };
    sh.close_all();
    let elapsed = sh.now();
    let ended_by = match reason {
        StopReason::Signal(name) => name.to_string(),
        StopReason::Once => "once".to_string(),
        StopReason::Count(n) => format!("count ({n} TCP clients)"),
        StopReason::Duration => "duration".to_string(),
    };
    let ledger = std::mem::take(&mut *sh.ledger.borrow_mut());
    let rate = sh.cfg.reports_rate();
    Ok(ListenReport::new(
        sh.cfg.mode.name(),
        bound_report,
        ended_by,
        elapsed,
        ledger,
        rate,
    ))
}

/// Raises the soft open-files limit to the hard one; a default --max-conns shrinks to fit what remains, a
/// chosen one that does not fit gets a warning.
fn fit_fd_limit(cfg: &mut Config) {
    let soft = crate::sys::rlimit::raise_open_files(u64::MAX);
    let room = soft.saturating_sub(SPARE_FDS).max(1) as usize;
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
