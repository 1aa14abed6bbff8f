//! Record fields as table columns: when every row of a report is a record of one kind whose data has parts a
//! reader compares (TLSA usage/selector/matching, DS key tag/algorithm/digest type, HTTPS alpn/port/hints...), the
//! table shows those parts in columns of their own instead of dig's one line of text. Pure.

use super::answer::{QueryReport, Status};
use super::records::Fields;

/// The column headers and the cells of a record's fields; None for kinds shown as one line of text (addresses,
/// names, TXT, SOA, RRSIG, RFC 3597 data).
pub fn of(fields: &Fields) -> Option<(&'static [&'static str], Vec<String>)> {
    service(fields).or_else(|| keys(fields))
}

/// Cells of the kinds that point to services: MX, SRV, HTTPS/SVCB, NAPTR, CAA.
fn service(fields: &Fields) -> Option<(&'static [&'static str], Vec<String>)> {
    let list = |v: &[String]| v.join(",");
    let addrs = |v: &[std::net::IpAddr]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",");
    Some(match fields {
        Fields::Mx { preference, exchange } => (
            &["PREF", "EXCHANGE"],
            vec![preference.to_string(), exchange.clone()],
        ),
        Fields::Srv {
            priority,
            weight,
            port,
            target,
        } => (
            &["PRIORITY", "WEIGHT", "PORT", "TARGET"],
            vec![
                priority.to_string(),
                weight.to_string(),
                port.to_string(),
                target.clone(),
            ],
        ),
        Fields::Svcb {
            priority,
            target,
            alpn,
            port,
            ipv4hint,
            ipv6hint,
            ech,
            ..
        } => (
            &[
                "PRIORITY", "TARGET", "ALPN", "PORT", "IPV4HINT", "IPV6HINT", "ECH",
            ],
            vec![
                priority.to_string(),
                target.clone(),
                list(alpn),
                port.map(|p| p.to_string()).unwrap_or_default(),
                addrs(ipv4hint),
                addrs(ipv6hint),
                if *ech { "present" } else { "" }.to_string(),
            ],
        ),
        Fields::Naptr {
            order,
            preference,
            flags,
            services,
            regexp,
            replacement,
        } => (
            &["ORDER", "PREF", "FLAGS", "SERVICES", "REGEXP", "REPLACEMENT"],
            vec![
                order.to_string(),
                preference.to_string(),
                flags.clone(),
                services.clone(),
                regexp.clone(),
                replacement.clone(),
            ],
        ),
        Fields::Caa { flags, tag, value } => (
            &["FLAGS", "TAG", "VALUE"],
            vec![flags.to_string(), tag.clone(), value.clone()],
        ),
        _ => return None,
    })
}

/// Cells of the kinds that carry keys and their digests: TLSA, SSHFP, DS, DNSKEY.
fn keys(fields: &Fields) -> Option<(&'static [&'static str], Vec<String>)> {
    Some(match fields {
        Fields::Tlsa {
            usage,
            selector,
            matching_type,
            data,
        } => (
            &["USAGE", "SELECTOR", "MATCHING", "ASSOCIATION"],
            vec![
                usage.to_string(),
                selector.to_string(),
                matching_type.to_string(),
                data.clone(),
            ],
        ),
        Fields::Sshfp {
            algorithm,
            fingerprint_type,
            fingerprint,
        } => (
            &["ALGORITHM", "FP-TYPE", "FINGERPRINT"],
            vec![
                algorithm.to_string(),
                fingerprint_type.to_string(),
                fingerprint.clone(),
            ],
        ),
        Fields::Ds {
            key_tag,
            algorithm,
            digest_type,
            digest,
        } => (
            &["KEY-TAG", "ALGORITHM", "DIGEST-TYPE", "DIGEST"],
            vec![
                key_tag.to_string(),
                algorithm.to_string(),
                digest_type.to_string(),
                digest.clone(),
            ],
        ),
        Fields::Dnskey {
            flags,
            protocol,
            algorithm,
            key_tag,
            key,
        } => (
            &["FLAGS", "PROTOCOL", "ALGORITHM", "KEY-TAG", "KEY"],
            vec![
                flags.to_string(),
                protocol.to_string(),
                algorithm.to_string(),
                key_tag.to_string(),
                key.clone(),
            ],
        ),
        _ => return None,
    })
}

/// The field columns every row of these queries can fill: each query answered, nothing ignored or failed beside
/// it, and every record of one kind with columns. A report mixing kinds (or with a status row) keeps dig's text.
pub fn shared(queries: &[QueryReport]) -> Option<&'static [&'static str]> {
    let mut shared = None;
    for q in queries {
        if q.status != Status::Answer || !q.ignored_records.is_empty() || q.ignored_replies.text().is_some() {
            return None;
        }
        for rec in &q.records {
            let (columns, _) = of(rec.fields.as_ref()?)?;
            match shared {
                None => shared = Some(columns),
                Some(seen) if seen == columns => {}
                Some(_) => return None,
            }
        }
    }
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_with_parts_get_columns_and_text_kinds_do_not() {
        let tlsa = Fields::Tlsa {
            usage: 3,
            selector: 1,
            matching_type: 1,
            data: "ab12".into(),
        };
        let (columns, cells) = of(&tlsa).unwrap();
        assert_eq!(columns, ["USAGE", "SELECTOR", "MATCHING", "ASSOCIATION"]);
        assert_eq!(cells, ["3", "1", "1", "ab12"]);
        let svcb = Fields::Svcb {
            priority: 1,
            target: ".".into(),
            alpn: vec!["h2".into(), "h3".into()],
            port: Some(8443),
            ipv4hint: vec!["198.51.100.50".parse().unwrap()],
            ipv6hint: vec![],
            ech: true,
            params: vec![],
        };
        let (columns, cells) = of(&svcb).unwrap();
        assert_eq!(columns[2], "ALPN");
        assert_eq!(cells, ["1", ".", "h2,h3", "8443", "198.51.100.50", "", "present"]);
        let address = Fields::Address {
            address: "198.51.100.7".parse().unwrap(),
        };
        assert!(of(&address).is_none());
    }
}
