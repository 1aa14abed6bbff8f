//! The validated request of `sockdiag resolve`: which of the three modes the arguments choose, with that mode's
//! settings. Nothing past this module sees a clap type.

use std::time::Duration;

use super::compare::config::CompareConfig;
use super::dns::config::DnsConfig;
use super::names::Names;
use super::system::config::SystemConfig;
use crate::cli::{ProtocolArg, ResolveArgs, SockTypeArg};
use crate::error::Result;
use crate::lookup::{Family, Hints, Protocol, SockType};

/// Per-try wait for a DNS answer when `-w` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Rounds over the DNS servers when `--attempts` is not given.
pub const DEFAULT_ATTEMPTS: u8 = 2;

/// What `sockdiag resolve` was asked to do.
#[derive(Debug, Clone)]
pub enum Config {
    /// Ask the system resolver (getaddrinfo, getnameinfo) as a program on this host would.
    System(SystemConfig),
    /// Ask DNS servers directly (`-t`, `-x`, `@SERVER`, `--server`).
    Dns(DnsConfig),
    /// Set both views of each name side by side (`--compare`).
    Compare(CompareConfig),
    /// Ask every server at once and set their answers side by side (`--servers-compare`).
    Servers(DnsConfig),
    /// Walk the delegations from the root (`--trace`).
    Trace(super::delegation::TraceConfig),
}

impl Config {
    /// Chooses the mode for a chunk of names (checked, in ASCII) and validates the arguments for it.
    pub fn from_args(args: &ResolveArgs, names: Names) -> Result<Config> {
        if args.trace {
            trace_config(args, names).map(Config::Trace)
        } else if args.compare {
            CompareConfig::from_args(args, names).map(Config::Compare)
        } else if args.servers_compare {
            DnsConfig::from_args(args, names).map(Config::Servers)
        } else if asks_dns(args, &names) {
            DnsConfig::from_args(args, names).map(Config::Dns)
        } else {
            SystemConfig::from_args(args, names.names).map(Config::System)
        }
    }
}

/// Whether the arguments ask DNS directly rather than the system resolver.
fn asks_dns(args: &ResolveArgs, names: &Names) -> bool {
    !args.types.is_empty()
        || args.servers_compare
        || args.dnssec
        || args.validate
        || !args.reverse.is_empty()
        || !names.at_servers.is_empty()
        || args.server.is_some()
}

/// `--trace`: the questions as the DNS mode builds them, the hints, the wait; no server is chosen (the hints
/// are the servers).
fn trace_config(args: &ResolveArgs, names: Names) -> Result<super::delegation::TraceConfig> {
    if !names.at_servers.is_empty() || args.server.is_some() {
        return Err(crate::error::Error::usage(
            "--trace asks the servers the delegations name, from the root down; @SERVER and --server do not \
             apply (start elsewhere with --root-hints FILE)",
        ));
    }
    let dns = DnsConfig::from_args(args, names)?;
    Ok(super::delegation::TraceConfig {
        questions: dns.questions,
        hints: super::delegation::hints::load(args.root_hints.as_deref())?,
        timeout: timeout(args),
    })
}

/// The getaddrinfo hints the flags ask for.
pub(super) fn hints(args: &ResolveArgs) -> Hints {
    Hints {
        family: family(args),
        socktype: match args.socket_type {
            SockTypeArg::Stream => SockType::Stream,
            SockTypeArg::Dgram => SockType::Dgram,
            SockTypeArg::Raw => SockType::Raw,
            SockTypeArg::Any => SockType::Any,
        },
        protocol: match args.protocol {
            ProtocolArg::Tcp => Some(Protocol::Tcp),
            ProtocolArg::Udp => Some(Protocol::Udp),
            ProtocolArg::Any => None,
        },
        canonname: !args.no_ai_canonname,
        passive: args.ai_passive,
        addrconfig: args.ai_addrconfig,
        v4mapped: args.ai_v4mapped,
        all: args.ai_all,
        numeric_host: args.ai_numerichost,
    }
}

/// The family `-4` / `-6` choose.
pub(super) fn family(args: &ResolveArgs) -> Family {
    args.family.family()
}

/// `-w`: the per-try wait for a DNS answer (clap has refused zero).
pub(super) fn timeout(args: &ResolveArgs) -> Duration {
    args.timeout.unwrap_or(DEFAULT_TIMEOUT)
}

/// `--attempts`: rounds over the DNS servers.
pub(super) fn attempts(args: &ResolveArgs) -> u8 {
    args.attempts.unwrap_or(DEFAULT_ATTEMPTS)
}

/// How many lookups run at once.
pub(super) fn parallel(args: &ResolveArgs) -> usize {
    args.parallel.into()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn config(args: &[&str]) -> Result<Config> {
        let cli = Cli::try_parse_from(["sockdiag", "resolve"].iter().chain(args)).unwrap();
        let Command::Resolve(args) = cli.command else {
            unreachable!("parsed as resolve")
        };
        let (names, at_servers) = super::super::names::split_at_servers(&args.names);
        let mut input = super::super::input::Input::open(&names, None, 16)?;
        let names = input
            .next_chunk(16)?
            .entries
            .into_iter()
            .map(|e| e.name)
            .collect();
        Config::from_args(&args, Names { names, at_servers })
    }

    #[test]
    fn the_arguments_choose_the_mode() {
        assert!(matches!(config(&["a.test"]), Ok(Config::System(_))));
        assert!(matches!(config(&["-t", "MX", "a.test"]), Ok(Config::Dns(_))));
        assert!(matches!(config(&["-x", "198.51.100.7"]), Ok(Config::Dns(_))));
        assert!(matches!(config(&["@127.0.0.1", "a.test"]), Ok(Config::Dns(_))));
        assert!(matches!(
            config(&["--server", "127.0.0.1", "a.test"]),
            Ok(Config::Dns(_))
        ));
        assert!(matches!(
            config(&["--compare", "@127.0.0.1", "a.test"]),
            Ok(Config::Compare(_))
        ));
    }

    #[test]
    fn each_mode_validates_its_own_flags() {
        let usage = |args: &[&str]| config(args).unwrap_err().exit_code();
        assert_eq!(usage(&["-t", "A", "--ai-passive", "a.test"]), 2);
        assert_eq!(usage(&["--ai-numerichost", "a.test"]), 2);
        assert_eq!(usage(&["-w", "1", "a.test"]), 2);
        assert_eq!(usage(&["--tcp", "a.test"]), 2);
        assert_eq!(usage(&["--attempts", "3", "a.test"]), 2);
        let Ok(Config::Dns(dns)) = config(&["-t", "A,MX", "@127.0.0.1:5353", "a.test", "b.test"]) else {
            panic!("a DNS request")
        };
        assert_eq!(dns.questions.len(), 4);
        assert_eq!(dns.options.timeout, DEFAULT_TIMEOUT);
        assert_eq!(dns.options.attempts, DEFAULT_ATTEMPTS);
    }
}
