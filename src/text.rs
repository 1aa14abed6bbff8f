//! The one way text from outside (arguments, files, the network) is made safe to print: control characters and
//! invisible Unicode controls never reach a terminal raw, in messages, tables and JSON alike.
//!
//! The notation is C's, the same everywhere: `\n`, `\r`, `\t`, `\xHH` for other ASCII control bytes (and for bytes
//! that are not UTF-8), `\u{HHHH}` for Unicode controls (C1, bidirectional overrides, zero-width characters). A
//! hostile DNS server, client or file argument can then neither move the cursor, set the clipboard (OSC 52), ring
//! the bell, nor reorder what the reader sees (U+202E).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;
use std::ops::Not;

/// Whether a character must not reach a terminal as it is: C0 and C1 controls, DEL, and the format characters that
/// reorder or hide text (bidirectional embeddings, overrides and isolates, zero-width spaces and joiners, BOM).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
        )
}

/// Escapes every character a terminal could act on of one line of text (newlines and tabs included), leaving the rest as it is.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// Like [`escape`], but keeps newlines and tabs: for multi-line cells and notes, where they are layout.
pub fn escape_keep_lines(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

fn escape_with(text: &str, keep_lines: bool) -> Cow<'_, str> {
    // Printable ASCII, most of what is escaped (addresses, numbers, names), is checked a byte at a time.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(text);
    }
    let kept = |c: char| keep_lines && (c == '\n' || c == '\t');
    if !text.chars().any(|c| is_unsafe(c) && !kept(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) && !kept(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_ascii() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
}

/// Bytes received or read as text: UTF-8 runs escaped as [`escape`] does, bytes that are not UTF-8 as `\xHH`, and a
/// backslash doubled so that the text can be read back unambiguously.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if is_unsafe(c) {
                push_escaped(&mut out, c);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Shortens outside text to about `max` bytes (on a character boundary) for quoting in a message, saying how much
/// was left out, and escapes it.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.len() <= max {
        return escape(text).into_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", escape(&text[..end]), text.len())
}

/// Rewrites the characters JSON leaves raw that a terminal could act on (DEL, C1 controls, bidirectional and zero-width characters) as
/// `\uHHHH` escapes. Applied to serialised JSON, where such characters can only stand inside strings, it keeps the
/// document equal in meaning while no raw control reaches the reader.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    // Printable ASCII and newlines are safe: checked a byte at a time, the common text costs one pass
    // without decoding characters.
    if all_plain_json(json.as_bytes()) || !json.chars().any(|c| is_unsafe(c) && c != '\n') {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_unsafe(c) && c != '\n' {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether every byte is safe as it is in serialised JSON (printable ASCII or a newline), checked without
/// stopping early (so that it runs over wide registers: a document is megabytes of it).
fn all_plain_json(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(false, |odd, &b| odd | ((b < b' ' && b != b'\n') || b > b'~'))
        .not()
}

/// A writer that passes serialised JSON on rewritten as [`escape_json`] does, a chunk at a time: a large
/// document goes out as it is serialised, never whole in memory. A character split between two writes
/// is held until its rest comes.
pub struct JsonEscaper<W: io::Write> {
    inner: W,
    held: Vec<u8>,
}

impl<W: io::Write> JsonEscaper<W> {
    /// Escapes into `inner`.
    pub fn new(inner: W) -> Self {
        JsonEscaper {
            inner,
            held: Vec::new(),
        }
    }
}

impl<W: io::Write> io::Write for JsonEscaper<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.held.is_empty() && all_plain_json(buf) {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut bytes = std::mem::take(&mut self.held);
        bytes.extend_from_slice(buf);
        let whole = match std::str::from_utf8(&bytes) {
            Ok(text) => text.len(),
            // Only an unfinished last character is waited for: JSON from serde is UTF-8.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        };
        let text = std::str::from_utf8(&bytes[..whole]).unwrap_or_default();
        self.inner.write_all(escape_json(text).as_bytes())?;
        self.held = bytes[whole..].to_vec();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.held.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "JSON ended inside a character",
            ));
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escaping_writer_rewrites_as_escape_json_even_across_writes() {
        let doc = "{\"a\": \"x\u{202e}y\u{7f}\u{e9}\"}\n";
        let mut out = JsonEscaper::new(Vec::new());
        // One byte at a time: every multi-byte character arrives split.
        for b in doc.as_bytes() {
            io::Write::write_all(&mut out, std::slice::from_ref(b)).unwrap();
        }
        io::Write::flush(&mut out).unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), escape_json(doc));
        let mut cut = JsonEscaper::new(Vec::new());
        io::Write::write_all(&mut cut, &"\u{e9}".as_bytes()[..1]).unwrap();
        assert!(io::Write::flush(&mut cut).is_err());
    }

    #[test]
    fn terminal_escapes_become_visible_text() {
        assert_eq!(escape("a\x1b[31mred\x07"), "a\\x1b[31mred\\x07");
        assert_eq!(escape("osc\x1b]52;c;aGk=\x07"), "osc\\x1b]52;c;aGk=\\x07");
        assert_eq!(escape("two\nlines\tand\r"), "two\\nlines\\tand\\r");
        assert_eq!(escape("del\x7f"), "del\\x7f");
        assert_eq!(escape("c1\u{9b}"), "c1\\u{009b}");
    }

    #[test]
    fn bidirectional_and_invisible_characters_are_escaped() {
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(escape("iso\u{2066}late\u{2069}"), "iso\\u{2066}late\\u{2069}");
        assert_eq!(escape("bom\u{feff}"), "bom\\u{feff}");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["münchen.example", "C:\\path", "日本語", "a b"] {
            assert!(matches!(escape(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn lines_can_be_kept() {
        assert_eq!(escape_keep_lines("a\nb\tc\x1b"), "a\nb\tc\\x1b");
    }

    #[test]
    fn bytes_escape_invalid_utf8_and_backslash() {
        assert_eq!(escape_bytes(b"ok\\\xff\xfe\r\n"), "ok\\\\\\xff\\xfe\\r\\n");
        assert_eq!(escape_bytes("é\u{202e}".as_bytes()), "é\\u{202e}");
    }

    #[test]
    fn excerpts_are_bounded_and_say_the_length() {
        let long = "x".repeat(1000);
        let quoted = excerpt(&long, 100);
        assert!(quoted.starts_with(&"x".repeat(100)));
        assert!(quoted.ends_with("... (1000 bytes)"));
        assert_eq!(excerpt("é\x1b", 2), "é... (3 bytes)");
        assert_eq!(excerpt("short", 100), "short");
    }

    #[test]
    fn json_keeps_its_meaning() {
        let doc = serde_json::to_string(&"a\u{7f}b\u{202e}c\u{1b}").unwrap();
        let safe = escape_json(&doc);
        assert!(!safe.chars().any(is_unsafe));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "a\u{7f}b\u{202e}c\u{1b}");
    }
}
