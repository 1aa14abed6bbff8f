//! `sockdiag probe`: its flags and exit codes.

use std::time::Duration;

use clap::Args;

use super::FamilyArgs;

/// Exit codes of `probe`, which counts UDP silence as not open.
pub const PROBE_EXIT_CODES: &str = "\
Exit codes:
  0  every probed port is open
  1  a port is not open (closed, filtered, unreachable, a local error; UDP open|filtered unless
     --udp-open-filtered-ok), or a target did not resolve
  2  bad usage or input (bad port, empty or reversed range, unknown service, unparsable target)
  3  a system problem (e.g. out of file descriptors or local ports for longer than probe waits: the
     report so far is printed with the reason)
  130  interrupted by Ctrl-C (the report so far and the ports not probed are printed); with -c 0,
     Ctrl-C is the normal end and the exit code follows the results";

/// The long description `sockdiag probe --help` and the man page show.
pub const LONG_ABOUT: &str = "Probe TCP and UDP ports without privilege and say what the network did: open (connected or a UDP \
                  reply), closed (TCP RST, UDP ICMP port unreachable), filtered (no answer; for UDP another ICMP \
                  unreachable), unreachable (an ICMP error stopped a TCP connect, named with its sender), \
                  open|filtered (UDP silence) or a local error. Every address a name resolves to is probed. \
                  Ports go after the targets or with -p: 22,80,8000-8100,http,u:53.";

/// `sockdiag probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Targets (host, host:port, [v6]:port, v6%scope, IP address), then PORTS unless -p is given
    #[arg(value_name = "TARGET [PORTS]", required = true, num_args = 1..)]
    pub targets: Vec<String>,

    /// Ports: 22,80,8000-8100,http (services database), - for all; t: or u: before a port picks TCP or UDP
    /// (default: the ports after the targets)
    #[arg(short, long, value_name = "PORTS", allow_hyphen_values = true)]
    pub ports: Option<String>,

    /// Probe TCP ports (the default; with --udp, both)
    #[arg(long)]
    pub tcp: bool,

    /// Probe UDP ports (DNS on 53 and NTP on 123 get a real request)
    #[arg(long)]
    pub udp: bool,

    /// Address family
    #[command(flatten)]
    pub family: FamilyArgs,

    /// Bind the local side to this address (and port): ADDR, ADDR:PORT or [V6]:PORT
    #[arg(short, long, value_name = "ADDR[:PORT]")]
    pub source: Option<String>,

    /// Wait this long for one answer (2, 500ms, 1.5s); default: adaptive per host from measured round trips,
    /// between 200 ms and 2 s
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = crate::units::parse_positive_duration)]
    pub timeout: Option<Duration>,

    /// Probe each port N times, like ping, and show loss and round-trip statistics; 0 repeats until Ctrl-C
    #[arg(short, long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub count: u32,

    /// Time between repeats of a probe with --count (a bare number is seconds; 0 sends each as soon as there
    /// is room for it)
    #[arg(short, long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "1s")]
    pub interval: Duration,

    /// Probes in flight at most (default: as many as the open-file limit allows, up to 4096)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,

    /// Send DATA after connecting (escapes \r \n \t \0 \\ \xHH) and show the first bytes received
    #[arg(long, value_name = "DATA", conflicts_with = "send_hex")]
    pub send: Option<String>,

    /// Like --send with the data in hex (0d0a)
    #[arg(long, value_name = "HEX")]
    pub send_hex: Option<String>,

    /// List every port in the table; by default more than 25 closed (or silent) ports of a host are counted
    #[arg(long)]
    pub all_ports: bool,

    /// Count UDP open|filtered (no reply) as open for the exit code
    #[arg(long)]
    pub udp_open_filtered_ok: bool,

    /// Time to re-probe, paced, the silent ports of a host that rate-limits its ICMP errors (0: never); what
    /// stays silent is then unknown, not filtered
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "5s")]
    pub retry_budget: Duration,
}
