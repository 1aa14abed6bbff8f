//! The direct DNS mode of `sockdiag resolve` (`-t`, `-x`, `@SERVER`): choose the servers, ask every question
//! with a bounded number in flight, and build the report in input order.

pub mod accept;
pub mod answer;
pub mod config;
mod csv;
pub mod exchange;
pub mod questions;
pub mod records;
pub mod report;
pub mod resolv_conf;
pub mod server;

use std::sync::Arc;

use hickory_resolver::proto::op::Query;

use crate::error::{Error, Outcome, Result};
use crate::resolve::system::rows::FamilyName;

use answer::QueryReport;
use config::{DnsConfig, DnsOptions};
use exchange::{Exchange, QueryPolicy};
use report::{DnsReport, DnsSettings, QuerySettings};
use server::choose_servers;

/// Asks every question and returns the report with its outcome (negative unless every query was answered).
pub fn run(config: &DnsConfig) -> Result<(DnsReport, Outcome)> {
    let started = std::time::Instant::now();
    let options = &config.options;
    let (servers, server_source) = choose_servers(&options.servers, config.family)?;
    let policy = options.policy(servers.clone());
    let exchanges = ask_all(&policy, &config.questions, config.parallel)?;
    let report = DnsReport {
        settings: DnsSettings {
            family: FamilyName::of(config.family),
            query: QuerySettings::from_options(options),
            parallel: config.parallel,
            search_list_applied: false,
        },
        servers,
        server_source,
        queries: query_reports(&config.questions, exchanges, options),
        timeout: options.timeout,
        took: started.elapsed(),
    };
    let outcome = Outcome::negative_if(report.queries.iter().any(QueryReport::is_negative));
    Ok((report, outcome))
}

/// Classifies each exchange against the question it answers.
pub fn query_reports(
    questions: &[Query],
    exchanges: Vec<Exchange>,
    options: &DnsOptions,
) -> Vec<QueryReport> {
    questions
        .iter()
        .zip(exchanges)
        .map(|(q, ex)| QueryReport::from_exchange(q.name(), q.query_type(), ex, options.timeout))
        .collect()
}

/// Asks every question with at most `limit` in flight; the exchanges come back in question order.
pub fn ask_all(policy: &QueryPolicy, questions: &[Query], limit: usize) -> Result<Vec<Exchange>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    let policy = Arc::new(policy.clone());
    runtime.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
        let handles: Vec<_> = questions
            .iter()
            .cloned()
            .map(|query| {
                let (policy, permits) = (policy.clone(), permits.clone());
                tokio::spawn(async move {
                    let _permit = permits
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed");
                    exchange::ask(&policy, &query).await
                })
            })
            .collect();
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
