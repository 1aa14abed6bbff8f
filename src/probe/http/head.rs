//! HTTP/1.x response heads and body ends as a server sends them. Std only: the fuzz target compiles this
//! file alone; anything a server sends is bounded (head size, header count, chunk sizes).

/// A response head larger than this is refused (curl's limit is 100 KiB; real heads are a few hundred bytes).
pub const MAX_HEAD: usize = 64 * 1024;
/// Headers kept at most.
pub const MAX_HEADERS: usize = 100;

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// `HTTP/1.1`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase, as sent.
    pub reason: Vec<u8>,
    /// Headers in order: lower-case name, raw value (surrounding spaces trimmed).
    pub headers: Vec<(String, Vec<u8>)>,
}

impl ResponseHead {
    /// The first header of that (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// How the body ends.
    pub fn framing(&self, head_request: bool) -> Framing {
        let no_body = head_request || self.status / 100 == 1 || self.status == 204 || self.status == 304;
        if no_body {
            return Framing::None;
        }
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().ends_with(b"chunked"));
        if chunked {
            return Framing::Chunked;
        }
        match self.header("content-length").map(parse_decimal) {
            Some(Some(n)) => Framing::Length(n),
            _ => Framing::UntilClose,
        }
    }
}

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    None,
    /// Content-Length bytes.
    Length(u64),
    /// Chunked transfer coding: the zero-size chunk and the trailers' blank line end it.
    Chunked,
    /// When the server closes.
    UntilClose,
}

fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Parses a response head from the start of `data`: Ok(None) while incomplete, Ok((head, length)) with the
/// length of the head and its blank line, Err(why) when it is not an HTTP/1 response head.
pub fn parse_head(data: &[u8]) -> Result<Option<(ResponseHead, usize)>, String> {
    if data.len() >= 5 && !data.starts_with(b"HTTP/") {
        return Err("the answer does not start with HTTP/".into());
    }
    let Some(end) = find(data, b"\r\n\r\n").or_else(|| find(data, b"\n\n")) else {
        if data.len() > MAX_HEAD {
            return Err(format!("the response head is longer than {MAX_HEAD} bytes"));
        }
        return Ok(None);
    };
    let blank = if data[end] == b'\r' { 4 } else { 2 };
    let head = &data[..end];
    if head.len() > MAX_HEAD {
        return Err(format!("the response head is longer than {MAX_HEAD} bytes"));
    }
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    let (version, status, reason) = status_of(status_line)?;
    let mut headers = Vec::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err("a header line without a colon".into());
        };
        if headers.len() < MAX_HEADERS {
            let name = String::from_utf8_lossy(&line[..colon])
                .trim()
                .to_ascii_lowercase();
            headers.push((name, line[colon + 1..].trim_ascii().to_vec()));
        }
    }
    Ok(Some((
        ResponseHead {
            version,
            status,
            reason,
            headers,
        },
        end + blank,
    )))
}

/// `HTTP/1.1 301 Moved Permanently` -> version, code, reason.
fn status_of(line: &[u8]) -> Result<(String, u16, Vec<u8>), String> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let ok_version = version.len() == 8 && version.starts_with(b"HTTP/1.");
    // RFC 9110 15: three digits, the first of them the class; no class 0 exists, so `050` is not a status.
    let ok_code = code.len() == 3 && code.iter().all(u8::is_ascii_digit) && code[0] != b'0';
    if !ok_version || !ok_code {
        return Err("the status line is not HTTP/1.x NNN".into());
    }
    let status = u16::from(code[0] - b'0') * 100 + u16::from(code[1] - b'0') * 10 + u16::from(code[2] - b'0');
    let reason = parts.next().unwrap_or_default().to_vec();
    Ok((String::from_utf8_lossy(version).into_owned(), status, reason))
}

fn find(data: &[u8], needle: &[u8]) -> Option<usize> {
    data.windows(needle.len()).position(|w| w == needle)
}

/// Where a chunked body ends within `body`: Ok(Some(length)) once the last chunk and the trailers' blank line
/// are in, Ok(None) while more is needed, Err when the chunking is broken.
pub fn chunked_end(body: &[u8]) -> Result<Option<usize>, String> {
    let mut at = 0;
    loop {
        let Some(eol) = find(&body[at..], b"\r\n") else {
            return if body.len() - at > 1024 {
                Err("a chunk size line longer than 1024 bytes".into())
            } else {
                Ok(None)
            };
        };
        let line = &body[at..at + eol];
        let digits = line.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
        if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err("a chunk size that is not hex digits".into());
        }
        let size = usize::from_str_radix(std::str::from_utf8(digits).unwrap_or("0"), 16)
            .map_err(|_| "a chunk size out of range".to_string())?;
        at += eol + 2;
        if size == 0 {
            // Trailers, then a blank line.
            loop {
                let Some(eol) = find(&body[at..], b"\r\n") else {
                    return Ok(None);
                };
                at += eol + 2;
                if eol == 0 {
                    return Ok(Some(at));
                }
            }
        }
        let next = at.checked_add(size).and_then(|n| n.checked_add(2));
        match next {
            Some(n) if n <= body.len() => at = n,
            _ => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_head() {
        let data = b"HTTP/1.1 301 Moved Permanently\r\nServer: nginx\r\nLocation: https://lab.test/\r\n\
                     Content-Length: 5\r\n\r\nhello";
        let (head, len) = parse_head(data).unwrap().unwrap();
        assert_eq!((head.version.as_str(), head.status), ("HTTP/1.1", 301));
        assert_eq!(head.reason, b"Moved Permanently");
        assert_eq!(head.header("server"), Some(&b"nginx"[..]));
        assert_eq!(head.header("location"), Some(&b"https://lab.test/"[..]));
        assert_eq!(&data[len..], b"hello");
        assert_eq!(head.framing(false), Framing::Length(5));
        assert_eq!(head.framing(true), Framing::None);
    }

    #[test]
    fn incomplete_and_bad_heads() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nA: b\r\n"), Ok(None));
        assert_eq!(parse_head(b"HTT"), Ok(None));
        assert!(parse_head(b"SSH-2.0-x\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 2x0 OK\r\n\r\n").is_err());
        // Found by the fuzzer: no status class 0.
        assert!(parse_head(b"HTTP/1.1 050 OK\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nnocolon\r\n\r\n").is_err());
        let huge = [b"HTTP/1.1 200 OK\r\nA: ".as_slice(), &vec![b'a'; MAX_HEAD]].concat();
        assert!(parse_head(&huge).is_err());
        let (head, _) = parse_head(b"HTTP/1.0 204\n\n").unwrap().unwrap();
        assert_eq!((head.status, head.framing(false)), (204, Framing::None));
    }

    #[test]
    fn chunked_bodies_end_at_the_zero_chunk() {
        assert_eq!(chunked_end(b"5\r\nhello\r\n0\r\n\r\n"), Ok(Some(15)));
        assert_eq!(
            chunked_end(b"5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\nrest"),
            Ok(Some(25))
        );
        assert_eq!(chunked_end(b"5\r\nhel"), Ok(None));
        assert_eq!(chunked_end(b"0\r\n"), Ok(None));
        assert!(chunked_end(b"zz\r\n").is_err());
        assert_eq!(chunked_end(b"fffffffffffffff\r\n"), Ok(None));
    }
}
