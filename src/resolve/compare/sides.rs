//! The two sides compared for one name: what getaddrinfo returned, and what DNS answered (A/AAAA) for a name.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::lookup::{Forward, GaiFailure};
use crate::resolve::dns::answer::{QueryReport, Status};
use crate::resolve::dns::records::Fields;
use crate::resolve::system::rows::LookupError;

/// What getaddrinfo returned for the name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SystemSide {
    /// Distinct addresses in the order returned.
    pub addresses: Vec<IpAddr>,
    /// AI_CANONNAME's answer; null without one.
    pub canonical_name: Option<String>,
    /// Why getaddrinfo failed; null when it did not.
    pub error: Option<LookupError>,
}

/// What DNS answered (A and AAAA) for one name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DnsSide {
    /// The absolute name asked.
    pub name: String,
    /// Distinct addresses, A then AAAA.
    pub addresses: Vec<IpAddr>,
    /// The CNAME chain followed, from the name asked to its end (empty without a CNAME).
    pub cname_chain: Vec<String>,
    /// What each query (A, AAAA) came to.
    pub queries: Vec<SideQuery>,
}

/// What one A or AAAA query for the name came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SideQuery {
    /// The type asked.
    #[serde(rename = "type")]
    pub qtype: String,
    /// What it came to.
    pub status: Status,
    /// For NXDOMAIN/NODATA: seconds the negative answer may be cached; null otherwise or when unknown.
    pub negative_ttl: Option<u32>,
    /// What happened, in plain words; null for an answer.
    pub message: Option<String>,
}

impl DnsSide {
    /// What each query came to, in words: "A: answer, AAAA: NODATA (negative TTL 30)".
    pub fn status_text(&self) -> String {
        let texts: Vec<String> = self.queries.iter().map(SideQuery::text).collect();
        texts.join(", ")
    }
}

impl SideQuery {
    /// "A: answer", "AAAA: NODATA (negative TTL 30)", "A: timeout (why)".
    fn text(&self) -> String {
        let word = match (self.status, &self.message) {
            // "the server answered NOTIMP (...)" already names the code.
            (Status::ServerError, Some(m)) => return format!("{}: {m}", self.qtype),
            (status, _) => status.label(),
        };
        let what = match (self.status, self.negative_ttl) {
            (Status::Answer, _) => word.to_string(),
            (Status::Nxdomain | Status::Nodata, Some(ttl)) => format!("{word} (negative TTL {ttl})"),
            (Status::Nxdomain | Status::Nodata, None) => word.to_string(),
            // Failures say which server and transport failed how.
            _ => format!("{word} ({})", self.message.clone().unwrap_or_default()),
        };
        format!("{}: {what}", self.qtype)
    }
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
                error: Some(LookupError::from(&e)),
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
                Some(Fields::Address { address })
                    if rec.rtype == q.qtype && !side.addresses.contains(address) =>
                {
                    side.addresses.push(*address);
                }
                Some(Fields::Target { target }) if rec.rtype == "CNAME" => {
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
        side.queries.push(SideQuery {
            qtype: q.qtype.clone(),
            status: q.status,
            negative_ttl: q.negative_ttl,
            message: q.message.clone(),
        });
    }
    side
}
