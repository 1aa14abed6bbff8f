//! `sockdiag resolve --trace`: the delegations walked from the root (or `--root-hints FILE`) like
//! `dig +trace`, but every server of each zone is asked, not one, and what dig cannot show is marked: a lame
//! server, one that timed out, NS sets that differ between a zone's parent and the zone itself, glue that
//! disagrees with the zone's own address records.

pub mod classify;
pub mod hints;
pub mod report;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{Name, RecordType};

use super::dns::exchange::{self, Exchange, QueryPolicy, TryOutcome};
use super::dns::records::{name_text, type_name};
use crate::error::{Error, Outcome, Result};
use classify::{Reply, classify, text};
use hints::Hints;
use report::{DelegationReport, ReplyKind, ServerReply, TraceRun, TraceStep};

/// The most zones one walk goes through (a loop of referrals ends here).
const MAX_STEPS: usize = 16;

/// The most server addresses asked in one zone (the root has 13 servers, each with two addresses): a hostile
/// referral naming thousands is cut here, and the cut is marked.
const MAX_ADDRESSES: usize = 32;

/// What `--trace` asks.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    /// Every question, in input order.
    pub questions: Vec<Query>,
    /// Where the walk starts.
    pub hints: Hints,
    /// How long each server is waited for.
    pub timeout: Duration,
}

/// Walks every question's delegations and returns the report with its outcome.
pub fn run(config: &TraceConfig) -> Result<(DelegationReport, Outcome)> {
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    let traces: Vec<TraceRun> = runtime.block_on(async {
        let mut out = Vec::new();
        for q in &config.questions {
            out.push(walk(q, &config.hints, config.timeout).await);
        }
        out
    });
    let negative = traces.iter().any(TraceRun::is_negative);
    let report = DelegationReport {
        hints: config.hints.source.clone(),
        traces,
        took: started.elapsed(),
    };
    Ok((report, Outcome::negative_if(negative)))
}

/// Server names with an address given for each.
type Glue = Vec<(String, IpAddr)>;

/// The parent's view of a zone: its NS names and the glue given with them.
struct Delegation {
    ns: Vec<String>,
    glue: Glue,
}

/// One question, zone by zone from the hints down.
async fn walk(q: &Query, hints: &Hints, timeout: Duration) -> TraceRun {
    let mut zone = Name::from_ascii(&hints.zone).unwrap_or_else(|_| Name::root());
    let mut servers = hints.servers.clone();
    let mut parent: Option<Delegation> = None;
    let mut steps = Vec::new();
    let mut result = (format!("gave up after {MAX_STEPS} zones"), false);
    for _ in 0..MAX_STEPS {
        let asked = ask_servers(&servers, q, &zone, timeout).await;
        let mut marks = marks_of(&asked, &servers);
        if let Some(p) = &parent {
            marks.extend(check_child(&zone, p, &servers, timeout).await);
        }
        let next = next_zone(&asked);
        steps.push(TraceStep {
            zone: text(&zone),
            servers: asked.into_iter().map(|(row, _)| row).collect(),
            marks,
        });
        match next {
            Next::Final(words) => {
                result = (words, true);
                break;
            }
            Next::Down(child, delegation) => {
                servers = delegation
                    .ns
                    .iter()
                    .map(|n| {
                        let ips = delegation
                            .glue
                            .iter()
                            .filter(|(g, _)| g == n)
                            .map(|(_, ip)| *ip)
                            .collect();
                        (n.clone(), ips)
                    })
                    .collect();
                zone = Name::from_ascii(&child).unwrap_or_else(|_| Name::root());
                parent = Some(delegation);
            }
            Next::Stuck => {
                result = (
                    format!("no server of {} answered or referred", text(&zone)),
                    false,
                );
                break;
            }
        }
    }
    TraceRun {
        name: name_text(q.name()),
        qtype: type_name(q.query_type()),
        steps,
        result: result.0,
        answered: result.1,
    }
}

/// Asks `name type` of one address without recursion, once.
async fn ask_one(ip: IpAddr, query: &Query, timeout: Duration) -> Exchange {
    let policy = QueryPolicy {
        servers: vec![SocketAddr::new(ip, 53)],
        tcp_only: false,
        timeout,
        attempts: 1,
        dnssec: false,
        iterative: true,
    };
    exchange::ask(&policy, query).await
}

/// Every address of every server at once; each row with its classified reply.
async fn ask_servers(
    servers: &[(String, Vec<IpAddr>)],
    q: &Query,
    zone: &Name,
    timeout: Duration,
) -> Vec<(ServerReply, Option<Reply>)> {
    let mut handles = Vec::new();
    let all = servers
        .iter()
        .flat_map(|(name, ips)| ips.iter().map(move |ip| (name, *ip)));
    for (name, ip) in all.take(MAX_ADDRESSES) {
        let (query, name) = (q.clone(), name.clone());
        handles.push(tokio::spawn(async move {
            (name, ip, ask_one(ip, &query, timeout).await)
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        let Ok((name, ip, ex)) = h.await else { continue };
        out.push(row(name, ip, ex, zone, q));
    }
    out
}

/// A server's row: what the exchange came to, classified against the zone.
fn row(name: String, address: IpAddr, ex: Exchange, zone: &Name, q: &Query) -> (ServerReply, Option<Reply>) {
    let mut reply = ServerReply {
        name,
        address,
        reply: ReplyKind::Timeout,
        detail: String::new(),
        time_ms: None,
    };
    let Some(answer) = ex.answer else {
        let outcome = ex.tries.last().map(|t| t.outcome.clone());
        (reply.reply, reply.detail) = match outcome {
            Some(TryOutcome::NoConnection(why)) => (ReplyKind::NoConnection, format!("no connection: {why}")),
            Some(TryOutcome::BadResponse(why)) => (ReplyKind::BadResponse, format!("bad response: {why}")),
            _ => (ReplyKind::Timeout, "timed out".into()),
        };
        return (reply, None);
    };
    reply.time_ms = Some(crate::render::ms_f64(answer.query_time));
    let classified = classify(&answer.message, zone, q.name(), q.query_type());
    (reply.reply, reply.detail) = match &classified {
        Reply::Answer(data) => (ReplyKind::Answer, data.join(", ")),
        Reply::Nxdomain => (ReplyKind::Nxdomain, "NXDOMAIN".into()),
        Reply::Nodata => (
            ReplyKind::Nodata,
            format!("NODATA (no {} record)", q.query_type()),
        ),
        Reply::Referral { zone, ns, .. } => (
            ReplyKind::Referral,
            format!("referral to {zone}: {}", ns.join(", ")),
        ),
        Reply::Lame(why) => (ReplyKind::Lame, format!("lame: {why}")),
    };
    (reply, Some(classified))
}

/// Where the walk goes next.
enum Next {
    /// An authoritative answer ends it.
    Final(String),
    /// The referral most servers gave.
    Down(String, Delegation),
    /// Nobody answered or referred.
    Stuck,
}

fn next_zone(asked: &[(ServerReply, Option<Reply>)]) -> Next {
    if let Some((row, _)) = asked
        .iter()
        .find(|(_, r)| matches!(r, Some(Reply::Answer(_) | Reply::Nxdomain | Reply::Nodata)))
    {
        return Next::Final(format!("{} from {} ({})", row.detail, row.name, row.address));
    }
    let referrals: Vec<(&String, &Vec<String>, &Glue)> = asked
        .iter()
        .filter_map(|(_, r)| match r {
            Some(Reply::Referral { zone, ns, glue }) => Some((zone, ns, glue)),
            _ => None,
        })
        .collect();
    let best = referrals
        .iter()
        .max_by_key(|(z, n, _)| referrals.iter().filter(|(z2, n2, _)| z2 == z && n2 == n).count());
    match best {
        Some((zone, ns, _)) => {
            let mut glue: Vec<(String, IpAddr)> =
                referrals.iter().flat_map(|(_, _, g)| g.iter().cloned()).collect();
            glue.sort();
            glue.dedup();
            Next::Down(
                (*zone).clone(),
                Delegation {
                    ns: (*ns).clone(),
                    glue,
                },
            )
        }
        None => Next::Stuck,
    }
}

/// Lame and silent servers, servers of the zone not asked for want of an address, and referrals that differ.
fn marks_of(asked: &[(ServerReply, Option<Reply>)], servers: &[(String, Vec<IpAddr>)]) -> Vec<String> {
    let mut marks = Vec::new();
    for (row, _) in asked {
        match row.reply {
            ReplyKind::Lame => marks.push(format!(
                "lame delegation: {} ({}) {}",
                row.name, row.address, row.detail
            )),
            ReplyKind::Timeout => marks.push(format!("{} ({}) timed out", row.name, row.address)),
            ReplyKind::NoConnection | ReplyKind::BadResponse => {
                marks.push(format!("{} ({}): {}", row.name, row.address, row.detail));
            }
            _ => {}
        }
    }
    for (name, ips) in servers {
        if ips.is_empty() {
            marks.push(format!("{name} has no glue address: not asked"));
        }
    }
    let addresses: usize = servers.iter().map(|(_, ips)| ips.len()).sum();
    if addresses > MAX_ADDRESSES {
        marks.push(format!(
            "{addresses} server addresses listed: the first {MAX_ADDRESSES} asked"
        ));
    }
    let mut referrals: Vec<&String> = asked
        .iter()
        .filter(|(r, _)| r.reply == ReplyKind::Referral)
        .map(|(r, _)| &r.detail)
        .collect();
    referrals.sort();
    referrals.dedup();
    if referrals.len() > 1 {
        marks.push(format!(
            "the servers refer differently: {}",
            referrals
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    marks
}

/// The zone's own view beside its parent's: its NS set as each server gives it, and its address records
/// for the glue the parent gave.
async fn check_child(
    zone: &Name,
    parent: &Delegation,
    servers: &[(String, Vec<IpAddr>)],
    timeout: Duration,
) -> Vec<String> {
    let mut marks = Vec::new();
    let ns_query = Query::query(zone.clone(), RecordType::NS);
    let mut own_ns: Option<(Vec<String>, IpAddr)> = None;
    let all = servers
        .iter()
        .flat_map(|(name, ips)| ips.iter().map(move |ip| (name, *ip)));
    for (name, ip) in all.take(MAX_ADDRESSES) {
        let ex = ask_one(ip, &ns_query, timeout).await;
        let Some(answer) = ex.answer.filter(|a| a.message.metadata.authoritative) else {
            continue;
        };
        let mut set: Vec<String> = answer
            .message
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                hickory_resolver::proto::rr::RData::NS(n) => Some(text(&n.0)),
                _ => None,
            })
            .collect();
        set.sort();
        set.dedup();
        if set != parent.ns {
            marks.push(format!(
                "NS sets differ: the parent lists {}, {name} ({ip}) lists {}",
                parent.ns.join(", "),
                set.join(", ")
            ));
        }
        own_ns.get_or_insert((set, ip));
    }
    if let Some((_, ip)) = own_ns {
        marks.extend(check_glue(zone, parent, ip, timeout).await);
    }
    marks
}

/// The glue the parent gave for names inside the zone, beside the zone's own A/AAAA records (asked of `ip`).
async fn check_glue(zone: &Name, parent: &Delegation, ip: IpAddr, timeout: Duration) -> Vec<String> {
    let mut marks = Vec::new();
    let mut names: Vec<&String> = parent.glue.iter().map(|(n, _)| n).collect();
    names.dedup();
    for name in names {
        let Ok(owner) = Name::from_ascii(name) else {
            continue;
        };
        if !zone.zone_of(&owner) {
            continue;
        }
        let mut glue: Vec<IpAddr> = parent
            .glue
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, ip)| *ip)
            .collect();
        glue.sort();
        let mut own = Vec::new();
        for rtype in [RecordType::A, RecordType::AAAA] {
            let ex = ask_one(ip, &Query::query(owner.clone(), rtype), timeout).await;
            if let Some(answer) = ex.answer.filter(|a| a.message.metadata.authoritative) {
                own.extend(answer.message.answers.iter().filter_map(|r| match &r.data {
                    hickory_resolver::proto::rr::RData::A(a) => Some(IpAddr::V4(a.0)),
                    hickory_resolver::proto::rr::RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                }));
            }
        }
        own.sort();
        if own != glue {
            let list = |v: &[IpAddr]| v.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ");
            marks.push(format!(
                "glue disagrees for {name}: the parent gives {}, the zone itself says {}",
                list(&glue),
                if own.is_empty() {
                    "nothing".into()
                } else {
                    list(&own)
                }
            ));
        }
    }
    marks
}
