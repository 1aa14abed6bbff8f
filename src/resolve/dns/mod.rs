//! The direct DNS mode of `sockdiag resolve` (`-t`, `-x`, `@SERVER`): choose the servers, ask every question
//! with a bounded number in flight, and build the report in input order.

pub mod accept;
pub mod answer;
mod columns;
pub mod config;
mod csv;
pub mod dnssec_wire;
pub mod encrypted;
pub mod exchange;
pub mod questions;
pub mod records;
pub mod report;
pub mod resolv_conf;
mod rich;
pub mod server;
pub mod special;
pub mod validate;

use std::future::Future;
use std::sync::Arc;

use hickory_resolver::proto::op::Query;

use crate::error::{Error, Outcome, Result};
use crate::resolve::system::rows::FamilyName;

use answer::QueryReport;
use config::{DnsConfig, DnsOptions};
use encrypted::{Session, SessionInfo};
use exchange::{Exchange, QueryPolicy};
use report::ServerSource;
use report::{DnsReport, DnsSettings, QuerySettings};
use server::{ServerChoice, choose_servers};

/// What one run keeps from chunk to chunk: the encrypted connection, so every name goes over the same one.
#[derive(Default)]
pub struct Carry {
    session: Option<Session>,
}

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
pub fn run(config: &DnsConfig, carry: &mut Carry) -> Result<DnsRun> {
    let started = std::time::Instant::now();
    let options = &config.options;
    // Special-use names are answered here (RFC 6761); only the others are asked.
    let local: Vec<Option<QueryReport>> = config
        .questions
        .iter()
        .map(|q| special::answer(q.name(), q.query_type()))
        .collect();
    let remote: Vec<Query> = config
        .questions
        .iter()
        .zip(&local)
        .filter(|(_, l)| l.is_none())
        .map(|(q, _)| q.clone())
        .collect();
    let Asked {
        servers,
        server_source,
        exchanges,
        encrypted,
    } = ask_remote(config, carry, &remote)?;
    let mut validations = validations(config, &servers, &remote)?.into_iter();
    let mut exchanges = exchanges.into_iter();
    let mut done = Vec::new();
    let mut not_done = Vec::new();
    for (q, local) in config.questions.iter().zip(local) {
        if let Some(report) = local {
            done.push(report);
            continue;
        }
        let validation = validations.next();
        match exchanges.next().flatten() {
            Some(ex) => {
                let mut report = QueryReport::from_exchange(q.name(), q.query_type(), ex, options.timeout);
                // A validator's verdict means something only for what the server answered.
                report.validation = validation.filter(|_| report.rcode.is_some());
                done.push(report);
            }
            None => not_done.push(format!(
                "{} {}",
                records::name_text(q.name()),
                records::type_name(q.query_type())
            )),
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
        encrypted,
        server_source,
        queries: done,
        timeout: options.timeout,
        took: started.elapsed(),
    };
    let outcome = Outcome::negative_if(if config.any_type_answers {
        some_name_unanswered(&report.queries)
    } else {
        report.queries.iter().any(QueryReport::is_negative)
    });
    Ok(DnsRun {
        report,
        outcome,
        not_done,
    })
}

/// `--validate`: the validator's verdict on each remote question, asked of the first server.
fn validations(
    config: &DnsConfig,
    servers: &[std::net::SocketAddr],
    remote: &[Query],
) -> Result<Vec<validate::Validation>> {
    match (&config.options.validate, servers.first()) {
        (Some(anchors), Some(&server)) if !remote.is_empty() => validate::validate_all(
            server,
            anchors.clone(),
            remote,
            config.options.timeout,
            config.parallel,
        ),
        _ => Ok(Vec::new()),
    }
}

/// The servers asked, where they came from, and what each question came to (None: Ctrl-C came first).
struct Asked {
    servers: Vec<std::net::SocketAddr>,
    server_source: ServerSource,
    exchanges: Vec<Option<Exchange>>,
    encrypted: Option<Box<SessionInfo>>,
}

/// Asks the questions of the chosen servers: over the run's encrypted connection (made by the first chunk),
/// or over UDP/TCP.
fn ask_remote(config: &DnsConfig, carry: &mut Carry, remote: &[Query]) -> Result<Asked> {
    let options = &config.options;
    let ServerChoice::Encrypted { given, spec } = &options.servers else {
        let (servers, server_source) = choose_servers(&options.servers, config.family)?;
        let policy = options.policy(servers.clone());
        let exchanges = ask(&policy, remote, config.parallel, true)?;
        return Ok(Asked {
            servers,
            server_source,
            exchanges,
            encrypted: None,
        });
    };
    let reused = carry.session.is_some();
    if !reused {
        let session = Session::connect(spec, options.ca.as_deref(), config.family, options.timeout)?;
        carry.session = Some(session);
    }
    let session = carry.session.as_ref().expect("connected above");
    let exchanges = session.ask_all(remote, config.parallel, options.timeout, options.dnssec)?;
    let mut info = Box::new(session.info.clone());
    if reused {
        info.handshake_ms = None;
    }
    Ok(Asked {
        servers: vec![info.server],
        server_source: ServerSource::Chosen {
            given: vec![given.clone()],
        },
        exchanges,
        encrypted: Some(info),
    })
}

/// Whether some name had no answer to any of its types (`-t common`: NODATA for one type is normal).
fn some_name_unanswered(queries: &[QueryReport]) -> bool {
    let mut names: Vec<(&str, bool)> = Vec::new();
    for q in queries {
        match names.iter_mut().find(|(n, _)| *n == q.name) {
            Some((_, answered)) => *answered |= !q.is_negative(),
            None => names.push((&q.name, !q.is_negative())),
        }
    }
    names.iter().any(|(_, answered)| !answered)
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
    ask_with(&runtime, questions, limit, stoppable, move |query| {
        let policy = policy.clone();
        async move { exchange::ask(&policy, &query).await }
    })
}

/// Runs `asker` on every question on `runtime` with at most `limit` in flight, in question order; with
/// `stoppable`, Ctrl-C ends the wait and the questions not finished by then come back as None.
pub(crate) fn ask_with<F, Fut>(
    runtime: &tokio::runtime::Runtime,
    questions: &[Query],
    limit: usize,
    stoppable: bool,
    asker: F,
) -> Result<Vec<Option<Exchange>>>
where
    F: Fn(Query) -> Fut,
    Fut: Future<Output = Exchange> + Send + 'static,
{
    runtime.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
        let handles: Vec<_> = questions
            .iter()
            .cloned()
            .map(|query| {
                let permits = permits.clone();
                let asked = asker(query);
                tokio::spawn(async move {
                    let _permit = permits
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed");
                    asked.await
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
