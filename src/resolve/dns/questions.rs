//! What to ask DNS: the record types `-t` names, and each NAME or `-x` address as the absolute name asked.

use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{Name, RecordType};

use crate::error::{Error, Result};
use crate::host::{RESOLVE, not_one_host};
use crate::target::{parse_ip_literal, validate_host_name};

/// The record types `-t` accepts by name.
pub const TYPES: [RecordType; 10] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::CNAME,
    RecordType::MX,
    RecordType::TXT,
    RecordType::NS,
    RecordType::SOA,
    RecordType::SRV,
    RecordType::PTR,
    RecordType::CAA,
];

/// `-t common`: what people usually want to see about a domain (CNAME chains show up in the A/AAAA answers).
pub const COMMON: [RecordType; 7] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::MX,
    RecordType::NS,
    RecordType::SOA,
    RecordType::TXT,
    RecordType::CAA,
];

/// Parses `-t` values (already split at commas): type names in any case, or `common`; duplicates dropped.
pub fn parse_types(values: &[String]) -> Result<Vec<RecordType>> {
    let mut types = Vec::new();
    for value in values {
        let upper = value.trim().to_ascii_uppercase();
        let found: Vec<RecordType> = if upper == "COMMON" {
            COMMON.to_vec()
        } else {
            match TYPES.iter().find(|t| t.to_string() == upper) {
                Some(t) => vec![*t],
                None => {
                    let names: Vec<String> = TYPES.iter().map(|t| t.to_string()).collect();
                    return Err(Error::usage(format!(
                        "unknown record type '{value}': accepted are {} and common",
                        names.join(", ")
                    )));
                }
            }
        };
        for t in found {
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    Ok(types)
}

/// Turns a NAME argument into the absolute name to ask: an address becomes its reverse (PTR) name.
/// Returns the name and whether it is a reverse name.
pub fn query_name(text: &str) -> Result<(Name, bool)> {
    if let Some(lit) = parse_ip_literal(text)? {
        return Ok((Name::from(lit.addr), true));
    }
    if text == "." {
        return Ok((Name::root(), false));
    }
    validate_host_name(text)?;
    let mut name = Name::from_ascii(text).map_err(|e| Error::usage(format!("bad name '{}': {e}", text)))?;
    // Asked as given, like dig: a relative name is made absolute, never extended by the search list.
    name.set_fqdn(true);
    Ok((name, false))
}

/// The questions to ask: every name with every type (an address: one PTR), then every `-x` address.
pub fn questions(names: &[String], reverse: &[String], types: &[RecordType]) -> Result<Vec<Query>> {
    let mut out = Vec::new();
    for text in names {
        match query_name(text)? {
            (name, true) => out.push(Query::query(name, RecordType::PTR)),
            (name, false) => out.extend(types.iter().map(|t| Query::query(name.clone(), *t))),
        }
    }
    for text in reverse {
        match parse_ip_literal(text)? {
            Some(lit) => out.push(Query::query(Name::from(lit.addr), RecordType::PTR)),
            None => {
                let why = not_one_host(text, RESOLVE)
                    .map(|w| format!(": {w}"))
                    .unwrap_or_default();
                return Err(Error::usage(format!(
                    "-x needs an IP address, got '{text}'{why} (e.g. -x 198.51.100.7 or -x 2001:db8::1)"
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_case_insensitively_with_common() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_types(&v(&["a", "Mx"])).unwrap(),
            [RecordType::A, RecordType::MX]
        );
        let common = parse_types(&v(&["common", "A", "SRV"])).unwrap();
        assert_eq!(common.len(), COMMON.len() + 1);
        assert_eq!(common.last(), Some(&RecordType::SRV));
        let err = parse_types(&v(&["AXFR"])).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("accepted are A, AAAA"), "{err}");
    }

    #[test]
    fn names_are_absolute_and_addresses_reverse() {
        let (n, rev) = query_name("web").unwrap();
        assert_eq!((n.to_ascii().as_str(), rev), ("web.", false));
        let (n, rev) = query_name("198.51.100.7").unwrap();
        assert_eq!((n.to_ascii().as_str(), rev), ("7.100.51.198.in-addr.arpa.", true));
        let (n, _) = query_name("2001:db8::1").unwrap();
        assert!(n.to_ascii().ends_with(".8.b.d.0.1.0.0.2.ip6.arpa."), "{n}");
        assert!(query_name(".").unwrap().0.is_root());
        assert!(query_name("_sip._tcp.lab.test").is_ok());
        assert_eq!(query_name("a..b").unwrap_err().exit_code(), 2);
    }

    #[test]
    fn questions_cross_names_and_types() {
        let names = ["a.test".to_string(), "198.51.100.7".to_string()];
        let qs = questions(&names, &["2001:db8::1".into()], &[RecordType::A, RecordType::MX]).unwrap();
        let got: Vec<_> = qs.iter().map(|q| q.query_type()).collect();
        assert_eq!(
            got,
            [RecordType::A, RecordType::MX, RecordType::PTR, RecordType::PTR]
        );
        assert_eq!(questions(&[], &["nope".into()], &[]).unwrap_err().exit_code(), 2);
        let err = questions(&[], &["198.51.100.0/24".into()], &[]).unwrap_err();
        assert!(
            err.to_string().contains("'198.51.100.0/24': a CIDR block"),
            "{err}"
        );
    }
}
