//! `sockdiag sockets`: this host's own sockets from NETLINK_SOCK_DIAG, who holds them, and what their state means.

mod diagnose;
mod filter;
pub mod model;
pub mod report;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::thread;

use crate::cli::SocketsArgs;
use crate::error::{Error, Result};
use crate::inventory::dump::Diag;
use crate::inventory::owners::Owners;
use crate::inventory::wire::{InetProto, InetSocket, UnixSocket};
use crate::lookup::Family;
use filter::Filter;
use model::{Proto, SocketRow};
use report::SocketsReport;

/// Lists the sockets, sampling `-c` times when asked: every sample but the last goes to `on_sample` as it is taken
/// (a live table, an NDJSON line), the last is returned, each with notes on what changed since the first.
pub fn run(args: &SocketsArgs, on_sample: &mut dyn FnMut(&SocketsReport)) -> Result<SocketsReport> {
    let filter = Filter::parse(&args.filter)?;
    let family = args.family.family();
    let mut diag = Diag::open().map_err(|e| Error::io("opening a NETLINK_SOCK_DIAG socket", e))?;
    let (rows, report) = snapshot(&mut diag, &filter, family)?;
    let first: HashMap<(Proto, u64), SocketRow> = rows
        .iter()
        .filter(|r| r.inode != 0)
        .map(|r| ((r.proto, r.inode), r.clone()))
        .collect();
    let mut last = complete(rows, report, &first, 1);
    if args.count > 1 {
        // Ctrl-C between samples ends the run with the last sample, not with nothing.
        crate::sys::sigint::catch().map_err(|e| Error::io("installing the Ctrl-C handler", e))?;
    }
    for sample in 2..=args.count {
        on_sample(&last);
        if !pause(args.interval) {
            last.interrupted = true;
            break;
        }
        let (rows, report) = snapshot(&mut diag, &filter, family)?;
        last = complete(rows, report, &first, sample);
    }
    Ok(last)
}

/// Sleeps for `interval` in short steps; false when Ctrl-C came meanwhile.
fn pause(interval: std::time::Duration) -> bool {
    let step = std::time::Duration::from_millis(20);
    let end = std::time::Instant::now() + interval;
    while std::time::Instant::now() < end {
        if crate::sys::sigint::caught() {
            return false;
        }
        thread::sleep(step.min(end.saturating_duration_since(std::time::Instant::now())));
    }
    !crate::sys::sigint::caught()
}

/// A sample's rows annotated, compared with the first sample, grouped, sorted and counted.
fn complete(
    mut rows: Vec<SocketRow>,
    mut report: SocketsReport,
    first: &HashMap<(Proto, u64), SocketRow>,
    sample: u32,
) -> SocketsReport {
    if sample > 1 {
        for row in rows.iter_mut() {
            if let Some(before) = first.get(&(row.proto, row.inode)) {
                diagnose::changes(before, row);
            }
        }
    }
    report.samples = sample;
    report.sockets = finish(rows);
    report.states = count_states(&report.sockets);
    report
}

/// What one sample read from the kernel, before owners are attached.
struct Raw {
    inet: Vec<(Proto, InetSocket)>,
    unix: Vec<UnixSocket>,
    not_listed: Vec<String>,
}

/// One look at every socket the filter wants: rows annotated, owners attached. The /proc walk for owners runs on a
/// thread of its own while the kernel is asked, as the two take about as long on a busy host.
fn snapshot(diag: &mut Diag, filter: &Filter, family: Family) -> Result<(Vec<SocketRow>, SocketsReport)> {
    let (owners, raw) = thread::scope(|s| {
        let scan = s.spawn(Owners::scan);
        let raw = dump_all(diag, filter, family);
        (scan.join().unwrap_or_default(), raw)
    });
    let Raw {
        inet,
        unix,
        not_listed,
    } = raw?;
    let mut rows: Vec<SocketRow> = inet
        .into_iter()
        .map(|(proto, s)| model::inet_row(proto, s, &owners))
        .chain(unix.into_iter().map(|s| model::unix_row(s, &owners)))
        .collect();
    rows.retain(|r| filter.matches(r));
    let hidden = if owners.hidden_processes > 0 {
        rows.iter()
            .filter(|r| r.inode != 0 && r.owners.is_empty())
            .count() as u32
    } else {
        0
    };
    let report = SocketsReport {
        sockets: Vec::new(),
        states: BTreeMap::new(),
        owners_hidden: hidden,
        not_listed,
        samples: 1,
        interrupted: false,
    };
    Ok((rows, report))
}

/// The kernel's records of every kind the filter wants.
fn dump_all(diag: &mut Diag, filter: &Filter, family: Family) -> Result<Raw> {
    let mut raw = Raw {
        inet: Vec::new(),
        unix: Vec::new(),
        not_listed: Vec::new(),
    };
    let kinds = [
        (Proto::Tcp, InetProto::Tcp),
        (Proto::Udp, InetProto::Udp),
        (Proto::Raw, InetProto::Raw),
    ];
    for (proto, inet) in kinds {
        if !filter.wants(proto) {
            continue;
        }
        for af in families(family) {
            match diag.inet(af, inet) {
                Ok(found) => raw.inet.extend(found.into_iter().map(|s| (proto, s))),
                Err(e) if proto == Proto::Raw => {
                    let why = plain(&e);
                    raw.not_listed.push(format!(
                        "raw sockets not listed: the kernel has no raw_diag ({why})"
                    ));
                    break;
                }
                Err(e) => {
                    return Err(Error::io(
                        format!("asking the kernel for {} sockets", proto.name()),
                        e,
                    ));
                }
            }
        }
    }
    if filter.wants(Proto::Unix) && family == Family::Any {
        raw.unix = diag
            .unix()
            .map_err(|e| Error::io("asking the kernel for unix sockets", e))?;
    }
    Ok(raw)
}

fn families(family: Family) -> Vec<u8> {
    match family {
        Family::Inet => vec![libc::AF_INET as u8],
        Family::Inet6 => vec![libc::AF_INET6 as u8],
        Family::Any => vec![libc::AF_INET as u8, libc::AF_INET6 as u8],
    }
}

/// Notes, TIME-WAIT grouped, sorted: protocol, then state, then local end.
fn finish(mut rows: Vec<SocketRow>) -> Vec<SocketRow> {
    for row in rows.iter_mut() {
        diagnose::annotate(row);
    }
    let mut rows = diagnose::group_time_wait(rows);
    rows.sort_by(|a, b| {
        (a.proto.name(), a.state, a.local_addr, &a.local).cmp(&(
            b.proto.name(),
            b.state,
            b.local_addr,
            &b.local,
        ))
    });
    rows
}

fn count_states(rows: &[SocketRow]) -> BTreeMap<String, u32> {
    let mut states = BTreeMap::new();
    for row in rows {
        *states.entry(row.state.to_string()).or_insert(0) += row.count;
    }
    states
}

fn plain(e: &io::Error) -> String {
    crate::error::plain_io(e)
}
