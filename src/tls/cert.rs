//! Certificate facts as a person reads them (subject, issuer, names, validity, key, signature), from DER.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::text::escape;

const SECS_PER_DAY: i64 = 86_400;

/// One certificate of a chain as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CertFacts {
    /// The subject's distinguished name (RFC 4514 order, escaped).
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// DNS names and IP addresses of the subject alternative name extension.
    pub names: Vec<String>,
    /// Valid from (RFC 3339, UTC).
    pub not_before: String,
    /// Valid until (RFC 3339, UTC).
    pub not_after: String,
    /// Whole days from now to `not_after` (negative once expired).
    pub days_left: i64,
    /// The public key: `RSA`, `EC P-256`, `Ed25519`...
    pub key_type: String,
    /// The key's size in bits (0 when unknown).
    pub key_bits: u32,
    /// The issuer's signature algorithm (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`...).
    pub signature: String,
    /// Subject and issuer are the same name.
    pub self_issued: bool,
    /// A CA certificate (basic constraints CA:true).
    pub ca: bool,
    /// Why the certificate could not be read; null when it could (the other fields are then empty).
    pub error: Option<String>,
    /// `not_before` and `not_after` as Unix seconds, for verdicts.
    #[serde(skip)]
    pub validity: (i64, i64),
}

impl CertFacts {
    /// Reads a DER certificate; `now` (Unix seconds) gives the days left.
    pub fn from_der(der: &[u8], now: i64) -> CertFacts {
        match X509Certificate::from_der(der) {
            Ok((_, cert)) => read(&cert, now),
            Err(e) => CertFacts::unreadable(format!("not a readable X.509 certificate: {e}")),
        }
    }

    fn unreadable(error: String) -> CertFacts {
        CertFacts {
            subject: String::new(),
            issuer: String::new(),
            names: Vec::new(),
            not_before: String::new(),
            not_after: String::new(),
            days_left: 0,
            key_type: String::new(),
            key_bits: 0,
            signature: String::new(),
            self_issued: false,
            ca: false,
            error: Some(error),
            validity: (0, 0),
        }
    }

    /// The not-after date alone (`2026-01-31`), for sentences.
    pub fn not_after_date(&self) -> &str {
        self.not_after.get(..10).unwrap_or(&self.not_after)
    }

    /// The not-before date alone.
    pub fn not_before_date(&self) -> &str {
        self.not_before.get(..10).unwrap_or(&self.not_before)
    }
}

fn read(cert: &X509Certificate<'_>, now: i64) -> CertFacts {
    let (from, until) = (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    );
    let (key_type, key_bits) = key_of(cert);
    CertFacts {
        subject: escape(&cert.subject().to_string()).into_owned(),
        issuer: escape(&cert.issuer().to_string()).into_owned(),
        names: names_of(cert),
        not_before: rfc3339(from),
        not_after: rfc3339(until),
        days_left: (until - now).div_euclid(SECS_PER_DAY),
        key_type,
        key_bits,
        signature: signature_name(&cert.signature_algorithm.algorithm.to_id_string()),
        self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
        ca: cert.is_ca(),
        error: None,
        validity: (from, until),
    }
}

/// The DNS names and addresses a certificate is valid for.
fn names_of(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(escape(d).into_owned()),
            GeneralName::IPAddress(b) => ip_of(b).map(|ip| ip.to_string()),
            _ => None,
        })
        .collect()
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// The key's type (with the curve for EC keys) and size.
fn key_of(cert: &X509Certificate<'_>) -> (String, u32) {
    let spki = cert.public_key();
    let bits = spki.parsed().map_or(0, |k| k.key_size()) as u32;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => ("RSA".into(), bits),
        "1.2.840.113549.1.1.10" => ("RSA-PSS".into(), bits),
        "1.2.840.10045.2.1" => {
            let name = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "EC P-256",
                Some("1.3.132.0.34") => "EC P-384",
                Some("1.3.132.0.35") => "EC P-521",
                _ => "EC",
            };
            (name.into(), bits)
        }
        "1.3.101.112" => ("Ed25519".into(), 256),
        "1.3.101.113" => ("Ed448".into(), 456),
        other => (other.to_string(), bits),
    }
}

/// The usual name of a signature algorithm OID; the dotted OID when unknown.
fn signature_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        _ => return oid.to_string(),
    };
    name.to_string()
}

/// Unix seconds as RFC 3339 UTC (`2026-01-31T12:00:00Z`); certificates may lie outside SystemTime's range,
/// so the calendar is computed here.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(SECS_PER_DAY);
    let rem = secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Now as Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    #[test]
    fn dates_are_calendar_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn a_leaf_reads_back_as_made() {
        let mut params = CertificateParams::new(vec!["lab.test".into(), "www.lab.test".into()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress("198.51.100.10".parse().unwrap()));
        params.distinguished_name.push(DnType::CommonName, "lab.test");
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2025, 3, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let now = 1_736_726_400; // 2025-01-13
        let facts = CertFacts::from_der(cert.der(), now);
        assert_eq!(facts.error, None);
        assert_eq!(facts.subject, "CN=lab.test");
        assert_eq!(facts.names, ["lab.test", "www.lab.test", "198.51.100.10"]);
        assert_eq!(facts.not_before, "2025-01-01T00:00:00Z");
        assert_eq!(facts.not_after_date(), "2025-03-01");
        assert_eq!(facts.days_left, 47);
        assert_eq!((facts.key_type.as_str(), facts.key_bits), ("EC P-256", 256));
        assert_eq!(facts.signature, "ecdsa-with-SHA256");
        assert!(facts.self_issued);
        let later = CertFacts::from_der(cert.der(), 1_741_000_000);
        assert!(later.days_left < 0, "{}", later.days_left);
    }

    #[test]
    fn garbage_is_named_not_a_panic() {
        let facts = CertFacts::from_der(b"\x30\x03\x02\x01", 0);
        assert!(facts.error.unwrap().contains("not a readable"));
    }
}
