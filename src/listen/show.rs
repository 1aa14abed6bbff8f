//! --show and --hex: what a client sent, as a `data` event: escaped text lines or an xxd-style dump prefixed by
//! the peer, base64 in NDJSON; at most --show-max bytes per session (pure).

use super::endpoint::Endpoint;

use schemars::JsonSchema;
use serde::Serialize;

use super::session::{Proto, SessionId};

/// How received data is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowStyle {
    /// Text, control and non-ASCII bytes escaped, one line per line received.
    Text,
    /// An xxd-style dump: offset, 16 bytes in hex, the printable ones as characters.
    Hex,
}

/// Bytes a client sent, as far as --show-max lets them be shown.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DataShown {
    /// When it arrived, RFC 3339 UTC with milliseconds.
    pub occurred_at: String,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// The client's address and port.
    pub peer: Endpoint,
    /// The local address and port it reached.
    pub local: Endpoint,
    /// Where these bytes start in what the session received.
    pub offset: u64,
    /// Bytes received in this piece.
    pub received_bytes: u64,
    /// The bytes shown, base64 (standard alphabet, padded): the first `shown_bytes` of the piece.
    pub data_base64: String,
    /// How many of the piece's bytes are shown; fewer than received once --show-max is reached.
    pub shown_bytes: u64,
    /// Whether this piece reached --show-max: nothing more of this session is shown.
    pub limit_reached: bool,
    /// Text rendering (not in JSON).
    #[serde(skip)]
    #[schemars(skip)]
    pub style: Option<ShowStyle>,
    /// The shown bytes themselves (not in JSON: `data_base64` carries them).
    #[serde(skip)]
    #[schemars(skip)]
    pub bytes: Vec<u8>,
}

/// How much of a piece of `len` bytes may be shown when `shown` of the session's bytes were, at most `max`.
pub fn allowance(shown: u64, len: usize, max: u64) -> usize {
    max.saturating_sub(shown).min(len as u64) as usize
}

/// The text lines of a `data` event: each line `PEER < TEXT`, or `PEER < OFFSET: HEX  CHARS` for --hex, and a
/// last line when --show-max was reached.
pub fn data_text(d: &DataShown) -> String {
    let peer = d.peer.to_string();
    let mut lines: Vec<String> = match d.style {
        Some(ShowStyle::Hex) => hex_lines(&d.bytes, d.offset),
        _ => text_lines(&d.bytes),
    };
    if d.limit_reached {
        let hidden = d.received_bytes - d.shown_bytes;
        lines.push(format!(
            "({hidden} B of this piece and all that follows not shown: --show-max reached)"
        ));
    }
    lines
        .iter()
        .map(|l| format!("{peer} < {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Received bytes as lines of escaped text: a line break ends a line (shown as `\n` so none is hidden);
/// everything a terminal could act on is escaped by the project's escaper.
pub fn text_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = bytes
        .split_inclusive(|b| *b == b'\n')
        .map(crate::text::escape_bytes)
        .collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// An xxd-style dump: `00000010: 4745 5420 2f20 ...  GET / ...`, offsets counted from `start`.
pub fn hex_lines(bytes: &[u8], start: u64) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, row)| {
            let mut hex = String::with_capacity(40);
            for (j, b) in row.iter().enumerate() {
                if j > 0 && j % 2 == 0 {
                    hex.push(' ');
                }
                hex.push_str(&format!("{b:02x}"));
            }
            let chars: String = row
                .iter()
                .map(|b| if (0x20..0x7f).contains(b) { *b as char } else { '.' })
                .collect();
            format!("{:08x}: {hex:<39}  {chars}", start + 16 * i as u64)
        })
        .collect()
}

/// Standard base64 with padding (RFC 4648).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
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
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn text_lines_escape_everything_a_terminal_acts_on() {
        let hostile = b"GET / HTTP/1.1\r\n\x1b]52;c;aGk=\x07\x1b[2J\x9b\xc3\xa9\x7f\n";
        let lines = text_lines(hostile);
        assert_eq!(lines[0], "GET / HTTP/1.1\\r\\n");
        // A lone byte that is not UTF-8 is \xHH; a whole UTF-8 letter is shown as the letter.
        assert_eq!(lines[1], "\\x1b]52;c;aGk=\\x07\\x1b[2J\\x9bé\\x7f\\n");
        for l in &lines {
            assert!(!l.chars().any(crate::text::is_unsafe), "{l}");
        }
        assert_eq!(text_lines(b"no newline"), vec!["no newline"]);
    }

    #[test]
    fn hex_lines_look_like_xxd() {
        // The expected lines are xxd's own output for these bytes (offsets shifted by 0x20).
        let lines = hex_lines(b"GET / HTTP/1.1\r\nHost: x\r\n", 0x20);
        assert_eq!(
            lines[0],
            "00000020: 4745 5420 2f20 4854 5450 2f31 2e31 0d0a  GET / HTTP/1.1.."
        );
        assert_eq!(
            lines[1],
            "00000030: 486f 7374 3a20 780d 0a                   Host: x.."
        );
    }

    #[test]
    fn allowance_stops_at_the_limit() {
        assert_eq!(allowance(0, 100, 4096), 100);
        assert_eq!(allowance(4000, 100, 4096), 96);
        assert_eq!(allowance(4096, 100, 4096), 0);
        assert_eq!(allowance(5000, 100, 4096), 0);
    }

    #[test]
    fn a_data_event_is_prefixed_by_the_peer_and_says_when_the_limit_hides_the_rest() {
        let d = DataShown {
            occurred_at: String::new(),
            protocol: Proto::Tcp,
            session_id: 1,
            peer: "127.0.0.1:5555".parse().unwrap(),
            local: "127.0.0.1:7".parse().unwrap(),
            offset: 0,
            received_bytes: 10,
            data_base64: base64(b"ab\ncd"),
            shown_bytes: 5,
            limit_reached: true,
            style: Some(ShowStyle::Text),
            bytes: b"ab\ncd".to_vec(),
        };
        assert_eq!(
            data_text(&d),
            "127.0.0.1:5555 < ab\\n\n127.0.0.1:5555 < cd\n127.0.0.1:5555 < (5 B of this piece and all \
             that follows not shown: --show-max reached)"
        );
    }
}
