//! Command-line definitions (clap derive only): the global flags and the subcommands; each subcommand's Args
//! struct lives in the file named after it.

pub mod examples;
mod listen;
mod probe;
mod resolve;
mod sockets;
mod trace;

pub use listen::{LISTEN_NOTES, ListenArgs, ListenMode, ListenOn};
pub use probe::{PROBE_EXIT_CODES, ProbeArgs};
pub use resolve::{ProtocolArg, ResolveArgs, SockTypeArg};
pub use sockets::SocketsArgs;
pub use trace::TraceArgs;

use clap::{ArgAction, Args, Parser, Subcommand, ValueHint};

use crate::render::{ColorChoice, Format};

/// Exit codes, shown in every `--help` and man page.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  everything answered as hoped
  1  a negative result (a name that does not exist or has no address, a closed or filtered port, target not reached)
  2  bad usage or input
  3  a system or permission problem";

/// Socket diagnostics: does the name resolve, is the port open, where do packets stop, does my client talk.
#[derive(Debug, Parser)]
#[command(
    name = "sockdiag",
    version,
    propagate_version = true,
    after_long_help = EXIT_CODES,
    mut_subcommands = completion_hints
)]
pub struct Cli {
    /// Flags every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// The job to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by all subcommands.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output form: table (a terminal's default), plain (a pipe's default), json, ndjson or csv
    #[arg(long, global = true, value_enum, value_name = "FORM")]
    pub format: Option<Format>,

    /// Print results as one JSON document (errors too), for scripts: short for --format json
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,

    /// When to colour tables; NO_COLOR in the environment means never, unless `always`
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Fewer lines on stderr (no progress, no per-event log); results are still printed
    #[arg(long, global = true)]
    pub quiet: bool,

    /// Show more detail in error messages (repeat for more)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// The output form asked for: `--format`, or `--json`, or none (decided by the terminal).
    pub fn output_format(&self) -> Option<Format> {
        if self.json {
            Some(Format::Json)
        } else {
            self.format
        }
    }

    /// Whether results are machine-readable JSON (errors then go to stdout as JSON too).
    pub fn wants_json(&self) -> bool {
        matches!(self.output_format(), Some(Format::Json | Format::Ndjson))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)
    #[command(
        after_long_help = examples::after_help(examples::RESOLVE, resolve::RESOLVE_EXIT_CODES),
        long_about = "Look names up through the system resolver (getaddrinfo) as a program on this host would, \
                      showing every addrinfo result: family, socket type, protocol, address, port and canonical \
                      name. An IP address as NAME is looked up in reverse with getnameinfo.\n\n\
                      With -t, -x, @SERVER or --server, DNS is asked directly instead, like dig: one row per record \
                      (name, type, TTL, data), the server that answered, the transport and the query time. Names \
                      are asked exactly as given (no search list, as dig without +search). The server is the \
                      system's (the nameservers in /etc/resolv.conf, in order) unless one is chosen. A truncated \
                      UDP answer is asked again over TCP. NXDOMAIN, NODATA, REFUSED/SERVFAIL, timeouts and \
                      unreachable servers are told apart.\n\n\
                      With --compare, each name's getaddrinfo addresses are set beside DNS's A/AAAA answers, and \
                      each difference is explained where it can be: an /etc/hosts line, a search-list expansion \
                      (with the ndots rule that applied), a family removed by AI_ADDRCONFIG, a CNAME the system \
                      followed."
    )]
    Resolve(ResolveArgs),
    /// Find where on the path packets stop: an ICMP traceroute probing every hop at once
    #[command(after_long_help = examples::after_help(examples::TRACE, trace::TRACE_EXIT_CODES), long_about = trace::TRACE_ABOUT)]
    Trace(TraceArgs),
    /// Probe TCP and UDP ports: open, closed, filtered or unreachable, and why
    #[command(long_about = probe::LONG_ABOUT, after_long_help = examples::after_help(examples::PROBE, PROBE_EXIT_CODES))]
    Probe(ProbeArgs),
    /// Listen on TCP and UDP for clients: echo, discard, reply, chargen or sink, and record who came and what they sent
    #[command(long_about = listen::LONG_ABOUT, after_long_help = examples::after_help(examples::LISTEN, LISTEN_NOTES))]
    Listen(ListenArgs),
    /// This host's own sockets: state, queues, owner, TCP health, and what a state means for a failing connection
    #[command(
        long_about = sockets::LONG_ABOUT,
        after_long_help = examples::after_help(examples::SOCKETS, sockets::SOCKETS_EXIT_CODES)
    )]
    Sockets(SocketsArgs),
}

/// Address family restriction shared by the subcommands.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct FamilyArgs {
    /// IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
}

impl FamilyArgs {
    /// The family `-4` / `-6` choose (neither: any): the one mapping every command uses.
    pub fn family(&self) -> crate::lookup::Family {
        crate::lookup::Family::from_flags(self.ipv4, self.ipv6)
    }
}

/// Completion hints for every subcommand's values: ports, durations, counts and addresses complete as nothing
/// (shells would offer file names), targets as host names, and only FILE values as files.
fn completion_hints(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|arg| {
        let names: Vec<String> = arg
            .get_value_names()
            .unwrap_or_default()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let named = |words: &[&str]| names.iter().any(|n| words.iter().any(|w| n.contains(w)));
        if !arg.get_action().takes_values() || arg.get_value_hint() != ValueHint::Unknown {
            arg
        } else if named(&["FILE", "DIR"]) {
            arg.value_hint(ValueHint::FilePath)
        } else if named(&["HOST", "NAME", "TARGET"]) {
            arg.value_hint(ValueHint::Hostname)
        } else {
            arg.value_hint(ValueHint::Other)
        }
    })
}
