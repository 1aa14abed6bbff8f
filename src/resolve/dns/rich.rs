//! Records of the newer and the DNSSEC types, field by field: HTTPS/SVCB, TLSA, SSHFP, NAPTR, DS, DNSKEY,
//! RRSIG, and any other type in RFC 3597's generic form (`\# LENGTH HEX`), as dig prints an unknown type.

use std::net::IpAddr;

use hickory_resolver::proto::rr::rdata::svcb::{SVCB, SvcParamValue};
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::serialize::binary::BinEncodable;

use super::dnssec_wire::{self, hex};
use super::records::{Fields, name_text, printable, quote};

/// The text and fields of a record of one of these types; None for a type shown by its own display.
pub fn typed(rdata: &RData) -> Option<(String, Fields)> {
    Some(match rdata {
        RData::HTTPS(h) => svcb(&h.0),
        RData::SVCB(s) => svcb(s),
        RData::TLSA(t) => {
            let (usage, selector, matching_type) =
                (u8::from(t.cert_usage), u8::from(t.selector), u8::from(t.matching));
            let data = hex(&t.cert_data);
            let text = format!("{usage} {selector} {matching_type} {data}");
            (
                text,
                Fields::Tlsa {
                    usage,
                    selector,
                    matching_type,
                    data,
                },
            )
        }
        RData::SSHFP(f) => {
            let (algorithm, fingerprint_type) = (u8::from(f.algorithm), u8::from(f.fingerprint_type));
            let fingerprint = hex(&f.fingerprint);
            let text = format!("{algorithm} {fingerprint_type} {fingerprint}");
            (
                text,
                Fields::Sshfp {
                    algorithm,
                    fingerprint_type,
                    fingerprint,
                },
            )
        }
        RData::NAPTR(n) => {
            let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let replacement = name_text(&n.replacement);
            let text = format!(
                "{} {} {} {} {} {replacement}",
                n.order,
                n.preference,
                quote(&n.flags),
                quote(&n.services),
                quote(&n.regexp)
            );
            let fields = Fields::Naptr {
                order: n.order,
                preference: n.preference,
                flags: lossy(&n.flags),
                services: lossy(&n.services),
                regexp: lossy(&n.regexp),
                replacement,
            };
            (text, fields)
        }
        RData::Unknown { code, rdata } => unknown(*code, &rdata.anything),
        // With its dnssec feature hickory decodes these itself; their wire form goes through the one decoder
        // the table and the fuzzer share, so both builds show the same fields.
        RData::DNSSEC(_) => {
            let bytes = rdata.to_bytes().ok()?;
            unknown(rdata.record_type(), &bytes)
        }
        _ => return None,
    })
}

/// DS, DNSKEY and RRSIG field by field; anything else as RFC 3597.
fn unknown(code: RecordType, bytes: &[u8]) -> (String, Fields) {
    let decoded = match code {
        RecordType::DS | RecordType::CDS => dnssec_wire::ds(bytes).map(|d| {
            let text = format!(
                "{} {} {} {}",
                d.key_tag,
                d.algorithm,
                d.digest_type,
                d.digest.to_uppercase()
            );
            let fields = Fields::Ds {
                key_tag: d.key_tag,
                algorithm: d.algorithm,
                digest_type: d.digest_type,
                digest: d.digest,
            };
            (text, fields)
        }),
        RecordType::DNSKEY | RecordType::CDNSKEY => dnssec_wire::dnskey(bytes).map(|k| {
            let text = format!(
                "{} {} {} {} ; key id = {}",
                k.flags, k.protocol, k.algorithm, k.key, k.key_tag
            );
            let fields = Fields::Dnskey {
                flags: k.flags,
                protocol: k.protocol,
                algorithm: k.algorithm,
                key_tag: k.key_tag,
                key: k.key,
            };
            (text, fields)
        }),
        RecordType::RRSIG => dnssec_wire::rrsig(bytes).map(|s| {
            let covered = RecordType::from(s.type_covered).to_string();
            let text = format!(
                "{covered} {} {} {} {} {} {} {} {}",
                s.algorithm,
                s.labels,
                s.original_ttl,
                s.expiration,
                s.inception,
                s.key_tag,
                s.signer,
                s.signature
            );
            let fields = Fields::Rrsig {
                type_covered: covered,
                algorithm: s.algorithm,
                labels: s.labels,
                original_ttl: s.original_ttl,
                expiration: s.expiration,
                inception: s.inception,
                key_tag: s.key_tag,
                signer: s.signer,
                signature: s.signature,
            };
            (text, fields)
        }),
        _ => None,
    };
    decoded.unwrap_or_else(|| {
        let text = format!("\\# {} {}", bytes.len(), hex(bytes).to_uppercase());
        (
            text,
            Fields::Unknown {
                code: u16::from(code),
                hex: hex(bytes),
            },
        )
    })
}

fn svcb(s: &SVCB) -> (String, Fields) {
    let target = name_text(&s.target_name);
    let (mut alpn, mut port, mut v4, mut v6, mut ech) = (Vec::new(), None, Vec::new(), Vec::new(), false);
    let mut params = Vec::new();
    for (key, value) in &s.svc_params {
        match value {
            SvcParamValue::Alpn(a) => alpn = a.0.iter().map(|p| printable(p)).collect(),
            SvcParamValue::Port(p) => port = Some(*p),
            SvcParamValue::Ipv4Hint(h) => v4 = h.0.iter().map(|a| IpAddr::V4(a.0)).collect(),
            SvcParamValue::Ipv6Hint(h) => v6 = h.0.iter().map(|a| IpAddr::V6(a.0)).collect(),
            SvcParamValue::EchConfigList(_) => ech = true,
            _ => {}
        }
        let shown = match value {
            // The ECH configuration is long and opaque: its presence is what a reader needs.
            SvcParamValue::EchConfigList(_) => "ech=present".to_string(),
            other => printable(&format!("{key}={other}")),
        };
        params.push(shown);
    }
    let text = format!("{} {target} {}", s.svc_priority, params.join(" "));
    let fields = Fields::Svcb {
        priority: s.svc_priority,
        target,
        alpn,
        port,
        ipv4hint: v4,
        ipv6hint: v6,
        ech,
        params,
    };
    (text.trim_end().to_string(), fields)
}
