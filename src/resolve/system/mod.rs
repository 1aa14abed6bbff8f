//! The system mode of `sockdiag resolve`: getaddrinfo for names, getnameinfo for addresses, as a program on
//! this host would call them, run concurrently.

pub mod config;
mod csv;
pub mod report;
pub mod rows;

use std::time::Instant;

use super::parallel::map_until_interrupted;
use crate::error::{Outcome, Result};
use crate::lookup::{self, FailureClass, SockType};

use config::{Query, SystemConfig};
use report::{NameReport, SystemReport, SystemSettings};
use rows::HintsReport;

/// Looks every name up (until Ctrl-C) and returns the report with its outcome, and the names not looked up.
pub fn run(config: &SystemConfig) -> Result<(SystemReport, Outcome, Vec<String>)> {
    let started = Instant::now();
    let looked = map_until_interrupted(&config.queries, config.parallel, |query| look_up(query, config));
    let mut results = Vec::with_capacity(looked.len());
    let mut not_done = Vec::new();
    for (query, result) in config.queries.iter().zip(looked) {
        match result {
            Some(r) => results.push(r),
            None => not_done.push(match query {
                Query::Forward(name) => name.clone().unwrap_or_else(|| "(none)".into()),
                Query::Reverse(text, _) => text.clone(),
            }),
        }
    }
    let report = SystemReport {
        settings: SystemSettings {
            hints: HintsReport::from_hints(&config.hints),
            service: config.service.clone(),
            parallel: config.parallel,
        },
        results,
        took: started.elapsed(),
    };
    let outcome = outcome_of(&report)?;
    Ok((report, outcome, not_done))
}

fn look_up(query: &Query, config: &SystemConfig) -> NameReport {
    let start = Instant::now();
    match query {
        Query::Forward(name) => {
            let result = lookup::getaddrinfo(name.as_deref(), config.service.as_deref(), &config.hints);
            NameReport::forward(name.clone(), config.service.is_some(), start.elapsed(), result)
        }
        Query::Reverse(text, lit) => {
            let dgram = config.hints.socktype == SockType::Dgram;
            let result = lookup::getnameinfo(*lit, config.port, dgram);
            NameReport::reverse(text.clone(), config.port, start.elapsed(), result)
        }
    }
}

/// Exit status of a finished report: a system failure beats a usage one beats a negative one.
fn outcome_of(report: &SystemReport) -> Result<Outcome> {
    let failures: Vec<_> = report.results.iter().filter_map(|r| r.failure.as_ref()).collect();
    if let Some(f) = failures.iter().find(|f| f.class == FailureClass::System) {
        return Err(f.to_error("name lookup failed"));
    }
    if let Some(f) = failures.iter().find(|f| f.class == FailureClass::Usage) {
        return Err(f.to_error("name lookup refused the request"));
    }
    Ok(Outcome::negative_if(!failures.is_empty()))
}
