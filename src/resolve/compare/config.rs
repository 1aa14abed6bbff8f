//! The validated request of `sockdiag resolve --compare`: host names, getaddrinfo hints, and how to ask DNS.

use crate::cli::ResolveArgs;
use crate::error::{Error, Result};
use crate::lookup::{Family, Hints};
use crate::resolve::config;
use crate::resolve::dns::config::DnsOptions;
use crate::resolve::names::Names;
use crate::target::{parse_ip_literal, validate_host_name};

/// What `--compare` compares.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// Host names (no addresses), in input order.
    pub names: Vec<String>,
    /// The hints getaddrinfo is given for the system side.
    pub hints: Hints,
    /// How the DNS side is asked.
    pub dns: DnsOptions,
    /// Lookups at once.
    pub parallel: usize,
}

impl CompareConfig {
    /// Validates the hints and names; flags that make no sense for a comparison of host names are refused.
    pub fn from_args(args: &ResolveArgs, names: Names) -> Result<Self> {
        let hints = config::hints(args);
        hints.validate()?;
        if args.ai_passive || args.ai_numerichost || args.service.is_some() {
            return Err(Error::usage(
                "--compare compares host names; --ai-passive, --ai-numerichost and --service do not apply",
            ));
        }
        for name in &names.names {
            if parse_ip_literal(name)?.is_some() {
                return Err(Error::usage(format!(
                    "--compare compares host names, and '{name}' is an address (for its PTR record use -x)"
                )));
            }
            validate_host_name(name)?;
        }
        if names.names.is_empty() {
            return Err(Error::usage("--compare needs at least one NAME (or -f FILE)"));
        }
        // The DNS side asks the servers whatever -4/-6 say: the family restricts getaddrinfo's answer only.
        let dns = DnsOptions::from_args(args, &names.at_servers, Family::Any)?;
        Ok(CompareConfig {
            names: names.names,
            hints,
            dns,
            parallel: config::parallel(args),
        })
    }
}
