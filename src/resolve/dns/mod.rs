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

/// What one chunk of questions came to: the report of the questions done, its outcome, and the names of
/// questions Ctrl-C left undone.
pub struct DnsRun {
    /// The questions answered or failed, in input order.
    pub report: DnsReport,
    /// Negative unless every query done was answered.
    pub outcome: Outcome,
    /// `NAME TYPE` of each question not done, in input order.
    pub not_done: Vec<String>,
}

/// Asks every question (until Ctrl-C) and returns the report with its outcome.
pub fn run(config: &DnsConfig) -> Result<DnsRun> {
    let started = std::time::Instant::now();
    let options = &config.options;
    let (servers, server_source) = choose_servers(&options.servers, config.family)?;
    let policy = options.policy(servers.clone());
    let exchanges = ask(&policy, &config.questions, config.parallel, true)?;
    let mut done = Vec::new();
    let mut not_done = Vec::new();
    for (q, ex) in config.questions.iter().zip(exchanges) {
        match ex {
            Some(ex) => done.push(QueryReport::from_exchange(
                q.name(),
                q.query_type(),
                ex,
                options.timeout,
            )),
            None => not_done.push(format!("{} {}", records::name_text(q.name()), q.query_type())),
        }
    }
    let report = DnsReport {
        settings: DnsSettings {
            family: FamilyName::of(config.family),
            query: QuerySettings::from_options(options),
            parallel: config.parallel,
            search_list_applied: false,
        },
        servers,
        server_source,
        queries: done,
        timeout: options.timeout,
        took: started.elapsed(),
    };
    let outcome = Outcome::negative_if(report.queries.iter().any(QueryReport::is_negative));
    Ok(DnsRun {
        report,
        outcome,
        not_done,
    })
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
    Ok(ask(policy, questions, limit, false)?
        .into_iter()
        .flatten()
        .collect())
}

/// Asks every question with at most `limit` in flight, in question order; with `stoppable`, Ctrl-C ends the
/// wait and the questions not finished by then come back as None.
fn ask(
    policy: &QueryPolicy,
    questions: &[Query],
    limit: usize,
    stoppable: bool,
) -> Result<Vec<Option<Exchange>>> {
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
        let mut stopped = false;
        for handle in handles {
            // After Ctrl-C, a later question that had already finished is still reported.
            if stopped && !handle.is_finished() {
                handle.abort();
                out.push(None);
                continue;
            }
            let done = if stoppable && !stopped {
                tokio::select! {
                    done = handle => Some(done),
                    () = super::interrupt::wait() => None,
                }
            } else {
                Some(handle.await)
            };
            match done {
                Some(done) => out.push(Some(
                    done.map_err(|e| Error::System(format!("a DNS query task failed: {e}")))?,
                )),
                None => {
                    stopped = true;
                    out.push(None);
                }
            }
        }
        Ok(out)
    })
}
