//! The validated request of the system mode: getaddrinfo hints, the service, and what to look up.

use crate::cli::ResolveArgs;
use crate::error::{Error, Result};
use crate::lookup::{self, Hints};
use crate::resolve::config;
use crate::target::{IpLiteral, parse_ip_literal, validate_host_name};

/// What `sockdiag resolve` asks the system resolver.
#[derive(Debug, Clone)]
pub struct SystemConfig {
    /// The hints getaddrinfo is given.
    pub hints: Hints,
    /// `--service` as given.
    pub service: Option<String>,
    /// That service's port, for reverse lookups.
    pub port: Option<u16>,
    /// What to look up, in input order.
    pub queries: Vec<Query>,
    /// Lookups at once.
    pub parallel: usize,
}

/// One validated thing to look up.
#[derive(Debug, Clone)]
pub enum Query {
    /// A host name or address literal for getaddrinfo (None: the wildcard/loopback address).
    Forward(Option<String>),
    /// An address for getnameinfo, as written and as parsed.
    Reverse(String, IpLiteral),
}

impl SystemConfig {
    /// Validates the hints, the service and the names.
    pub fn from_args(args: &ResolveArgs, names: Vec<String>) -> Result<Self> {
        reject_dns_only(args)?;
        let mut hints = config::hints(args);
        // getaddrinfo rejects AI_CANONNAME without a host (EAI_BADFLAGS): there is no name to canonicalise.
        hints.canonname &= !names.is_empty();
        hints.validate()?;
        let port = match &args.service {
            Some(s) => Some(lookup::service_port(s, &hints)?),
            None => None,
        };
        let queries = queries(names, args.service.is_some(), &hints)?;
        Ok(SystemConfig {
            hints,
            service: args.service.clone(),
            port,
            queries,
            parallel: config::parallel(args),
        })
    }
}

/// Flags that shape a direct DNS query and mean nothing to getaddrinfo, which has no wait, transport or attempts
/// of its own (resolv.conf's options set them for every program).
fn reject_dns_only(args: &ResolveArgs) -> Result<()> {
    let used = [
        (args.timeout.is_some(), "-w/--timeout"),
        (args.tcp, "--tcp"),
        (args.attempts.is_some(), "--attempts"),
    ];
    match used.iter().find(|(on, _)| *on) {
        Some((_, flag)) => Err(Error::usage(format!(
            "{flag} shapes direct DNS queries (-t, -x, @SERVER, --server, --compare) and does not apply to the \
             system resolver's lookup (getaddrinfo), whose waits come from the options of /etc/resolv.conf"
        ))),
        None => Ok(()),
    }
}

fn queries(names: Vec<String>, has_service: bool, hints: &Hints) -> Result<Vec<Query>> {
    if names.is_empty() {
        if !has_service {
            return Err(Error::usage(
                "--ai-passive without NAME needs --service: getaddrinfo must be given a host or a service",
            ));
        }
        return Ok(vec![Query::Forward(None)]);
    }
    names.into_iter().map(|name| query(name, hints)).collect()
}

fn query(name: String, hints: &Hints) -> Result<Query> {
    match parse_ip_literal(&name)? {
        // A literal is a reverse lookup unless the user asked for getaddrinfo's view of it.
        Some(lit) if !hints.numeric_host => Ok(Query::Reverse(name, lit)),
        Some(_) => Ok(Query::Forward(Some(name))),
        None if hints.numeric_host => Err(Error::usage(format!(
            "--ai-numerichost needs IP addresses, got '{name}'"
        ))),
        None => {
            validate_host_name(&name)?;
            Ok(Query::Forward(Some(name)))
        }
    }
}
