//! What to ask DNS: the record types `-t` names, and each NAME or `-x` address as the absolute name asked.

use std::str::FromStr;

use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{Name, RecordType};

use crate::error::{Error, Result};
use crate::host::{RESOLVE, not_one_host};
use crate::target::{parse_ip_literal, validate_host_name};

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

/// Types `-t` refuses: zone transfers and pseudo-records are not questions a resolver answers.
const NOT_QUESTIONS: [(RecordType, &str); 4] = [
    (RecordType::AXFR, "a zone transfer"),
    (RecordType::IXFR, "a zone transfer"),
    (RecordType::OPT, "the EDNS pseudo-record"),
    (RecordType::TSIG, "a transaction signature"),
];

/// Parses `-t` values (already split at commas): type names in any case, `TYPE65280` numbers (RFC 3597), or
/// `common`; duplicates dropped.
pub fn parse_types(values: &[String]) -> Result<Vec<RecordType>> {
    let mut types = Vec::new();
    for value in values {
        let found = match value.trim().to_ascii_uppercase().as_str() {
            "COMMON" => COMMON.to_vec(),
            upper => vec![parse_type(upper, value)?],
        };
        for t in found {
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    Ok(types)
}

fn parse_type(upper: &str, given: &str) -> Result<RecordType> {
    let bad = |why: &str| {
        Error::usage(format!(
            "bad record type '{}': {why}; accepted: a type name (A, AAAA, MX, HTTPS, TLSA, DS, ANY, ...), \
             TYPE1 to TYPE65535, or common",
            crate::text::escape(given)
        ))
    };
    let rt = match upper.strip_prefix("TYPE") {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            match digits.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad("a type number is 1 to 65535")),
                Ok(n) => RecordType::from(n),
            }
        }
        _ => RecordType::from_str(upper).map_err(|_| bad("unknown type"))?,
    };
    match NOT_QUESTIONS.iter().find(|(t, _)| *t == rt) {
        Some((_, what)) => Err(bad(&format!("{what}, not a question resolve asks"))),
        None => Ok(rt),
    }
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
        assert!(err.to_string().contains("a zone transfer"), "{err}");
        assert!(err.to_string().contains("accepted: a type name"), "{err}");
    }

    #[test]
    fn every_type_hickory_names_and_numbers_are_taken() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let got = parse_types(&v(&[
            "https", "SVCB", "ds", "DNSKEY", "RRSIG", "NAPTR", "TLSA", "SSHFP", "ANY",
        ]));
        assert_eq!(got.unwrap().len(), 9);
        assert_eq!(parse_types(&v(&["TYPE65"])).unwrap(), [RecordType::HTTPS]);
        assert_eq!(
            parse_types(&v(&["type65280"])).unwrap(),
            [RecordType::Unknown(65280)]
        );
        for bad in ["TYPE0", "TYPE65536", "TYPE", "BOGUS"] {
            assert_eq!(parse_types(&v(&[bad])).unwrap_err().exit_code(), 2, "{bad}");
        }
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
