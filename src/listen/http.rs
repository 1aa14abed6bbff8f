//! --mode http: enough HTTP/1.1 to answer every request with 200 and keep the connection alive. A request head
//! is parsed (request line, headers, Content-Length), and the answer echoes method, path, headers and peer, or
//! carries the --reply text (pure; hostile input is an error, never a panic).

/// Longest request head accepted (request line and headers).
pub const MAX_HEAD: usize = 16 << 10;
/// Most headers accepted in one request.
const MAX_HEADERS: usize = 100;

use std::borrow::Cow;
use std::fmt::Write;

/// One parsed request head. It borrows the bytes it was read from (copied only when they are not UTF-8, and
/// then lossily), so answering a request allocates nothing for its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The head as text: the request line, then the header lines, without the blank line.
    head: Cow<'a, str>,
    /// Where in `head` the method, target and version are, and where the request line ends.
    method: (usize, usize),
    target: (usize, usize),
    version: (usize, usize),
    line_end: usize,
    /// Body bytes that follow the head (Content-Length).
    pub body_len: u64,
    /// Whether the connection stays open after the answer.
    pub keep_alive: bool,
}

impl Request<'_> {
    /// The method (GET, POST ...).
    pub fn method(&self) -> &str {
        &self.head[self.method.0..self.method.1]
    }

    /// The request target (the path).
    pub fn target(&self) -> &str {
        &self.head[self.target.0..self.target.1]
    }

    /// The version, as sent (HTTP/1.1).
    pub fn version(&self) -> &str {
        &self.head[self.version.0..self.version.1]
    }

    /// The headers in order, as sent (name and value trimmed).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        header_lines(&self.head, self.line_end).filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((name.trim(), value.trim()))
        })
    }
}

/// The header lines of a head whose request line ends at `line_end`.
fn header_lines(head: &str, line_end: usize) -> impl Iterator<Item = &str> {
    head.get(line_end + 2..).into_iter().flat_map(|h| h.split("\r\n"))
}

/// Why a head cannot be answered with 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// Not HTTP/1.x, or a malformed line: 400.
    BadRequest(&'static str),
    /// The head is longer than MAX_HEAD: 431.
    TooLarge,
    /// A chunked body (not supported): 501.
    Chunked,
}

impl HttpError {
    /// The status line's code and reason.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            HttpError::BadRequest(_) => (400, "Bad Request"),
            HttpError::TooLarge => (431, "Request Header Fields Too Large"),
            HttpError::Chunked => (501, "Not Implemented"),
        }
    }
}

/// Parses a request head at the start of `buf`: Ok(None) while it is incomplete, else the request and the head's
/// length.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Request<'_>, usize)>, HttpError> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Err(HttpError::TooLarge)
        } else {
            Ok(None)
        };
    };
    if end > MAX_HEAD {
        return Err(HttpError::TooLarge);
    }
    let head = String::from_utf8_lossy(&buf[..end]);
    let line_end = head.find("\r\n").unwrap_or(head.len());
    let (method, target, version) = request_line(&head[..line_end])?;
    let (mut encoding, mut length, mut connection) = (None, None, None);
    for (n, line) in header_lines(&head, line_end).enumerate() {
        let (name, value) = line
            .split_once(':')
            .ok_or(HttpError::BadRequest("a header line without ':'"))?;
        if n == MAX_HEADERS {
            return Err(HttpError::TooLarge);
        }
        let (name, value) = (name.trim(), value.trim());
        // The first of each counts, as a lookup in order would find it.
        for (wanted, slot) in [
            ("transfer-encoding", &mut encoding),
            ("content-length", &mut length),
            ("connection", &mut connection),
        ] {
            if slot.is_none() && name.eq_ignore_ascii_case(wanted) {
                *slot = Some(value);
            }
        }
    }
    if encoding.is_some_and(|v: &str| !v.eq_ignore_ascii_case("identity")) {
        return Err(HttpError::Chunked);
    }
    let body_len = match length {
        Some(v) => v
            .parse()
            .map_err(|_| HttpError::BadRequest("Content-Length is not a number"))?,
        None => 0,
    };
    let keep_alive = match connection {
        Some(c) if contains_ignoring_case(c, "close") => false,
        Some(c) if contains_ignoring_case(c, "keep-alive") => true,
        _ => &head[version.0..version.1] != "HTTP/1.0",
    };
    let request = Request {
        head,
        method,
        target,
        version,
        line_end,
        body_len,
        keep_alive,
    };
    Ok(Some((request, end + 4)))
}

/// Where the method, target and version of `METHOD TARGET VERSION` are.
type Spans = ((usize, usize), (usize, usize), (usize, usize));

/// Splits the request line into its three parts, checking it is HTTP/1.x.
fn request_line(line: &str) -> Result<Spans, HttpError> {
    let malformed = HttpError::BadRequest("the request line is not METHOD TARGET VERSION");
    let first = line.find(' ').ok_or(malformed.clone())?;
    let second = line[first + 1..]
        .find(' ')
        .map(|i| first + 1 + i)
        .ok_or(malformed.clone())?;
    if line[second + 1..].contains(' ') {
        return Err(malformed);
    }
    let (method, target, version) = (&line[..first], &line[first + 1..second], &line[second + 1..]);
    if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/1.") {
        return Err(HttpError::BadRequest("not an HTTP/1.x request line"));
    }
    Ok(((0, first), (first + 1, second), (second + 1, line.len())))
}

/// Whether `hay` holds `needle`, ASCII letters in either case.
fn contains_ignoring_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The answer to a request: 200 with `reply` as the body, or a text echoing the request and the peer.
pub fn answer(req: &Request, peer: &impl std::fmt::Display, reply: Option<&[u8]>) -> Vec<u8> {
    if let Some(r) = reply {
        return response(200, "OK", r, req.keep_alive);
    }
    let mut text = format!("{} {} {}\n", req.method(), req.target(), req.version());
    for (k, v) in req.headers() {
        let _ = writeln!(text, "{k}: {v}");
    }
    let _ = write!(text, "\npeer: {peer}\n");
    response(200, "OK", text.as_bytes(), req.keep_alive)
}

/// A response with its status, a text/plain body and the Connection header, built in one allocation.
pub fn response(code: u16, reason: &str, body: &[u8], keep_alive: bool) -> Vec<u8> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut head = String::with_capacity(160 + body.len());
    let _ = write!(
        head,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: {connection}\r\nServer: sockdiag\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_is_parsed_and_echoed() {
        let raw = b"GET /x?y=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: curl\r\n\r\nNEXT";
        let (req, len) = parse_head(raw).unwrap().unwrap();
        assert_eq!(len, raw.len() - 4);
        assert_eq!((req.method(), req.target()), ("GET", "/x?y=1"));
        assert!(req.keep_alive);
        let out = answer(&req, &"127.0.0.1:5", None);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Connection: keep-alive\r\n"));
        assert!(text.ends_with("GET /x?y=1 HTTP/1.1\nHost: a\nUser-Agent: curl\n\npeer: 127.0.0.1:5\n"));
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        let ka = |raw: &[u8]| parse_head(raw).unwrap().unwrap().0.keep_alive;
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        let body = parse_head(b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello")
            .unwrap()
            .unwrap();
        assert_eq!(body.0.body_len, 5);
    }

    #[test]
    fn incomplete_oversized_and_malformed_heads() {
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost: a\r\n"), Ok(None));
        assert_eq!(parse_head(&vec![b'a'; MAX_HEAD + 1]), Err(HttpError::TooLarge));
        assert!(matches!(
            parse_head(b"\x16\x03\x01\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
        assert!(matches!(
            parse_head(b"GET / SSH-2.0\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
        assert!(matches!(
            parse_head(b"GET / HTTP/1.1\r\nbroken\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
        assert!(matches!(
            parse_head(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(HttpError::Chunked)
        );
        assert_eq!(HttpError::Chunked.status().0, 501);
    }
}
