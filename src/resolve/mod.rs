//! `sockdiag resolve`: validate the request, run the lookups concurrently, build the report.

pub mod compare;
pub mod compare_report;
pub mod compare_run;
pub mod direct;
pub mod dns;
pub mod dns_report;
pub mod hosts;
pub mod records;
pub mod report;
pub mod server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::cli::{ProtocolArg, ResolveArgs, SockTypeArg};
use crate::error::{Error, Outcome, Result};
use crate::lookup::{self, FailureClass, Family, Hints, Protocol, SockType};
use crate::target::{parse_ip_literal, validate_host_name};

use report::{HintsReport, NameReport, ResolveReport};

/// One validated thing to look up.
#[derive(Debug, Clone)]
enum Query {
    /// A host name or address literal for getaddrinfo (None: the wildcard/loopback address).
    Forward(Option<String>),
    /// An address for getnameinfo.
    Reverse(String, crate::target::IpLiteral),
}

/// Runs `sockdiag resolve` and returns the report with its outcome.
pub fn run(args: &ResolveArgs) -> Result<(ResolveReport, Outcome)> {
    let mut hints = hints_from(args);
    // getaddrinfo rejects AI_CANONNAME without a host (EAI_BADFLAGS): there is no name to canonicalise.
    hints.canonname &= !args.names.is_empty();
    hints.validate()?;
    let port = match &args.service {
        Some(s) => Some(lookup::service_port(s, &hints)?),
        None => None,
    };
    let queries = queries_from(args, &hints)?;
    let service = args.service.as_deref();
    let dgram = hints.socktype == SockType::Dgram;

    let results = map_bounded(&queries, args.parallel.into(), |q| {
        lookup(q, service, port, dgram, &hints)
    });

    let report = ResolveReport {
        hints: HintsReport::from_hints(&hints, args.service.clone()),
        results,
    };
    let outcome = outcome_of(&report)?;
    Ok((report, outcome))
}

fn hints_from(args: &ResolveArgs) -> Hints {
    Hints {
        family: match (args.family.ipv4, args.family.ipv6) {
            (true, _) => Family::Inet,
            (_, true) => Family::Inet6,
            _ => Family::Any,
        },
        socktype: match args.socktype {
            SockTypeArg::Stream => SockType::Stream,
            SockTypeArg::Dgram => SockType::Dgram,
            SockTypeArg::Raw => SockType::Raw,
            SockTypeArg::Any => SockType::Any,
        },
        protocol: args.protocol.map(|p| match p {
            ProtocolArg::Tcp => Protocol::Tcp,
            ProtocolArg::Udp => Protocol::Udp,
        }),
        canonname: !args.no_canonname,
        passive: args.passive,
        addrconfig: args.addrconfig,
        v4mapped: args.v4mapped,
        all: args.all,
        numeric_host: args.numeric_host,
    }
}

fn queries_from(args: &ResolveArgs, hints: &Hints) -> Result<Vec<Query>> {
    if args.names.is_empty() {
        if args.service.is_none() {
            return Err(Error::usage(
                "--passive without NAME needs --service: getaddrinfo must be given a host or a service",
            ));
        }
        return Ok(vec![Query::Forward(None)]);
    }
    args.names
        .iter()
        .map(|name| {
            let literal = parse_ip_literal(name)?;
            match literal {
                // A literal is a reverse lookup unless the user asked for getaddrinfo's view of it.
                Some(lit) if !hints.numeric_host => Ok(Query::Reverse(name.clone(), lit)),
                Some(_) => Ok(Query::Forward(Some(name.clone()))),
                None if hints.numeric_host => Err(Error::usage(format!(
                    "--numeric-host needs IP addresses, got '{name}'"
                ))),
                None => {
                    validate_host_name(name)?;
                    Ok(Query::Forward(Some(name.clone())))
                }
            }
        })
        .collect()
}

fn lookup(query: &Query, service: Option<&str>, port: Option<u16>, dgram: bool, hints: &Hints) -> NameReport {
    let start = Instant::now();
    match query {
        Query::Forward(name) => {
            let result = lookup::getaddrinfo(name.as_deref(), service, hints);
            NameReport::forward(name.clone(), start.elapsed(), result)
        }
        Query::Reverse(text, lit) => {
            let result = lookup::getnameinfo(*lit, port, dgram);
            NameReport::reverse(text.clone(), port, start.elapsed(), result)
        }
    }
}

/// Exit status of a finished report: a system failure beats a usage one beats a negative one.
fn outcome_of(report: &ResolveReport) -> Result<Outcome> {
    let failures: Vec<_> = report.results.iter().filter_map(|r| r.error.as_ref()).collect();
    if let Some(f) = failures.iter().find(|f| f.class == FailureClass::System) {
        return Err(Error::System(format!("name lookup failed: {}", f.message)));
    }
    if let Some(f) = failures.iter().find(|f| f.class == FailureClass::Usage) {
        return Err(Error::usage(format!(
            "name lookup refused the request: {} ({})",
            f.message, f.code
        )));
    }
    Ok(Outcome::negative_if(!failures.is_empty()))
}

/// The request with `-f` names appended to the NAME arguments and dig-style `@SERVER` arguments split off.
pub fn prepare(args: &ResolveArgs) -> Result<(ResolveArgs, Vec<String>)> {
    let (mut names, at) = server::split_at_servers(&args.names);
    if let Some(path) = &args.file {
        names.extend(read_names_file(path)?);
    }
    let mut args = args.clone();
    args.names = names;
    Ok((args, at))
}

fn read_names_file(path: &std::path::Path) -> Result<Vec<String>> {
    let label = path.display().to_string();
    let names = if label == "-" {
        names_from(std::io::stdin().lock(), "stdin")?
    } else {
        match std::fs::File::open(path) {
            Ok(file) => names_from(std::io::BufReader::new(file), &label)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::usage(format!(
                    "cannot read names from '{label}': no such file"
                )));
            }
            Err(e) => return Err(Error::io(format!("reading names from '{label}'"), e)),
        }
    };
    // An empty list is almost always a mistake (a wrong file or a failed pipeline).
    if names.is_empty() {
        return Err(Error::usage(format!(
            "no names in '{label}' (one a line; # starts a comment)"
        )));
    }
    Ok(names)
}

/// Reads names one a line, skipping blank lines and `#` comments; a malformed line is a usage error naming it.
pub fn names_from(reader: impl std::io::BufRead, label: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(format!("reading names from {label}"), e))?;
        let name = line.split('#').next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        if parse_ip_literal(name)?.is_none() {
            validate_host_name(name).map_err(|e| Error::usage(format!("{label} line {}: {e}", i + 1)))?;
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// Applies a blocking function to every item with at most `limit` running at once; results keep input order.
fn map_bounded<T: Sync, R: Send>(items: &[T], limit: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let workers = limit.clamp(1, items.len().max(1));
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        for handle in handles {
            for (i, r) in handle.join().expect("lookup worker panicked") {
                slots[i] = Some(r);
            }
        }
    });
    slots
        .into_iter()
        .map(|r| r.expect("every item looked up"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_map_keeps_order_and_covers_all() {
        let items: Vec<u32> = (0..100).collect();
        let out = map_bounded(&items, 7, |x| x * 2);
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(map_bounded(&[] as &[u32], 4, |x| *x).is_empty());
    }

    #[test]
    fn names_file_skips_comments_and_names_bad_lines() {
        let text = "# names\nweb.lab.test\n\n  mail.lab.test  # the MX\n198.51.100.7\n";
        let names = names_from(text.as_bytes(), "names.txt").unwrap();
        assert_eq!(names, ["web.lab.test", "mail.lab.test", "198.51.100.7"]);
        let err = names_from("ok.test\nbad name\n".as_bytes(), "names.txt").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("names.txt line 2: bad name"), "{err}");
    }
}
