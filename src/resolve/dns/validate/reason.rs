//! Why an answer is bogus, in words: pure checks of the signatures' validity window, of a signature without
//! a key in the zone's DNSKEY set, and of the DS at the parent (missing, or naming no key the zone has).

use super::super::dnssec_wire::Rrsig;

/// Whether serial time `a` is after `b` (RFC 1982: RRSIG times wrap at 2^32).
fn after(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

/// Seconds since 1970 (mod 2^32) as an RFC 3339 UTC time.
pub fn time_text(secs: u32) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(secs));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A problem with the signatures themselves: none at all, all expired, or none valid yet.
pub fn signature_problem(rrset: &str, sigs: &[Rrsig], now: u32) -> Option<String> {
    if sigs.is_empty() {
        return Some(format!(
            "missing signature: {rrset} came without an RRSIG, and nothing proved its zone unsigned (a signed \
             parent's delegation without DS)"
        ));
    }
    let in_window = |s: &&Rrsig| !after(now, s.expiration) && !after(s.inception, now);
    if sigs.iter().any(|s| in_window(&s)) {
        return None;
    }
    let latest = sigs.iter().map(|s| s.expiration).max_by(|a, b| {
        if after(*a, *b) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Less
        }
    });
    match latest {
        Some(exp) if after(now, exp) => Some(format!(
            "expired signature: the RRSIG of {rrset} expired at {}",
            time_text(exp)
        )),
        _ => Some(format!(
            "signature not yet valid: the RRSIG of {rrset} starts at {}",
            time_text(sigs[0].inception)
        )),
    }
}

/// What the keys say: a signature by a key the zone does not publish, a DS missing at the parent, or a DS
/// that names no key of the zone. `ds_tags` is None when the zone is a trust anchor (no DS is needed).
pub fn key_problem(
    zone: &str,
    sig_tags: &[u16],
    key_tags: &[u16],
    ds_tags: Option<&[u16]>,
) -> Option<String> {
    let list = |tags: &[u16]| tags.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    if !sig_tags.iter().any(|t| key_tags.contains(t)) {
        return Some(format!(
            "key mismatch: signed with key tag {}, which the DNSKEY set of {zone} does not have ({})",
            list(sig_tags),
            if key_tags.is_empty() {
                "none".into()
            } else {
                list(key_tags)
            }
        ));
    }
    match ds_tags {
        Some([]) => Some(format!(
            "missing DS: the parent of {zone} has no DS record for it"
        )),
        Some(ds) if !ds.iter().any(|t| key_tags.contains(t)) => Some(format!(
            "key mismatch: the DS at the parent names key tag {}, and {zone} publishes {}",
            list(ds),
            list(key_tags)
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(inception: u32, expiration: u32) -> Rrsig {
        Rrsig {
            type_covered: 1,
            algorithm: 13,
            labels: 3,
            original_ttl: 300,
            expiration,
            inception,
            key_tag: 4242,
            signer: "sec.test.".into(),
            signature: String::new(),
        }
    }

    #[test]
    fn signature_windows() {
        let now = 1_700_000_000;
        assert_eq!(signature_problem("a A", &[sig(now - 10, now + 10)], now), None);
        let expired = signature_problem("a A", &[sig(1_577_836_800, 1_580_515_200)], now).unwrap();
        assert_eq!(
            expired,
            "expired signature: the RRSIG of a A expired at 2020-02-01T00:00:00Z"
        );
        let early = signature_problem("a A", &[sig(now + 100, now + 200)], now).unwrap();
        assert!(early.starts_with("signature not yet valid"), "{early}");
        assert!(
            signature_problem("a A", &[], now)
                .unwrap()
                .starts_with("missing signature")
        );
        // One good signature among expired ones is enough.
        assert_eq!(
            signature_problem("a A", &[sig(1, 2), sig(now - 1, now + 1)], now),
            None
        );
        // Serial arithmetic: an expiration just past the 2^32 wrap is still ahead.
        assert_eq!(signature_problem("a A", &[sig(u32::MAX - 5, 10)], u32::MAX), None);
    }

    #[test]
    fn key_problems() {
        assert_eq!(key_problem("z.", &[1], &[1, 2], Some(&[2])), None);
        assert_eq!(key_problem("z.", &[1], &[1], None), None);
        assert!(
            key_problem("z.", &[9], &[1], None)
                .unwrap()
                .starts_with("key mismatch: signed with key tag 9")
        );
        assert_eq!(
            key_problem("z.", &[1], &[1], Some(&[])).unwrap(),
            "missing DS: the parent of z. has no DS record for it"
        );
        assert!(
            key_problem("z.", &[1], &[1], Some(&[7]))
                .unwrap()
                .contains("DS at the parent names key tag 7")
        );
    }
}
