//! `sockdiag sockets`: its filter words and sampling flags.

use std::time::Duration;

use clap::Args;

use super::FamilyArgs;

/// The long description `sockdiag sockets --help` and the man page show.
pub const LONG_ABOUT: &str = "This host's own sockets (in this network namespace), read from the kernel through \
NETLINK_SOCK_DIAG as ss reads them: TCP, UDP, raw and Unix sockets with their state, local and peer ends, queues and \
the processes that hold them, and for TCP the kernel's view of the connection (smoothed RTT and its variance, \
congestion window, retransmissions, unacknowledged and lost segments, path MTU, delivery rate, time since the last \
send and receive). Each socket whose state explains a failing connection says so: a listener bound to loopback \
only, a full accept queue, a connect still waiting for its SYN-ACK, a connection retransmitting, the peer closed \
and the owner not. TIME-WAIT sockets of one endpoint pair are counted in one row.\n\n\
Filter words narrow the list: tcp, udp, raw, unix; listening, established, state NAME; :PORT or port PORT; pid PID; \
process NAME; an address or a CIDR prefix (either end). Words of one kind widen (tcp udp), kinds narrow (tcp :22).\n\n\
With -c, the sockets are sampled that many times, -i apart, and the notes say what changed from the first sample to \
the last (retransmissions climbing, a queue growing, the RTT moving). On a terminal the table redraws in place at \
each sample; with --format ndjson each sample is one line; other forms print the last sample.";

/// Exit codes of `sockdiag sockets`.
pub const SOCKETS_EXIT_CODES: &str = "\
Exit codes:
  0  the sockets were listed (an empty list too)
  2  bad usage or input (an unknown filter word)
  3  a system problem (the kernel refused the sock_diag request)
  130  Ctrl-C ended -c sampling; the last sample taken was printed";

/// `sockdiag sockets`.
#[derive(Debug, Clone, Args)]
pub struct SocketsArgs {
    /// Filter words: tcp udp raw unix, listening, established, state NAME, :PORT, port PORT, pid PID,
    /// process NAME, ADDRESS or PREFIX
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,

    /// Take this many samples, -i apart, and say what changed (retransmissions, queues, RTT)
    #[arg(short, long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,

    /// Time between samples with -c (e.g. 500ms, 2s)
    #[arg(short, long, value_name = "DURATION", default_value = "1s", value_parser = crate::units::parse_positive_duration)]
    pub interval: Duration,

    /// Address family of inet sockets (Unix sockets are listed unless a protocol word leaves them out)
    #[command(flatten)]
    pub family: FamilyArgs,
}
