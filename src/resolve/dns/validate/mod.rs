//! `--validate`: each answer checked locally by hickory's DNSSEC validator from a trust anchor (the root's, or
//! `--trust-anchor FILE`) and called secure, insecure (no chain of trust: an unsigned zone) or bogus; for a
//! bogus answer the records are fetched again without validation to say why (`reason`).

pub mod reason;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::net::dnssec::DnssecDnsHandle;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::udp::UdpClientStream;
use hickory_resolver::net::xfer::{DnsExchange, FirstAnswer};
use hickory_resolver::net::{DnsError, DnsHandle, NetError};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::op::{DnsRequestOptions, Message, Query};
use hickory_resolver::proto::rr::{Name, Record, RecordType};
use hickory_resolver::proto::serialize::binary::BinEncodable;
use schemars::JsonSchema;
use serde::Serialize;

use super::dnssec_wire;
use super::records::name_text;
use crate::error::{Error, Result};

/// What local validation said of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// A chain of signatures from the trust anchor to the records.
    Secure,
    /// Provably no chain: the records are in an unsigned zone (or below one).
    Insecure,
    /// A chain should exist and does not hold (see `reason`).
    Bogus,
    /// The validator could not get what it needed (no answer, an error).
    Indeterminate,
}

/// The verdict on one answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Validation {
    /// Secure, insecure, bogus or indeterminate.
    pub status: Security,
    /// Why it is bogus or indeterminate, in words; null otherwise.
    pub reason: Option<String>,
}

impl Validation {
    /// The word the table shows.
    pub fn word(&self) -> &'static str {
        match self.status {
            Security::Secure => "secure",
            Security::Insecure => "insecure",
            Security::Bogus => "bogus",
            Security::Indeterminate => "indeterminate",
        }
    }
}

/// The trust anchors validation starts from.
#[derive(Clone)]
pub struct Anchors(pub Arc<TrustAnchors>);

impl std::fmt::Debug for Anchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Anchors({} root keys)", self.0.len())
    }
}

/// The trust anchors: DNSKEY records of FILE (zone-file form, any owner), or the root's built into hickory.
pub fn anchors(file: Option<&Path>) -> Result<Anchors> {
    let Some(path) = file else {
        return Ok(Anchors(Arc::new(TrustAnchors::default())));
    };
    let anchors = TrustAnchors::from_file(path).map_err(|e| {
        Error::usage(format!(
            "--trust-anchor {}: {e}; accepted: DNSKEY records in zone-file form (`zone. IN DNSKEY 257 3 13 ...`)",
            path.display()
        ))
    })?;
    Ok(Anchors(Arc::new(anchors)))
}

/// Validates the answer to every question with the server at `server`, at most `limit` at once.
pub fn validate_all(
    server: SocketAddr,
    anchors: Anchors,
    questions: &[Query],
    timeout: Duration,
    limit: usize,
) -> Result<Vec<Validation>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    // The provider holds the exchange's background task: it lives until every question is done.
    let provider = TokioRuntimeProvider::new();
    runtime.block_on(async {
        let plain = UdpClientStream::builder(server, provider.clone())
            .with_timeout(Some(timeout))
            .exchange();
        let validating = DnssecDnsHandle::with_trust_anchor(plain.clone(), anchors.0);
        let permits = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
        let handles: Vec<_> = questions
            .iter()
            .cloned()
            .map(|query| {
                let (plain, validating, permits) = (plain.clone(), validating.clone(), permits.clone());
                tokio::spawn(async move {
                    let _permit = permits
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed");
                    validate(&plain, &validating, query, timeout).await
                })
            })
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(
                handle
                    .await
                    .map_err(|e| Error::System(format!("a validation task failed: {e}")))?,
            );
        }
        Ok(out)
    })
}

type Plain = DnsExchange<TokioRuntimeProvider>;

/// One answer validated; a bogus one is explained.
async fn validate(
    plain: &Plain,
    validating: &DnssecDnsHandle<Plain>,
    query: Query,
    timeout: Duration,
) -> Validation {
    let asked = validating
        .lookup(query.clone(), DnsRequestOptions::default())
        .first_answer();
    let (status, reason) = match tokio::time::timeout(timeout * 4, asked).await {
        Err(_) => (Security::Indeterminate, Some("no verdict in time".to_string())),
        Ok(Ok(response)) => (verdict(&response), None),
        Ok(Err(NetError::Dns(DnsError::Nsec { proof, .. }))) => (of_proof(proof), None),
        Ok(Err(e)) => (Security::Indeterminate, Some(e.to_string())),
    };
    match status {
        Security::Bogus => Validation {
            status,
            reason: Some(explain(plain, &query).await),
        },
        // hickory calls a zone whose DS names none of its keys insecure; a signed zone with a DS at its parent
        // is meant to validate, so a key mismatch there is bogus (RFC 4035 5.2, the algorithm being known).
        Security::Insecure => match key_mismatch(plain, &query).await {
            Some(reason) => Validation {
                status: Security::Bogus,
                reason: Some(reason),
            },
            None => Validation { status, reason },
        },
        _ => Validation { status, reason },
    }
}

fn of_proof(proof: Proof) -> Security {
    match proof {
        Proof::Secure => Security::Secure,
        Proof::Insecure => Security::Insecure,
        Proof::Bogus => Security::Bogus,
        _ => Security::Indeterminate,
    }
}

/// The weakest proof among the records that answer the question (the answer's, else the authority's).
fn verdict(message: &Message) -> Security {
    let answering: Vec<&Record> = message
        .answers
        .iter()
        .filter(|r| r.record_type() != RecordType::RRSIG)
        .collect();
    let records = if answering.is_empty() {
        message
            .authorities
            .iter()
            .filter(|r| r.record_type() != RecordType::RRSIG)
            .collect()
    } else {
        answering
    };
    let proofs: Vec<Proof> = records.iter().map(|r| r.proof).collect();
    if proofs.contains(&Proof::Bogus) {
        Security::Bogus
    } else if proofs.is_empty() || proofs.contains(&Proof::Indeterminate) {
        Security::Indeterminate
    } else if proofs.iter().all(|p| *p == Proof::Secure) {
        Security::Secure
    } else {
        Security::Insecure
    }
}

/// Asks again without validation, with the DO bit, and says what is wrong: the signatures' window, a key the
/// zone does not publish, the DS at the parent.
async fn explain(plain: &Plain, query: &Query) -> String {
    let rrset = format!("{} {}", name_text(query.name()), query.query_type());
    let Some(answer) = fetch(plain, query.name().clone(), query.query_type()).await else {
        return "bogus, and the records could not be fetched again to say why".into();
    };
    let sigs = rrsigs(&answer.answers, query.query_type());
    let now = u32::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            % (1 << 32),
    )
    .unwrap_or(0);
    if let Some(problem) = reason::signature_problem(&rrset, &sigs, now) {
        return problem;
    }
    let signer = Name::from_ascii(&sigs[0].signer).unwrap_or_else(|_| query.name().clone());
    let zone = name_text(&signer);
    let (key_tags, ds_tags) = keys_and_ds(plain, &signer).await;
    let sig_tags: Vec<u16> = sigs.iter().map(|s| s.key_tag).collect();
    reason::key_problem(&zone, &sig_tags, &key_tags, Some(&ds_tags))
        .unwrap_or_else(|| format!("a signature of {rrset} does not verify with the keys of {zone}"))
}

/// For an answer called insecure: when it is signed and its signer has a DS at the parent, whether that DS
/// names none of the signer's keys.
async fn key_mismatch(plain: &Plain, query: &Query) -> Option<String> {
    let answer = fetch(plain, query.name().clone(), query.query_type()).await?;
    let sigs = rrsigs(&answer.answers, query.query_type());
    let signer = Name::from_ascii(&sigs.first()?.signer).ok()?;
    let (key_tags, ds_tags) = keys_and_ds(plain, &signer).await;
    if ds_tags.is_empty() {
        return None;
    }
    let sig_tags: Vec<u16> = sigs.iter().map(|s| s.key_tag).collect();
    reason::key_problem(&name_text(&signer), &sig_tags, &key_tags, Some(&ds_tags))
}

/// The key tags of the zone's DNSKEY set and of the DS set at its parent (fetched without validation).
async fn keys_and_ds(plain: &Plain, zone: &Name) -> (Vec<u16>, Vec<u16>) {
    let keys = fetch(plain, zone.clone(), RecordType::DNSKEY).await;
    let key_tags = keys
        .iter()
        .flat_map(|m| wire_of(&m.answers, RecordType::DNSKEY))
        .filter_map(|b| dnssec_wire::dnskey(&b).map(|k| k.key_tag))
        .collect();
    let ds = fetch(plain, zone.clone(), RecordType::DS).await;
    let ds_tags = ds
        .iter()
        .flat_map(|m| wire_of(&m.answers, RecordType::DS))
        .filter_map(|b| dnssec_wire::ds(&b).map(|d| d.key_tag))
        .collect();
    (key_tags, ds_tags)
}

/// The message for NAME TYPE without validation (DO set), if one came.
async fn fetch(plain: &Plain, name: Name, rtype: RecordType) -> Option<Message> {
    let mut options = DnsRequestOptions::default();
    options.use_edns = true;
    options.edns_set_dnssec_ok = true;
    plain
        .lookup(Query::query(name, rtype), options)
        .first_answer()
        .await
        .ok()
        .map(|r| r.into_message())
}

/// The wire form of each record of `rtype`.
fn wire_of(records: &[Record], rtype: RecordType) -> Vec<Vec<u8>> {
    records
        .iter()
        .filter(|r| r.record_type() == rtype)
        .filter_map(|r| r.data.to_bytes().ok())
        .collect()
}

/// The RRSIGs covering `covered`.
fn rrsigs(records: &[Record], covered: RecordType) -> Vec<dnssec_wire::Rrsig> {
    wire_of(records, RecordType::RRSIG)
        .iter()
        .filter_map(|b| dnssec_wire::rrsig(b))
        .filter(|s| RecordType::from(s.type_covered) == covered)
        .collect()
}
