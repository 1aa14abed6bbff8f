//! What a UDP probe sends: a request a real server answers (DNS, NTP), the user's `--send` data, or nothing.

/// The datagram for a UDP probe to `port`: the user's data if given, else a well-known request, else empty.
pub fn udp_payload(port: u16, user: Option<&[u8]>, id: u16) -> Vec<u8> {
    match (user, port) {
        (Some(data), _) => data.to_vec(),
        (None, 53) => dns_root_ns_query(id),
        (None, 123) => ntp_client_request(),
        (None, _) => Vec::new(),
    }
}

/// A standard DNS query for the root zone's NS records (`. IN NS`), recursion desired.
pub fn dns_root_ns_query(id: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(17);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // QR=0, opcode QUERY, RD=1
    q.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    q.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // AN, NS, AR counts
    q.push(0); // the root name
    q.extend_from_slice(&2u16.to_be_bytes()); // QTYPE NS
    q.extend_from_slice(&1u16.to_be_bytes()); // QCLASS IN
    q
}

/// An NTPv4 client-mode request (48 bytes, LI 0, VN 4, mode 3), as `ntpdate -q` sends.
pub fn ntp_client_request() -> Vec<u8> {
    let mut p = vec![0u8; 48];
    p[0] = 0x23;
    p
}

/// Decodes `--send` text: C-style escapes `\n \r \t \0 \\ \xHH`; anything else is taken literally.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let s = std::str::from_utf8(&hex).unwrap_or("");
                let v = (s.len() == 2)
                    .then(|| u8::from_str_radix(s, 16).ok())
                    .flatten()
                    .ok_or_else(|| "\\x needs two hex digits (\\x0d)".to_string())?;
                out.push(v);
            }
            Some(other) => {
                return Err(format!(
                    "unknown escape '\\{}' (accepted: \\n \\r \\t \\0 \\\\ \\xHH)",
                    other as char
                ));
            }
            None => return Err("a lone '\\' at the end (write \\\\ for a backslash)".to_string()),
        }
    }
    Ok(out)
}

/// Decodes `--send-hex`: hex digit pairs, spaces and colons ignored (`0d0a`, `de:ad be ef`).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !matches!(b, b' ' | b':')).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("an odd number of hex digits".to_string());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("'{}' is not a hex byte", String::from_utf8_lossy(pair)))
        })
        .collect()
}

/// Received bytes as printable text, in the one notation every command uses for outside text (`crate::text`).
pub fn escape(bytes: &[u8]) -> String {
    crate::text::escape_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_query_is_a_root_ns_question() {
        let q = dns_root_ns_query(0xabcd);
        assert_eq!(q, [0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
    }

    #[test]
    fn payload_choice() {
        assert_eq!(udp_payload(123, None, 1)[0], 0x23);
        assert_eq!(udp_payload(123, None, 1).len(), 48);
        assert_eq!(udp_payload(53, None, 7).len(), 17);
        assert!(udp_payload(9999, None, 1).is_empty());
        assert_eq!(udp_payload(53, Some(b"hi"), 1), b"hi");
    }

    #[test]
    fn send_text_escapes() {
        assert_eq!(
            unescape("GET / HTTP/1.0\\r\\n\\r\\n").unwrap(),
            b"GET / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(unescape("a\\x00\\x7f\\\\b\\t").unwrap(), b"a\x00\x7f\\b\t");
        assert!(unescape("\\q").unwrap_err().contains("unknown escape"));
        assert!(unescape("\\x4").is_err());
        assert!(unescape("\\xzz").is_err());
        assert!(unescape("end\\").is_err());
    }

    #[test]
    fn hex_and_escaping() {
        assert_eq!(parse_hex("0d0a").unwrap(), b"\r\n");
        assert_eq!(parse_hex("de:ad BE ef").unwrap(), [0xde, 0xad, 0xbe, 0xef]);
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
        assert_eq!(
            escape(b"SSH-2.0-x\r\n\x00\xff\\"),
            "SSH-2.0-x\\r\\n\\x00\\xff\\\\"
        );
    }
}
