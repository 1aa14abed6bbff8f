//! What differs between servers' answers to one question, in words: a server that did not answer, a status
//! only some servers gave, other data, and the same data with other TTLs (one server answering from cache).

use std::net::SocketAddr;

use crate::resolve::dns::answer::{QueryReport, Status};

/// Whether the server sent a response at all (any response code).
fn responded(q: &QueryReport) -> bool {
    !matches!(
        q.status,
        Status::Timeout | Status::NoConnection | Status::BadResponse
    )
}

/// The data of the records of the type asked, sorted (an RRset has no order).
pub fn data(q: &QueryReport) -> Vec<String> {
    let mut v: Vec<String> = q
        .records
        .iter()
        .filter(|r| r.rtype == q.qtype || q.qtype == "ANY")
        .map(|r| r.data.clone())
        .collect();
    v.sort();
    v
}

/// Every difference between the servers' answers, one sentence each; empty when they agree.
pub fn differences(servers: &[SocketAddr], answers: &[QueryReport]) -> Vec<String> {
    let mut out = Vec::new();
    for (server, q) in servers.iter().zip(answers) {
        if !responded(q) {
            out.push(format!("no answer from {server} ({})", q.status.label()));
        }
    }
    let live: Vec<(&SocketAddr, &QueryReport)> = servers
        .iter()
        .zip(answers)
        .filter(|(_, q)| responded(q))
        .collect();
    let Some((_, first)) = live.first() else {
        return out;
    };
    // The status most servers gave is the reference; the others are named.
    let majority = live
        .iter()
        .map(|(_, q)| q.status)
        .max_by_key(|st| live.iter().filter(|(_, q)| q.status == *st).count())
        .unwrap_or(first.status);
    let mut statuses: Vec<Status> = live
        .iter()
        .map(|(_, q)| q.status)
        .filter(|st| *st != majority)
        .collect();
    statuses.dedup();
    for st in statuses {
        let at: Vec<String> = live
            .iter()
            .filter(|(_, q)| q.status == st)
            .map(|(s, _)| s.to_string())
            .collect();
        out.push(format!("{} at {} only", st.label(), at.join(", ")));
    }
    let answered: Vec<&(&SocketAddr, &QueryReport)> =
        live.iter().filter(|(_, q)| q.status == Status::Answer).collect();
    if let Some((_, reference)) = answered.first() {
        let want = data(reference);
        for (server, q) in &answered[1..] {
            let got = data(q);
            if got != want {
                out.push(format!(
                    "different data at {server}: {} (others: {})",
                    got.join(", "),
                    want.join(", ")
                ));
            }
        }
        let ttls: Vec<(String, u32)> = answered
            .iter()
            .filter(|(_, q)| data(q) == want)
            .filter_map(|(s, q)| {
                q.records
                    .iter()
                    .find(|r| r.rtype == q.qtype)
                    .map(|r| (s.to_string(), r.ttl))
            })
            .collect();
        if ttls.windows(2).any(|w| w[0].1 != w[1].1) {
            let list: Vec<String> = ttls.iter().map(|(s, t)| format!("{t} at {s}")).collect();
            out.push(format!(
                "same data, TTLs differ ({}): a cache counting down",
                list.join(", ")
            ));
        }
    }
    out
}
