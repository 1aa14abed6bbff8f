//! `sockdiag listen`: its flags, modes and notes.

use clap::{Args, ValueEnum, ValueHint};
use schemars::JsonSchema;
use serde::Serialize;

use super::FamilyArgs;

/// What `sockdiag listen` does with what clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListenMode {
    /// Send back everything received (TCP: after a half-close, the rest is still echoed before closing)
    Echo,
    /// Read and drop everything, send nothing (RFC 863)
    Discard,
    /// Send a fixed text (--reply or --reply-file): over TCP on connect, then close the sending side; over UDP
    /// to each datagram, cut to its size
    Reply,
    /// Send the RFC 864 character pattern: TCP without end, UDP one answer per datagram
    Chargen,
    /// Read and drop everything, counting bytes and reporting each client's throughput
    Sink,
    /// TCP chat room: each line a client sends goes to every other client, prefixed with the sender; joins and
    /// leaves are announced; a client that does not read is dropped once --max-buffer waits for it (UDP peers
    /// are counted, not answered)
    Chat,
    /// Talk to the client (--interactive)
    #[value(skip)]
    Interactive,
    /// HTTP/1.1: every request gets 200 with a text echoing method, path, headers and peer (or the --reply
    /// text), keep-alive as the client asks; each request line is logged (UDP peers are counted, not answered)
    Http,
}

impl ListenMode {
    /// The mode's name as the user gives it.
    pub fn name(self) -> &'static str {
        match self {
            ListenMode::Echo => "echo",
            ListenMode::Discard => "discard",
            ListenMode::Reply => "reply",
            ListenMode::Chargen => "chargen",
            ListenMode::Sink => "sink",
            ListenMode::Chat => "chat",
            ListenMode::Interactive => "interactive",
            ListenMode::Http => "http",
        }
    }
}

/// Notes after `sockdiag listen --help`: how UDP answers are bounded, how a run ends, then the exit codes.
pub const LISTEN_NOTES: &str = "\
UDP answers never carry more bytes than the datagram they answer: echo returns it as it came, reply and chargen \
are cut to its size (an empty datagram gets no reply or chargen answer), and each peer gets at most --udp-rate \
answers per second; the rest are dropped and counted. So the listener cannot amplify a spoofed flood.

Ends on Ctrl-C or SIGTERM, after --once, --clients or --deadline, or when the reader of its NDJSON goes away, \
then prints one summary row per client session and the totals. With --json (or --format ndjson) the events are \
NDJSON lines on stdout, one per line, and the summary is the last line (--quiet leaves the listening lines and the \
summary); --format csv prints the sessions as CSV. The log never holds up the clients: when its output cannot \
take more, lines are dropped and the summary says how many.

Exit codes:
  0  the listener ran and printed its summary
  2  bad usage or input
  3  a system or permission problem (port in use, privileged port, no such address)";

/// The long description `sockdiag listen --help` and the man page show.
pub const LONG_ABOUT: &str = "A throwaway listener for the other end of a quick test: TCP and UDP at once, IPv4 and IPv6, \
                  thousands of clients on one event loop, a log line per event on stderr and a summary of every \
                  client session at the end. Prints the bound sockets first (with port 0, the port chosen).";

/// Where `sockdiag listen` listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenOn {
    /// An IP port on the --bind addresses (0: the system chooses).
    Port(u16),
    /// A Unix stream socket at this path.
    Unix(std::path::PathBuf),
    /// A Unix datagram socket at this path.
    Unixgram(std::path::PathBuf),
}

/// Reads `PORT`, `unix:PATH` or `unixgram:PATH`.
pub fn parse_listen_on(text: &str) -> Result<ListenOn, String> {
    let path = |p: &str| {
        if p.is_empty() {
            Err("an empty path: accepted is unix:PATH or unixgram:PATH with a path".to_string())
        } else if p.len() > crate::listen::MAX_UNIX_PATH {
            Err(format!(
                "a path of {} bytes: a Unix socket path holds at most {}",
                p.len(),
                crate::listen::MAX_UNIX_PATH
            ))
        } else {
            Ok(std::path::PathBuf::from(p))
        }
    };
    if let Some(p) = text.strip_prefix("unix:") {
        return path(p).map(ListenOn::Unix);
    }
    if let Some(p) = text.strip_prefix("unixgram:") {
        return path(p).map(ListenOn::Unixgram);
    }
    text.parse::<u16>()
        .map(ListenOn::Port)
        .map_err(|_| "accepted is a port 0-65535, unix:PATH (stream) or unixgram:PATH (datagram)".to_string())
}

/// `sockdiag listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: a port (0: the system chooses one, shown first), unix:PATH (a Unix stream socket) or
    /// unixgram:PATH (a Unix datagram socket); a socket file left by a listener that is gone is replaced, and
    /// the file is removed when the run ends
    #[arg(value_name = "PORT|unix:PATH|unixgram:PATH", value_parser = parse_listen_on,
          value_hint = ValueHint::Other)]
    pub port: ListenOn,

    /// Local address to listen on (repeatable) [default: every address: one dual-stack socket, or 0.0.0.0
    /// where the host has no IPv6]
    #[arg(short = 'b', long = "bind", value_name = "ADDR", value_hint = ValueHint::Other)]
    pub bind: Vec<String>,

    /// TCP only [default: TCP and UDP]
    #[arg(long, conflicts_with = "udp")]
    pub tcp: bool,

    /// UDP only [default: TCP and UDP]
    #[arg(long)]
    pub udp: bool,

    /// Address family
    #[command(flatten)]
    pub family: FamilyArgs,

    /// What to do with what clients send
    #[arg(long, value_enum, default_value_t = ListenMode::Echo, value_name = "MODE")]
    pub mode: ListenMode,

    /// Text to send in reply mode (implies --mode reply; with --mode http, the body of every answer) [default:
    /// none]
    #[arg(long, value_name = "TEXT", conflicts_with = "reply_file", value_hint = ValueHint::Other)]
    pub reply: Option<String>,

    /// File whose content is sent in reply mode (implies --mode reply) [default: none]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub reply_file: Option<std::path::PathBuf>,

    /// Stop after the first TCP client is done [default: run until Ctrl-C or --deadline]
    #[arg(long, conflicts_with = "clients")]
    pub once: bool,

    /// Stop after N TCP clients are done [default: run until Ctrl-C or --deadline]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..),
          value_hint = ValueHint::Other)]
    pub clients: Option<u64>,

    /// End the whole run after this long, with the summary of what came so far (bare seconds, or 500ms, 5m)
    /// [default: none, run until Ctrl-C]
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_positive_duration,
          value_hint = ValueHint::Other)]
    pub deadline: Option<std::time::Duration>,

    /// Most TCP clients served at once; further connections are refused with a reset [default: 16384, or fewer
    /// if the open-files limit is lower]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          value_hint = ValueHint::Other)]
    pub max_conns: Option<u32>,

    /// Most TCP clients from one source at once (an IPv4 address, an IPv6 /64), so that one client cannot take
    /// every slot; further connections from it are refused with a reset, and logged once per 10 s [default: an
    /// eighth of --max-conns, at least 16]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          value_hint = ValueHint::Other)]
    pub max_conns_per_address: Option<u32>,

    /// Close a TCP connection, or forget a UDP peer, after this long without progress (0: never)
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = crate::units::parse_duration,
          value_hint = ValueHint::Other)]
    pub idle_timeout: std::time::Duration,

    /// Most bytes held for one TCP connection: echo stops reading while this much waits for a peer that does not
    /// read (1KiB to 64MiB)
    #[arg(long, default_value = "128KiB", value_name = "SIZE", value_parser = crate::units::parse_size,
          value_hint = ValueHint::Other)]
    pub max_buffer: u64,

    /// Talk to one TCP client at a time, as nc -l: lines typed on stdin go to it, what it sends goes to stdout
    /// (escaped when stdout is a terminal), Ctrl-D half-closes; other clients are refused meanwhile [implies --once
    /// unless --clients is given]
    #[arg(long, conflicts_with_all = ["udp", "mode", "reply", "reply_file"])]
    pub interactive: bool,

    /// Speak TLS (1.2, 1.3) on every connection, before the mode: with a self-signed certificate for localhost,
    /// 127.0.0.1 and ::1 made at start (its SHA-256 and its public key's are printed, for openssl's fingerprint
    /// and curl --pinnedpubkey), or with --cert/--key; each handshake is logged with the client's SNI, ALPN offer
    /// and TLS versions, a failed one with why [implies --tcp]
    #[arg(long, conflicts_with = "udp")]
    pub tls: bool,

    /// PEM certificate chain to speak TLS with (implies --tls; needs --key) [default: one made at start]
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "udp", value_hint = ValueHint::FilePath)]
    pub cert: Option<std::path::PathBuf>,

    /// PEM private key of --cert (PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", requires = "cert", value_hint = ValueHint::FilePath)]
    pub key: Option<std::path::PathBuf>,

    /// Print what each client sends as it arrives, prefixed by the peer: text with control and non-ASCII bytes
    /// escaped (so a client cannot drive the terminal); in NDJSON a `data` event with the bytes in base64
    #[arg(long)]
    pub show: bool,

    /// Like --show, as an xxd-style hex dump
    #[arg(long)]
    pub hex: bool,

    /// Most bytes shown per client by --show/--hex; the rest is counted, not shown (0: no limit)
    #[arg(long, default_value = "4KiB", value_name = "SIZE", value_parser = crate::units::parse_size,
          value_hint = ValueHint::Other)]
    pub show_max: u64,

    /// Save every byte each client sends in DIR (made if missing; must be empty): one file per TCP connection or
    /// UDP peer, named by session, and manifest.ndjson with a line per session [default: nothing saved]
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub save: Option<std::path::PathBuf>,

    /// Most UDP peers tracked at once; the one idle the longest is forgotten first
    #[arg(long, default_value_t = 4096, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          value_hint = ValueHint::Other)]
    pub max_udp_peers: u32,

    /// Most UDP answers per second to one peer (bursts up to the same number)
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          value_hint = ValueHint::Other)]
    pub udp_rate: u32,
}
