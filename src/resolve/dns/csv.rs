//! The DNS mode's records for `--format csv`: one line per record of each answer, and one line for a query that
//! brought no record, with raw numbers (TTL seconds, milliseconds) and the JSON's key names in the header.

use super::answer::QueryReport;
use crate::render::{Cell, Section};

/// The query's keys, then the record's (`record_` before the ones a query has too).
const COLUMNS: [&str; 12] = [
    "query_name",
    "query_type",
    "status",
    "rcode",
    "server",
    "transport",
    "query_time_ms",
    "record_name",
    "record_type",
    "ttl",
    "data",
    "message",
];

/// Every record of every query, in the table's order.
pub fn records(queries: &[QueryReport]) -> Section {
    let mut section = Section::new(&COLUMNS);
    for q in queries {
        let query = |record: [String; 4]| -> Vec<Cell> {
            let mut row: Vec<Cell> = vec![
                q.name.clone().into(),
                q.qtype.clone().into(),
                q.status.name().into(),
                q.rcode.clone().unwrap_or_default().into(),
                q.server.map(|s| s.to_string()).unwrap_or_default().into(),
                q.transport.map(|t| t.name()).unwrap_or_default().into(),
                q.query_time_ms.map(|t| t.to_string()).unwrap_or_default().into(),
            ];
            row.extend(record.map(Cell::from));
            row.push(q.message.clone().unwrap_or_default().into());
            row
        };
        for r in &q.records {
            section.rows.push(query([
                r.name.clone(),
                r.rtype.clone(),
                r.ttl.to_string(),
                r.data.clone(),
            ]));
        }
        if q.records.is_empty() {
            let ttl = q.negative_ttl.map(|t| t.to_string()).unwrap_or_default();
            section
                .rows
                .push(query([String::new(), String::new(), ttl, String::new()]));
        }
    }
    section
}
