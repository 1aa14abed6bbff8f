//! The listener's settings: `ListenArgs` from the command line checked and turned into a `Config` that the
//! engine reads (no clap types past here), with the reply text read from --reply-file.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use schemars::JsonSchema;
use serde::Serialize;

use super::bind::{self, BindAddr};
use super::log::Logger;
use super::modes::Mode;
use super::save;
use super::session::Proto;
use super::show::ShowStyle;
use super::tls_setup::{self, TlsSetup};
use super::unix_bind::UnixSpec;
use crate::cli::{GlobalArgs, ListenArgs, ListenMode, ListenOn};
use crate::error::{Context, Error, Result};
use crate::render::ms_f64;
use crate::target::parse_ip_literal;

/// Largest --reply-file accepted: a reply is a banner, not a download.
const MAX_REPLY: u64 = 16 << 20;
/// --max-conns when not given, if the open-files limit allows.
const DEFAULT_MAX_CONNS: usize = 16_384;
/// A source's default share of --max-conns: one in this many.
const PER_ADDRESS_SHARE: usize = 8;
/// The least default share of one source, when --max-conns allows it.
const MIN_PER_ADDRESS: usize = 16;
/// Bounds of --max-buffer.
const BUFFER_RANGE: (u64, u64) = (1 << 10, 64 << 20);

/// The validated settings of a run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Port to bind (0: chosen by the system; 0 for a Unix socket).
    pub port: u16,
    /// The Unix socket to listen on instead of IP ports.
    pub unix: Option<UnixSpec>,
    /// Addresses to bind.
    pub binds: Vec<BindAddr>,
    /// Serve connections: TCP, or the Unix stream socket.
    pub tcp: bool,
    /// Serve datagrams: UDP, or the Unix datagram socket.
    pub udp: bool,
    /// What to do with what clients send.
    pub mode: Mode,
    /// Stop after this many TCP clients are done (--once: 1, --clients N).
    pub stop_after: Option<u64>,
    /// Whether that is --once.
    pub once: bool,
    /// End the whole run after this long (--deadline).
    pub deadline: Option<Duration>,
    /// Most TCP connections at once.
    pub max_conns: usize,
    /// Whether the user chose max_conns (else it follows the open-files limit).
    pub max_conns_given: bool,
    /// Most TCP connections from one source, if chosen (else a share of max_conns).
    pub max_per_address_given: Option<usize>,
    /// Idle timeout for TCP connections and UDP peers (None: never).
    pub idle_timeout: Option<Duration>,
    /// Most bytes buffered per TCP connection, and the read size.
    pub max_buffer: usize,
    /// Most UDP peers tracked.
    pub max_udp_peers: usize,
    /// UDP answers per second per peer.
    pub udp_rate: u32,
    /// Show what clients send (--show, --hex).
    pub show: Option<ShowStyle>,
    /// Most bytes shown per session (u64::MAX: no limit).
    pub show_max: u64,
    /// Save what clients send in this (checked, empty) directory.
    pub save: Option<PathBuf>,
    /// Where events go.
    pub log: Logger,
    /// TLS on every connection (--tls, --cert/--key).
    pub tls: Option<TlsSetup>,
}

impl Config {
    /// Checks the arguments and reads the reply file; the global flags say where events go.
    pub fn from_args(args: &ListenArgs, global: &GlobalArgs) -> Result<Config> {
        let (port, unix) = listen_on(args)?;
        let (v4, v6) = (args.family.ipv4, args.family.ipv6);
        let binds = if args.bind.is_empty() {
            bind::wildcard(v4, v6)
        } else {
            args.bind
                .iter()
                .map(|b| bind_addr(b, v4, v6))
                .collect::<Result<_>>()?
        };
        let mode = if args.interactive {
            if global.wants_json() {
                return Err(usage(
                    "--interactive writes what the client sends on stdout, where --json would write events: \
                     accepted is one of them",
                ));
            }
            Mode::Interactive
        } else {
            mode_from(args)?
        };
        let max_buffer = args.max_buffer;
        if !(BUFFER_RANGE.0..=BUFFER_RANGE.1).contains(&max_buffer) {
            return Err(usage(format!(
                "--max-buffer {max_buffer} bytes is out of range: accepted is 1KiB to 64MiB"
            )));
        }
        let idle = args.idle_timeout;
        let stop_after = stop_after(args, unix.as_ref())?;
        let show = if args.hex {
            Some(ShowStyle::Hex)
        } else {
            args.show.then_some(ShowStyle::Text)
        };
        let save = args.save.as_deref().map(save::prepare).transpose()?;
        let tls = tls_from(args, unix.as_ref())?;
        Ok(Config {
            show,
            show_max: if args.show_max == 0 {
                u64::MAX
            } else {
                args.show_max
            },
            save,
            port,
            binds,
            tcp: match &unix {
                Some(u) => !u.datagram,
                None => !args.udp,
            },
            udp: match &unix {
                Some(u) => u.datagram,
                None => !args.tcp && !args.interactive && tls.is_none(),
            },
            tls,
            unix,
            mode,
            stop_after,
            once: args.once || (args.interactive && args.clients.is_none()),
            deadline: args.deadline,
            // One client has the keyboard at a time.
            max_conns: if args.interactive {
                1
            } else {
                args.max_conns.map_or(DEFAULT_MAX_CONNS, |n| n as usize)
            },
            max_conns_given: args.max_conns.is_some() || args.interactive,
            max_per_address_given: args.max_conns_per_address.map(|n| n as usize),
            idle_timeout: (!idle.is_zero()).then_some(idle),
            max_buffer: max_buffer as usize,
            max_udp_peers: args.max_udp_peers as usize,
            udp_rate: args.udp_rate,
            log: Logger::new(global.wants_json(), global.quiet),
        })
    }

    /// Most TCP connections from one source: as chosen, else an eighth of max_conns but at least 16 (or all of
    /// a smaller max_conns), so a few busy clients behind one address still fit.
    pub fn max_per_address(&self) -> usize {
        self.max_per_address_given
            .unwrap_or_else(|| (self.max_conns / PER_ADDRESS_SHARE).max(MIN_PER_ADDRESS.min(self.max_conns)))
            .max(1)
    }

    /// Whether events and the summary report throughput (sink mode).
    pub fn reports_rate(&self) -> bool {
        matches!(self.mode, Mode::Sink)
    }

    /// The settings as the summary reports them (after the open-files limit had its say on max_conns).
    pub fn settings(&self) -> Settings {
        let (mode, reply_bytes) = match &self.mode {
            Mode::Echo => (ListenMode::Echo, None),
            Mode::Discard => (ListenMode::Discard, None),
            Mode::Reply(text) => (ListenMode::Reply, Some(text.len() as u64)),
            Mode::Chargen(_) => (ListenMode::Chargen, None),
            Mode::Sink => (ListenMode::Sink, None),
            Mode::Chat => (ListenMode::Chat, None),
            Mode::Interactive => (ListenMode::Interactive, None),
            Mode::Http(text) => (ListenMode::Http, text.as_ref().map(|t| t.len() as u64)),
        };
        let protocols = match &self.unix {
            Some(u) if u.datagram => [(true, Proto::Unixgram), (false, Proto::Udp)],
            Some(_) => [(true, Proto::Unix), (false, Proto::Udp)],
            None => [(self.tcp, Proto::Tcp), (self.udp, Proto::Udp)],
        };
        Settings {
            port: self.port,
            mode,
            protocols: protocols
                .into_iter()
                .filter_map(|(on, p)| on.then_some(p))
                .collect(),
            bind_addresses: match self.unix {
                Some(_) => Vec::new(),
                None => self.binds.iter().map(|b| b.ip).collect(),
            },
            unix_path: self
                .unix
                .as_ref()
                .map(|u| crate::text::escape(&u.path.to_string_lossy()).into_owned()),
            reply_bytes,
            stop_after_clients: self.stop_after,
            deadline_ms: self.deadline.map(ms_f64),
            max_connections: self.max_conns as u64,
            max_connections_per_address: self.max_per_address() as u64,
            idle_timeout_ms: self.idle_timeout.map(ms_f64),
            max_buffer_bytes: self.max_buffer as u64,
            max_udp_peers: self.max_udp_peers as u64,
            udp_answers_per_second: self.udp_rate,
            show: self.show.map(|s| match s {
                ShowStyle::Text => "text".to_string(),
                ShowStyle::Hex => "hex".to_string(),
            }),
            show_max_bytes: self
                .show
                .and((self.show_max != u64::MAX).then_some(self.show_max)),
            save_directory: self.save.as_ref().map(|d| d.display().to_string()),
            tls_certificate_sha256: self.tls.as_ref().map(|t| t.cert_sha256.clone()),
            tls_public_key_sha256: self.tls.as_ref().map(|t| t.pubkey_sha256.clone()),
        }
    }
}

/// The settings a run used, in the summary: each with one type, null where a limit is not set.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Settings {
    /// The port asked for (0: the system chose one, `bound` shows which; 0 also for a Unix socket).
    pub port: u16,
    /// The Unix socket path listened on (unix:PATH, unixgram:PATH); null for IP ports.
    pub unix_path: Option<String>,
    /// What was done with what clients sent (--mode; reply when --reply or --reply-file was given).
    pub mode: ListenMode,
    /// The protocols served (--tcp, --udp; both by default).
    pub protocols: Vec<Proto>,
    /// The addresses listened on (--bind; the wildcard when none was given; none for a Unix socket).
    pub bind_addresses: Vec<IpAddr>,
    /// Length of the reply text in reply mode; null in the other modes.
    pub reply_bytes: Option<u64>,
    /// Stop after this many TCP clients (--once: 1, --clients N); null: no such limit.
    pub stop_after_clients: Option<u64>,
    /// The whole run's --deadline; null: none (until a signal).
    pub deadline_ms: Option<f64>,
    /// Most TCP clients served at once (--max-conns, or what the open-files limit allows).
    pub max_connections: u64,
    /// Most TCP clients from one source at once: an IPv4 address or an IPv6 /64 (--max-conns-per-address, or a
    /// share of max_connections).
    pub max_connections_per_address: u64,
    /// How long a connection or UDP peer may idle (--idle-timeout); null: for ever.
    pub idle_timeout_ms: Option<f64>,
    /// Most bytes held for one TCP connection (--max-buffer).
    pub max_buffer_bytes: u64,
    /// Most UDP peers tracked at once (--max-udp-peers).
    pub max_udp_peers: u64,
    /// Most UDP answers per second to one peer (--udp-rate).
    pub udp_answers_per_second: u32,
    /// How received data was shown: "text" (--show), "hex" (--hex); null: not shown.
    pub show: Option<String>,
    /// Most bytes shown per session (--show-max); null when nothing is shown or there is no limit.
    pub show_max_bytes: Option<u64>,
    /// Where received data was saved (--save); null: not saved.
    pub save_directory: Option<String>,
    /// SHA-256 of the TLS certificate (colon-separated hex, as openssl prints it); null without --tls.
    pub tls_certificate_sha256: Option<String>,
    /// SHA-256 of the TLS certificate's public key, base64 (curl --pinnedpubkey sha256//THIS); null without
    /// --tls.
    pub tls_public_key_sha256: Option<String>,
}

/// A usage error that ends by pointing to the help, as every usage error does.
fn usage(msg: impl std::fmt::Display) -> Error {
    Error::usage(format!("{msg}; see 'sockdiag listen --help'"))
}

/// The TLS identity of --tls or --cert/--key (made or read now, so a bad file is a usage error at once).
fn tls_from(args: &ListenArgs, unix: Option<&UnixSpec>) -> Result<Option<TlsSetup>> {
    if !args.tls && args.cert.is_none() {
        return Ok(None);
    }
    if unix.is_some_and(|u| u.datagram) {
        return Err(usage(
            "--tls speaks over connections, and unixgram: has none: accepted is unix:PATH or a port",
        ));
    }
    match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => tls_setup::from_files(cert, key).map(Some),
        _ => tls_setup::made().map(Some),
    }
}

/// After how many stream clients to stop (--once, --clients; --interactive alone means one); an error when
/// only datagrams are served, as no datagram peer ever says it is done.
fn stop_after(args: &ListenArgs, unix: Option<&UnixSpec>) -> Result<Option<u64>> {
    let stop_after = if args.once || (args.interactive && args.clients.is_none()) {
        Some(1)
    } else {
        args.clients
    };
    let datagrams_only = args.udp || unix.is_some_and(|u| u.datagram);
    if args.interactive && datagrams_only {
        return Err(usage(
            "--interactive talks to one connection, and unixgram: has none: accepted is unix:PATH or a port",
        ));
    }
    if stop_after.is_some() && datagrams_only {
        let flag = if args.once { "--once" } else { "--clients" };
        let (what, peer) = if args.udp {
            ("--udp", "a UDP peer")
        } else {
            ("unixgram:", "a datagram sender")
        };
        return Err(usage(format!(
            "{flag} counts TCP clients, and {what} serves none ({peer} never says it is done): \
             with {what} use --deadline"
        )));
    }
    Ok(stop_after)
}

/// The port, or the Unix socket; the IP-only flags are refused with a Unix socket.
fn listen_on(args: &ListenArgs) -> Result<(u16, Option<UnixSpec>)> {
    let (path, datagram) = match &args.port {
        ListenOn::Port(p) => return Ok((*p, None)),
        ListenOn::Unix(p) => (p, false),
        ListenOn::Unixgram(p) => (p, true),
    };
    let ip_only = [
        (args.tcp, "--tcp"),
        (args.udp, "--udp"),
        (!args.bind.is_empty(), "--bind"),
        (args.family.ipv4, "-4"),
        (args.family.ipv6, "-6"),
    ];
    if let Some((_, flag)) = ip_only.iter().find(|(on, _)| *on) {
        return Err(usage(format!(
            "{flag} is for IP ports, not a Unix socket: accepted with unix:PATH or unixgram:PATH is neither"
        )));
    }
    Ok((
        0,
        Some(UnixSpec {
            path: path.clone(),
            datagram,
        }),
    ))
}

fn bind_addr(text: &str, v4: bool, v6: bool) -> Result<BindAddr> {
    let lit = parse_ip_literal(text)
        .map_err(|e| usage(format!("--bind: {e}")))?
        .ok_or_else(|| {
        usage(format!(
            "bad --bind '{text}': accepted is an IP address of this host (127.0.0.1, ::1, fe80::1%eth0, 0.0.0.0, ::)"
        ))
    })?;
    if (v4 && lit.addr.is_ipv6()) || (v6 && lit.addr.is_ipv4()) {
        let family = if v4 { "-4" } else { "-6" };
        return Err(usage(format!(
            "--bind {text} does not match {family}: accepted is an address of that family"
        )));
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
                return Err(usage(format!(
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
        (ListenMode::Http, text) => Ok(Mode::Http(text)),
        (ListenMode::Reply, None) => Err(usage("--mode reply needs --reply TEXT or --reply-file FILE")),
        (m, Some(_)) => Err(usage(format!(
            "--reply and --reply-file go with --mode reply, not --mode {}",
            m.to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        ))),
        (ListenMode::Echo, None) => Ok(Mode::Echo),
        (ListenMode::Discard, None) => Ok(Mode::Discard),
        (ListenMode::Chargen, None) => Ok(Mode::chargen()),
        (ListenMode::Sink, None) => Ok(Mode::Sink),
        (ListenMode::Chat, None) => Ok(Mode::Chat),
        (ListenMode::Interactive, None) => Ok(Mode::Interactive),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The settings of a default run in `mode` on port 7, for the report's tests.
    pub fn settings(mode: ListenMode) -> Settings {
        Settings {
            port: 7,
            unix_path: None,
            mode,
            protocols: vec![Proto::Tcp, Proto::Udp],
            bind_addresses: vec![IpAddr::from([0u8; 16])],
            reply_bytes: None,
            stop_after_clients: None,
            deadline_ms: None,
            max_connections: DEFAULT_MAX_CONNS as u64,
            max_connections_per_address: (DEFAULT_MAX_CONNS / PER_ADDRESS_SHARE) as u64,
            idle_timeout_ms: Some(300_000.0),
            max_buffer_bytes: 128 << 10,
            max_udp_peers: 4096,
            udp_answers_per_second: 1000,
            show: None,
            show_max_bytes: None,
            save_directory: None,
            tls_certificate_sha256: None,
            tls_public_key_sha256: None,
        }
    }
}
