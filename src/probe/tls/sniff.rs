//! What the first bytes a server sent during a failed TLS handshake were: a TLS record (and its version),
//! plain text (HTTP, an SMTP greeting), or nothing. Std only: the fuzz target compiles this file alone.

/// What the server's first bytes were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// Nothing came.
    Nothing,
    /// A TLS alert record: its record version, and the level and description if the record held them.
    Alert {
        /// The record layer's version (0x0301 for TLS 1.0).
        record_version: u16,
        /// 1 warning, 2 fatal.
        level: Option<u8>,
        /// The alert's code.
        description: Option<u8>,
    },
    /// A ServerHello: the version it picked (legacy_version, or the supported_versions extension when
    /// present).
    ServerHello {
        /// The version the server chose.
        version: u16,
    },
    /// Another TLS record (handshake, change cipher spec, data).
    Record {
        /// The record's content type.
        content_type: u8,
        /// The record layer's version.
        record_version: u16,
    },
    /// An HTTP response: the server speaks HTTP, not TLS, on this port.
    Http {
        /// The status line, up to its end or 80 bytes.
        status_line: Vec<u8>,
    },
    /// Other bytes (a text greeting, a binary protocol): the first line, up to 80 bytes.
    Other {
        /// The first bytes.
        first: Vec<u8>,
    },
}

const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const SERVER_HELLO: u8 = 2;
const SUPPORTED_VERSIONS: u16 = 43;

/// Classifies the first bytes received.
pub fn sniff(data: &[u8]) -> Sniffed {
    if data.is_empty() {
        return Sniffed::Nothing;
    }
    if data.starts_with(b"HTTP/") {
        return Sniffed::Http {
            status_line: first_line(data),
        };
    }
    if data.len() >= 3 && (20..=24).contains(&data[0]) && data[1] == 3 && data[2] <= 4 {
        let record_version = u16::from_be_bytes([data[1], data[2]]);
        let body = data.get(5..).unwrap_or(&[]);
        return match data[0] {
            ALERT => Sniffed::Alert {
                record_version,
                level: body.first().copied(),
                description: body.get(1).copied(),
            },
            HANDSHAKE if body.first() == Some(&SERVER_HELLO) => match server_hello_version(body) {
                Some(version) => Sniffed::ServerHello { version },
                None => Sniffed::Record {
                    content_type: HANDSHAKE,
                    record_version,
                },
            },
            content_type => Sniffed::Record {
                content_type,
                record_version,
            },
        };
    }
    Sniffed::Other {
        first: first_line(data),
    }
}

/// The first line (without its end), at most 80 bytes.
fn first_line(data: &[u8]) -> Vec<u8> {
    let end = data
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(data.len())
        .min(80);
    data[..end].to_vec()
}

/// The version a ServerHello message chose; `body` starts at the handshake header.
fn server_hello_version(body: &[u8]) -> Option<u16> {
    // type(1) length(3) legacy_version(2) random(32) session_id(1+n) cipher(2) compression(1) extensions(2+n)
    let legacy = u16::from_be_bytes([*body.get(4)?, *body.get(5)?]);
    let mut at = 6 + 32;
    let sid = usize::from(*body.get(at)?);
    at += 1 + sid + 2 + 1;
    let Some(ext_len) = body.get(at..at + 2) else {
        return Some(legacy); // no extensions: an old server, its legacy version is the one
    };
    let end = (at + 2 + usize::from(u16::from_be_bytes([ext_len[0], ext_len[1]]))).min(body.len());
    at += 2;
    while at + 4 <= end {
        let kind = u16::from_be_bytes([body[at], body[at + 1]]);
        let len = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        at += 4;
        if kind == SUPPORTED_VERSIONS && len == 2 && at + 2 <= end {
            return Some(u16::from_be_bytes([body[at], body[at + 1]]));
        }
        at += len;
    }
    Some(legacy)
}

/// A version rustls cannot handshake with (older than TLS 1.2).
pub fn is_legacy(v: u16) -> bool {
    (0x0300..0x0303).contains(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ServerHello record choosing `version`, with `ext` as its extensions block (None: no block at all).
    pub(crate) fn server_hello(version: u16, ext: Option<&[u8]>) -> Vec<u8> {
        let mut hs = vec![SERVER_HELLO, 0, 0, 0];
        hs.extend(version.to_be_bytes());
        hs.extend([7u8; 32]);
        hs.push(0); // no session id
        hs.extend([0x00, 0x2f, 0]); // TLS_RSA_WITH_AES_128_CBC_SHA, no compression
        if let Some(ext) = ext {
            hs.extend((ext.len() as u16).to_be_bytes());
            hs.extend(ext);
        }
        let len = (hs.len() - 4) as u32;
        hs[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
        let mut rec = vec![HANDSHAKE, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn old_and_new_server_hellos() {
        assert_eq!(
            sniff(&server_hello(0x0301, None)),
            Sniffed::ServerHello { version: 0x0301 }
        );
        let sv = [0, 43, 0, 2, 3, 4];
        assert_eq!(
            sniff(&server_hello(0x0303, Some(&sv))),
            Sniffed::ServerHello { version: 0x0304 }
        );
        let other = [0, 11, 0, 1, 0];
        assert_eq!(
            sniff(&server_hello(0x0302, Some(&other))),
            Sniffed::ServerHello { version: 0x0302 }
        );
        assert!(is_legacy(0x0302) && !is_legacy(0x0303));
    }

    #[test]
    fn alerts_http_and_text() {
        assert_eq!(
            sniff(&[21, 3, 1, 0, 2, 2, 70]),
            Sniffed::Alert {
                record_version: 0x0301,
                level: Some(2),
                description: Some(70)
            }
        );
        assert_eq!(
            sniff(b"HTTP/1.1 400 Bad Request\r\nServer: x\r\n\r\n"),
            Sniffed::Http {
                status_line: b"HTTP/1.1 400 Bad Request".to_vec()
            }
        );
        assert_eq!(
            sniff(b"220 mail ESMTP\r\n"),
            Sniffed::Other {
                first: b"220 mail ESMTP".to_vec()
            }
        );
        assert_eq!(sniff(b""), Sniffed::Nothing);
        // A truncated hello is still a handshake record.
        assert_eq!(
            sniff(&[22, 3, 3, 0, 9, 2, 0]),
            Sniffed::Record {
                content_type: 22,
                record_version: 0x0303
            }
        );
    }
}
