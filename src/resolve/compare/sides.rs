//! The two sides compared for one name: what getaddrinfo returned, and what DNS answered (A/AAAA) for a name.

use std::net::IpAddr;

use serde::Serialize;

use crate::lookup::{Forward, GaiFailure};
use crate::resolve::dns::answer::{QueryReport, Status};
use crate::resolve::dns::records::Fields;

/// What getaddrinfo returned for the name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SystemSide {
    /// Distinct addresses in the order returned.
    pub addresses: Vec<IpAddr>,
    /// AI_CANONNAME's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_name: Option<String>,
    /// The failure (EAI_* code and meaning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What DNS answered (A and AAAA) for one name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DnsSide {
    /// The absolute name asked.
    pub name: String,
    /// Distinct addresses, A then AAAA.
    pub addresses: Vec<IpAddr>,
    /// The CNAME chain followed, from the name asked to its end (empty without a CNAME).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cname_chain: Vec<String>,
    /// What each query came to, e.g. "A: answer", "AAAA: NODATA".
    pub status: Vec<String>,
}

impl SystemSide {
    /// getaddrinfo's result for the name: its distinct addresses and canonical name, or the failure.
    pub fn from_lookup(result: Result<Forward, GaiFailure>) -> Self {
        match result {
            Ok(forward) => SystemSide {
                addresses: forward.addresses(),
                canonical_name: forward.canonical_name,
                error: None,
            },
            Err(e) => SystemSide {
                addresses: Vec::new(),
                canonical_name: None,
                error: Some(format!("{}: {}", e.code, e.message)),
            },
        }
    }
}

/// DNS's side for one absolute name, from the A/AAAA query reports asked for it.
pub fn dns_side(name: &str, reports: &[QueryReport]) -> DnsSide {
    let mut side = DnsSide {
        name: name.to_string(),
        ..DnsSide::default()
    };
    for q in reports.iter().filter(|q| q.name.eq_ignore_ascii_case(name)) {
        for rec in &q.records {
            match &rec.fields {
                Fields::Address { address } if rec.rtype == q.qtype && !side.addresses.contains(address) => {
                    side.addresses.push(*address);
                }
                Fields::Target { target } if rec.rtype == "CNAME" => {
                    if side.cname_chain.is_empty() {
                        side.cname_chain.push(rec.name.clone());
                    }
                    if !side.cname_chain.contains(target) {
                        side.cname_chain.push(target.clone());
                    }
                }
                _ => {}
            }
        }
        let what = match (q.status, q.negative_ttl) {
            (Status::Answer, _) => "answer".to_string(),
            (Status::Nxdomain | Status::Nodata, Some(ttl)) => {
                format!("{} (negative TTL {ttl})", status_word(q))
            }
            (Status::Nxdomain | Status::Nodata, None) => status_word(q),
            // Failures say which server and transport failed how.
            _ => format!("{} ({})", status_word(q), q.message.clone().unwrap_or_default()),
        };
        side.status.push(format!("{}: {what}", q.qtype));
    }
    side
}

fn status_word(q: &QueryReport) -> String {
    match q.status {
        Status::Nxdomain => "NXDOMAIN".into(),
        Status::Nodata => "NODATA".into(),
        Status::Refused => "REFUSED".into(),
        Status::Servfail => "SERVFAIL".into(),
        Status::ServerError => q.rcode.clone().unwrap_or_default(),
        Status::Timeout => "timeout".into(),
        Status::NoConnection => "no connection".into(),
        Status::BadResponse => "bad response".into(),
        Status::Answer => "answer".into(),
    }
}
