//! The system mode's records for `--format csv`: one line per addrinfo result, per failed name and per reverse
//! lookup, with the JSON's key names as the header and raw numbers (milliseconds, ports) as values.

use super::report::{Direction, NameReport, SystemReport};
use crate::render::{Cell, Section};

/// The header: the JSON keys of a result and of its address rows.
const COLUMNS: [&str; 14] = [
    "name",
    "lookup",
    "status",
    "family",
    "socket_type",
    "protocol",
    "address",
    "port",
    "scope",
    "canonical_name",
    "host",
    "service_name",
    "elapsed_ms",
    "error",
];

/// Every result as CSV records.
pub fn records(report: &SystemReport) -> Section {
    let mut section = Section::new(&COLUMNS);
    for r in &report.results {
        if r.addresses.is_empty() {
            section.rows.push(record(r, None));
        }
        section
            .rows
            .extend(r.addresses.iter().map(|a| record(r, Some(a))));
    }
    section
}

fn record(r: &NameReport, a: Option<&super::rows::AddressRow>) -> Vec<Cell> {
    let text = |v: Option<String>| Cell::from(v.unwrap_or_default());
    let lookup = match r.lookup {
        Direction::Forward => "forward",
        Direction::Reverse => "reverse",
    };
    let status = if r.error.is_some() { "error" } else { "ok" };
    let port = a.map_or(r.port, |a| a.port);
    vec![
        text(r.name.clone()),
        lookup.into(),
        status.into(),
        text(a.map(|a| a.family.name().to_string())),
        text(a.and_then(|a| a.socket_type).map(|t| t.name().to_string())),
        text(a.and_then(|a| a.protocol).map(|p| p.name().to_string())),
        text(a.map(|a| a.address.to_string())),
        text(port.map(|p| p.to_string())),
        text(a.and_then(|a| a.scope.clone())),
        text(r.canonical_name.clone()),
        text(r.host.clone()),
        text(r.service_name.clone()),
        r.elapsed_ms.to_string().into(),
        text(r.error.as_ref().map(|e| e.to_string())),
    ]
}
