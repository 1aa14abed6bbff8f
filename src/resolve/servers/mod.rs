//! `sockdiag resolve --servers-compare @A @B ...`: every question asked of every server at once (so a silent
//! server costs one wait, not one per server), the answers set side by side, and each difference named:
//! other data, other TTLs (caching), a negative answer at some servers only, a server that did not answer.

pub mod diff;
pub mod report;

use std::sync::Arc;

use hickory_resolver::proto::op::Query;

use super::dns::answer::QueryReport;
use super::dns::config::DnsConfig;
use super::dns::exchange::{self, Exchange};
use super::dns::server::choose_servers;
use super::dns::special;
use crate::error::{Error, Outcome, Result};

use report::{ServersReport, ServersRow};

/// The most servers one table sets side by side.
pub const MAX_SERVERS: usize = 8;

/// Asks every question of every server at once and compares the answers.
pub fn run(config: &DnsConfig) -> Result<(ServersReport, Outcome)> {
    let started = std::time::Instant::now();
    let (servers, _) = choose_servers(&config.options.servers, config.family)?;
    if servers.len() < 2 || servers.len() > MAX_SERVERS {
        return Err(Error::usage(format!(
            "--servers-compare sets 2 to {MAX_SERVERS} servers side by side, and {} {} given (name them with \
             @SERVER, or leave them to resolv.conf)",
            servers.len(),
            if servers.len() == 1 { "was" } else { "were" }
        )));
    }
    let exchanges = ask_everywhere(config, &servers)?;
    let mut rows = Vec::with_capacity(config.questions.len());
    let mut exchanges = exchanges.into_iter();
    for q in &config.questions {
        let answers: Vec<QueryReport> = match special::answer(q.name(), q.query_type()) {
            Some(local) => vec![local; servers.len()],
            None => servers
                .iter()
                .map(|_| {
                    let ex = exchanges.next().expect("one exchange per server and question");
                    QueryReport::from_exchange(q.name(), q.query_type(), ex, config.options.timeout)
                })
                .collect(),
        };
        rows.push(ServersRow::new(&servers, answers));
    }
    let negative = rows
        .iter()
        .any(|r| !r.differences.is_empty() || r.answers.iter().any(QueryReport::is_negative));
    let report = ServersReport {
        servers,
        family: crate::resolve::system::rows::FamilyName::of(config.family),
        timeout_ms: crate::render::ms_f64(config.options.timeout),
        rows,
        took: started.elapsed(),
    };
    Ok((report, Outcome::negative_if(negative)))
}

/// Every (question, server) exchange, started together; returned question by question, server by server
/// (special-use names are not asked).
fn ask_everywhere(config: &DnsConfig, servers: &[std::net::SocketAddr]) -> Result<Vec<Exchange>> {
    let asked: Vec<&Query> = config
        .questions
        .iter()
        .filter(|q| special::answer(q.name(), q.query_type()).is_none())
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    runtime.block_on(async {
        // Every server gets the same number in flight, so a slow one does not hold the others back.
        let permits = Arc::new(tokio::sync::Semaphore::new(
            config.parallel.max(1) * servers.len(),
        ));
        let mut handles = Vec::with_capacity(asked.len() * servers.len());
        for q in asked {
            for &server in servers {
                let policy = config.options.policy(vec![server]);
                let (query, permits) = (q.clone(), permits.clone());
                handles.push(tokio::spawn(async move {
                    let _permit = permits
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed");
                    exchange::ask(&policy, &query).await
                }));
            }
        }
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(
                handle
                    .await
                    .map_err(|e| Error::System(format!("a DNS query task failed: {e}")))?,
            );
        }
        Ok(out)
    })
}
