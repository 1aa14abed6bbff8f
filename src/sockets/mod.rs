//! `sockdiag sockets`: this host's own sockets from NETLINK_SOCK_DIAG, who holds them, and what their state means.

mod diagnose;
mod filter;
pub mod model;
mod plain;
pub mod report;

use std::collections::HashMap;
use std::io;
use std::sync::OnceLock;
use std::thread;

use crate::cli::SocketsArgs;
use crate::error::{Error, Result};
use crate::inventory::dump::Diag;
use crate::inventory::owners::{Owners, Walk};
use crate::inventory::wire::InetProto;
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
    let mut rows = Vec::new();
    let (report, _) = sample(&mut diag, &filter, family, &mut |r| rows.push(r))?;
    // Only a sampled run compares with the first look; a single one does not keep a second copy of every row.
    let first: HashMap<(Proto, u64), SocketRow> = if args.count > 1 {
        rows.iter()
            .filter(|r| r.inode != 0)
            .map(|r| ((r.proto, r.inode), r.clone()))
            .collect()
    } else {
        HashMap::new()
    };
    let mut last = complete(rows, report, &first, 1);
    if args.count > 1 {
        // Ctrl-C between samples ends the run with the last sample, not with nothing.
        crate::sys::sigint::catch().map_err(|e| Error::io("installing the Ctrl-C handler", e))?;
    }
    for n in 2..=args.count {
        on_sample(&last);
        if !pause(args.interval) {
            last.interrupted = true;
            break;
        }
        let mut rows = Vec::new();
        let (report, _) = sample(&mut diag, &filter, family, &mut |r| rows.push(r))?;
        last = complete(rows, report, &first, n);
    }
    Ok(last)
}

/// One look written as plain columns while the kernel is read: rows are never held as a report, only as their
/// text, which is what lets a pipe take a host's hundred thousand sockets in little memory. The report returned
/// has the counts and notes but no rows.
pub fn write_plain(args: &SocketsArgs, out: &mut dyn io::Write) -> Result<SocketsReport> {
    let filter = Filter::parse(&args.filter)?;
    let family = args.family.family();
    let mut diag = Diag::open().map_err(|e| Error::io("opening a NETLINK_SOCK_DIAG socket", e))?;
    diag.skip_congestion();
    let mut rows = plain::PlainRows::with_capacity(crate::inventory::socket_estimate());
    let (mut report, owners) = if filter.needs_owners() {
        sample(&mut diag, &filter, family, &mut |r| rows.push(&r))?
    } else {
        walk_beside(|| {
            let report = read_rows(&mut diag, &filter, family, &Owners::default(), &mut |r| {
                rows.push(&r)
            });
            rows.sort();
            report
        })?
    };
    report.owners_hidden = rows.owners_hidden(&owners);
    match rows.write(&report, &owners, out) {
        // A closed pipe (`| head`) is not an error.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::io("writing the report to stdout", e)),
        _ => Ok(report),
    }
}

/// Runs `dump` while another thread walks /proc for the owners, then helps that walk: the two take about as long
/// each, and plain rows need their owners only when written. The thread gets a small stack and the map its final
/// size at once, so that it costs little more memory than the walk done first (measured in bench/sockets.sh).
fn walk_beside(dump: impl FnOnce() -> Result<SocketsReport>) -> Result<(SocketsReport, Owners)> {
    let listed = OnceLock::new();
    let (report, found) = thread::scope(|scope| {
        let walker = thread::Builder::new()
            .name("owners".into())
            .stack_size(256 << 10)
            .spawn_scoped(scope, || listed.get_or_init(Walk::list).work())
            .map_err(|e| Error::io("starting the thread that finds socket owners", e))?;
        let report = dump();
        // Not `wait`: should the walker die before listing, this thread lists instead of waiting forever.
        let mine = listed.get_or_init(Walk::list).work();
        let theirs = walker.join().unwrap_or_default();
        Ok::<_, Error>((report, vec![theirs, mine]))
    })?;
    let mut walk = listed.into_inner().unwrap_or_default();
    let mut found = found;
    found.push(walk.finish());
    let owners = Owners::merge(walk, found);
    Ok((report?, owners))
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

/// A sample's rows compared with the first sample and sorted.
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
    rows.sort_by(|a, b| order(a).cmp(&order(b)).then_with(|| a.local.cmp(&b.local)));
    report.samples = sample;
    report.sockets = rows;
    report
}

/// Rows sort by protocol, then state, then local address (the local text for Unix sockets).
fn order(row: &SocketRow) -> (u8, Option<std::net::SocketAddr>) {
    (model::rank(row.proto, row.state), row.local_addr)
}

/// One look at every socket the filter wants, each row handed to `found` as it is made, with the /proc walk that
/// names the owners (returned for a writer that fills the owner column late).
///
/// The walk comes first because each row is made with its owners here: a table or JSON report holds them, and a
/// `pid`/`process` filter needs them to decide. Plain output without such a filter walks beside the dump instead
/// ([`walk_beside`]).
fn sample(
    diag: &mut Diag,
    filter: &Filter,
    family: Family,
    found: &mut dyn FnMut(SocketRow),
) -> Result<(SocketsReport, Owners)> {
    let owners = Owners::scan();
    let report = read_rows(diag, filter, family, &owners, found)?;
    Ok((report, owners))
}

/// The rows of every socket the filter wants, annotated, TIME-WAIT grouped at the end, handed to `found`.
fn read_rows(
    diag: &mut Diag,
    filter: &Filter,
    family: Family,
    owners: &Owners,
    found: &mut dyn FnMut(SocketRow),
) -> Result<SocketsReport> {
    let mut report = SocketsReport::empty();
    let mut time_wait = diagnose::TimeWait::default();
    let mut keep = |report: &mut SocketsReport, mut row: SocketRow| {
        if !filter.matches(&row) {
            return;
        }
        if model::hidden_owner(row.inode, row.owners.is_empty(), owners) {
            report.owners_hidden += 1;
        }
        diagnose::annotate(&mut row);
        if let Some(row) = time_wait.offer(row) {
            count(report, &row);
            found(row);
        }
    };
    dump_all(diag, filter, family, owners, &mut report, &mut keep)?;
    for row in time_wait.groups() {
        count(&mut report, &row);
        found(row);
    }
    Ok(report)
}

fn count(report: &mut SocketsReport, row: &SocketRow) {
    // Looked up before inserting: a name made per row would be an allocation per socket.
    match report.states.get_mut(row.state) {
        Some(n) => *n += row.count,
        None => {
            report.states.insert(row.state.to_string(), row.count);
        }
    }
}

/// The kernel's records of every kind the filter wants, as rows.
fn dump_all(
    diag: &mut Diag,
    filter: &Filter,
    family: Family,
    owners: &Owners,
    report: &mut SocketsReport,
    keep: &mut dyn FnMut(&mut SocketsReport, SocketRow),
) -> Result<()> {
    let kinds = [
        (Proto::Tcp, InetProto::Tcp),
        (Proto::Udp, InetProto::Udp),
        (Proto::Raw, InetProto::Raw),
    ];
    for (proto, inet) in kinds {
        if !filter.wants(proto) {
            continue;
        }
        if proto == Proto::Tcp && family == Family::Any && tcp_both(diag, owners, report, keep)? {
            continue;
        }
        for af in families(family) {
            let dumped = diag.each_inet(af, inet, &mut |s| {
                keep(report, model::inet_row(proto, s, owners));
            });
            match dumped {
                Ok(()) => {}
                Err(e) if proto == Proto::Raw => {
                    let why = crate::error::plain_io(&e);
                    report.not_listed.push(format!(
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
        diag.each_unix(&mut |s| keep(report, model::unix_row(s, owners)))
            .map_err(|e| Error::io("asking the kernel for unix sockets", e))?;
    }
    Ok(())
}

/// The TCP sockets of both families from one dump (one walk of the kernel's table instead of one per family);
/// false when the kernel refused that request before any socket, for the caller to ask per family.
fn tcp_both(
    diag: &mut Diag,
    owners: &Owners,
    report: &mut SocketsReport,
    keep: &mut dyn FnMut(&mut SocketsReport, SocketRow),
) -> Result<bool> {
    let mut seen = false;
    let dumped = diag.each_tcp(&mut |s| {
        seen = true;
        keep(report, model::inet_row(Proto::Tcp, s, owners));
    });
    match dumped {
        Ok(()) => Ok(true),
        Err(_) if !seen => Ok(false),
        Err(e) => Err(Error::io("asking the kernel for tcp sockets", e)),
    }
}

fn families(family: Family) -> Vec<u8> {
    match family {
        Family::Inet => vec![libc::AF_INET as u8],
        Family::Inet6 => vec![libc::AF_INET6 as u8],
        Family::Any => vec![libc::AF_INET as u8, libc::AF_INET6 as u8],
    }
}
