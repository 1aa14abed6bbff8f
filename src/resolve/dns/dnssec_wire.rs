//! The DNSSEC record types hickory leaves as raw bytes (built without its `dnssec` feature): DS, DNSKEY and
//! RRSIG decoded field by field from their RDATA, with the key tag of RFC 4034 appendix B. Pure and std-only,
//! so the fuzzer compiles this file alone (fuzz/fuzz_targets/dnssec.rs); it never panics on hostile bytes.

/// A DS record (RFC 4034 section 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ds {
    /// The key tag of the DNSKEY it points to.
    pub key_tag: u16,
    /// The key's algorithm number.
    pub algorithm: u8,
    /// The digest's algorithm number (1 SHA-1, 2 SHA-256, 4 SHA-384).
    pub digest_type: u8,
    /// The digest, in hex.
    pub digest: String,
}

/// A DNSKEY record (RFC 4034 section 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dnskey {
    /// 256: zone key; 257: zone key and secure entry point (a KSK).
    pub flags: u16,
    /// Always 3.
    pub protocol: u8,
    /// The algorithm number.
    pub algorithm: u8,
    /// The key tag computed from the RDATA (RFC 4034 appendix B).
    pub key_tag: u16,
    /// The public key, in base64.
    pub key: String,
}

/// An RRSIG record (RFC 4034 section 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rrsig {
    /// The record type the signature covers, by number.
    pub type_covered: u16,
    /// The algorithm number.
    pub algorithm: u8,
    /// Labels in the signed owner name.
    pub labels: u8,
    /// The TTL the records had at the signer.
    pub original_ttl: u32,
    /// Signature expiration, seconds since 1970 (modulo 2^32).
    pub expiration: u32,
    /// Signature inception, seconds since 1970 (modulo 2^32).
    pub inception: u32,
    /// The key tag of the signing DNSKEY.
    pub key_tag: u16,
    /// The signer's name, absolute, in ASCII with non-printable bytes as \DDD.
    pub signer: String,
    /// The signature, in base64.
    pub signature: String,
}

/// Decodes a DS RDATA.
pub fn ds(rdata: &[u8]) -> Option<Ds> {
    let (head, digest) = split(rdata, 4)?;
    Some(Ds {
        key_tag: u16::from_be_bytes([head[0], head[1]]),
        algorithm: head[2],
        digest_type: head[3],
        digest: hex(digest),
    })
}

/// Decodes a DNSKEY RDATA.
pub fn dnskey(rdata: &[u8]) -> Option<Dnskey> {
    let (head, key) = split(rdata, 4)?;
    Some(Dnskey {
        flags: u16::from_be_bytes([head[0], head[1]]),
        protocol: head[2],
        algorithm: head[3],
        key_tag: key_tag(rdata),
        key: base64(key),
    })
}

/// Decodes an RRSIG RDATA (the signer's name is not compressed, RFC 4034 section 3.1.7).
pub fn rrsig(rdata: &[u8]) -> Option<Rrsig> {
    let (head, rest) = split(rdata, 18)?;
    let be32 = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let (signer, used) = wire_name(rest)?;
    Some(Rrsig {
        type_covered: u16::from_be_bytes([head[0], head[1]]),
        algorithm: head[2],
        labels: head[3],
        original_ttl: be32(4),
        expiration: be32(8),
        inception: be32(12),
        key_tag: u16::from_be_bytes([head[16], head[17]]),
        signer,
        signature: base64(&rest[used..]),
    })
}

/// The key tag of a DNSKEY RDATA (RFC 4034 appendix B; algorithm 1 is obsolete and not special-cased).
pub fn key_tag(rdata: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    for (i, b) in rdata.iter().enumerate() {
        acc = acc.wrapping_add(if i % 2 == 0 {
            u32::from(*b) << 8
        } else {
            u32::from(*b)
        });
    }
    acc = acc.wrapping_add((acc >> 16) & 0xffff);
    (acc & 0xffff) as u16
}

fn split(rdata: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    (rdata.len() >= at).then(|| rdata.split_at(at))
}

/// An uncompressed wire-format name: its text and the bytes it took.
fn wire_name(bytes: &[u8]) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut i = 0;
    loop {
        let len = usize::from(*bytes.get(i)?);
        i += 1;
        if len == 0 {
            break;
        }
        // A pointer (or a reserved label type) cannot appear here.
        if len > 63 {
            return None;
        }
        let label = bytes.get(i..i + len)?;
        for &b in label {
            match b {
                b'.' | b'\\' => text.push_str(&format!("\\{}", b as char)),
                0x21..=0x7e => text.push(b as char),
                _ => text.push_str(&format!("\\{b:03}")),
            }
        }
        text.push('.');
        i += len;
    }
    if text.is_empty() {
        text.push('.');
    }
    Some((text, i))
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes as standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(ABC[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hex_match_the_standard_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn ds_and_dnskey_fields() {
        let d = ds(&[0x4f, 0x66, 13, 2, 0xde, 0xad]).unwrap();
        assert_eq!(
            (d.key_tag, d.algorithm, d.digest_type, d.digest.as_str()),
            (20326, 13, 2, "dead")
        );
        assert!(ds(&[1, 2, 3]).is_none());
        let k = dnskey(&[1, 1, 3, 8, 0xff]).unwrap();
        assert_eq!(
            (k.flags, k.protocol, k.algorithm, k.key.as_str()),
            (257, 3, 8, "/w==")
        );
        // RFC 4034 appendix B by hand: 0x0101 + 0x0308 + 0xff00.
        assert_eq!(
            k.key_tag, 0x030a,
            "0x0101 + 0x0308 + 0xff00 = 0x10309, carry folded in"
        );
    }

    #[test]
    fn rrsig_fields_and_hostile_names() {
        let mut r = vec![
            0, 1, 13, 2, 0, 0, 0x0e, 0x10, 0x70, 0, 0, 0, 0x60, 0, 0, 0, 0x12, 0x34,
        ];
        r.extend_from_slice(b"\x03lab\x04test\x00");
        r.extend_from_slice(&[1, 2, 3]);
        let s = rrsig(&r).unwrap();
        assert_eq!(
            (s.type_covered, s.algorithm, s.labels, s.original_ttl),
            (1, 13, 2, 3600)
        );
        assert_eq!(
            (s.expiration, s.inception, s.key_tag),
            (0x7000_0000, 0x6000_0000, 0x1234)
        );
        assert_eq!((s.signer.as_str(), s.signature.as_str()), ("lab.test.", "AQID"));
        let mut bad = r[..18].to_vec();
        bad.extend_from_slice(&[0xc0, 0x0c]);
        assert!(rrsig(&bad).is_none(), "no compression pointers");
        assert!(rrsig(&r[..20]).is_none(), "a cut name");
    }
}
