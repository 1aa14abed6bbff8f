//! The validated request of the direct DNS mode: the questions, and which servers to ask how.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::RecordType;

use super::exchange::QueryPolicy;
use super::questions::{parse_types, questions};
use super::server::ServerChoice;
use crate::cli::{ProtocolArg, ResolveArgs, SockTypeArg};
use crate::error::{Error, Result};
use crate::lookup::Family;
use crate::resolve::config;
use crate::resolve::names::Names;

/// What `sockdiag resolve -t/-x/@SERVER` asks.
#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// Every question, in input order (names by types, then `-x` addresses).
    pub questions: Vec<Query>,
    /// `-4` / `-6`: which servers may be asked.
    pub family: Family,
    /// The servers and how to ask them.
    pub options: DnsOptions,
    /// Queries in flight at once.
    pub parallel: usize,
    /// `-t common`: a name counts as answered when any of its types has data (as dig exits 0).
    pub any_type_answers: bool,
}

/// The servers as chosen (not yet looked up) and how to ask them; `--compare` asks DNS the same way.
#[derive(Debug, Clone)]
pub struct DnsOptions {
    /// `@SERVER` and `--server`, or the system's.
    pub servers: ServerChoice,
    /// `--tcp`: TCP only.
    pub tcp_only: bool,
    /// `-w`: how long each try waits.
    pub timeout: Duration,
    /// `--attempts`: rounds over the servers.
    pub attempts: u8,
    /// `--dnssec`: set the DO bit and show the signatures.
    pub dnssec: bool,
    /// `--ca`: the CAs an encrypted server's certificate is checked against.
    pub ca: Option<std::path::PathBuf>,
    /// `--validate`: the trust anchors to validate from (None: no validation).
    pub validate: Option<super::validate::Anchors>,
    /// `--trust-anchor`: the file the anchors came from (None: the root's, built in).
    pub trust_anchor: Option<std::path::PathBuf>,
}

impl DnsOptions {
    /// Parses the servers; `-4`/`-6` refuse a server address of the other family.
    pub fn from_args(args: &ResolveArgs, at_servers: &[String], family: Family) -> Result<Self> {
        let servers = ServerChoice::parse(at_servers, args.server.as_deref(), family)?;
        let encrypted = matches!(servers, ServerChoice::Encrypted { .. });
        if args.ca.is_some() && !encrypted {
            return Err(Error::usage(
                "--ca FILE checks the certificate of an encrypted server: give one as @tls://ADDR or @https://HOST/PATH",
            ));
        }
        if args.validate && encrypted {
            return Err(Error::usage(
                "--validate asks the server over UDP; with a tls:// or https:// server it is not available yet",
            ));
        }
        if args.tcp && encrypted {
            return Err(Error::usage(
                "--tcp does not apply to tls:// and https:// servers, which are asked over their own connection",
            ));
        }
        Ok(DnsOptions {
            servers,
            tcp_only: args.tcp,
            timeout: config::timeout(args),
            attempts: config::attempts(args),
            dnssec: args.dnssec || args.validate,
            ca: args.ca.clone(),
            validate: match args.validate {
                true => Some(super::validate::anchors(args.trust_anchor.as_deref())?),
                false => None,
            },
            trust_anchor: args.trust_anchor.clone(),
        })
    }
}

impl DnsOptions {
    /// How each question is asked of these servers.
    pub fn policy(&self, servers: Vec<SocketAddr>) -> QueryPolicy {
        QueryPolicy {
            servers,
            tcp_only: self.tcp_only,
            timeout: self.timeout,
            attempts: self.attempts,
            dnssec: self.dnssec,
            iterative: false,
        }
    }
}

impl DnsConfig {
    /// Refuses getaddrinfo-only flags, parses the types and builds the questions.
    pub fn from_args(args: &ResolveArgs, names: Names) -> Result<Self> {
        reject_system_only(args)?;
        let types = if args.types.is_empty() {
            vec![RecordType::A]
        } else {
            parse_types(&args.types)?
        };
        let questions = questions(&names.names, &args.reverse, &types)?;
        if questions.is_empty() {
            return Err(Error::usage(
                "nothing to look up: give a NAME, -x ADDR or -f FILE",
            ));
        }
        let family = config::family(args);
        Ok(DnsConfig {
            questions,
            family,
            options: DnsOptions::from_args(args, &names.at_servers, family)?,
            parallel: config::parallel(args),
            any_type_answers: args.types.iter().any(|t| t.trim().eq_ignore_ascii_case("common")),
        })
    }
}

/// Flags that shape getaddrinfo and mean nothing to a direct DNS query.
fn reject_system_only(args: &ResolveArgs) -> Result<()> {
    let used = [
        (args.service.is_some(), "--service"),
        (args.socket_type != SockTypeArg::Any, "--socket-type"),
        (args.protocol != ProtocolArg::Any, "--protocol"),
        (args.no_ai_canonname, "--no-ai-canonname"),
        (args.ai_passive, "--ai-passive"),
        (args.ai_addrconfig, "--ai-addrconfig"),
        (args.ai_v4mapped, "--ai-v4mapped"),
        (args.ai_numerichost, "--ai-numerichost"),
    ];
    match used.iter().find(|(on, _)| *on) {
        Some((_, flag)) => Err(Error::usage(format!(
            "{flag} shapes the system resolver's lookup (getaddrinfo) and does not apply to direct DNS queries \
             (-t, -x, @SERVER, --server)"
        ))),
        None => Ok(()),
    }
}
