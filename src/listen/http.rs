//! --mode http: enough HTTP/1.1 to answer every request with 200 and keep the connection alive. A request head
//! is parsed (request line, headers, Content-Length), and the answer echoes method, path, headers and peer, or
//! carries the --reply text (pure; hostile input is an error, never a panic).

/// Longest request head accepted (request line and headers).
pub const MAX_HEAD: usize = 16 << 10;
/// Most headers accepted in one request.
const MAX_HEADERS: usize = 100;

/// One parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method (GET, POST ...).
    pub method: String,
    /// The request target (the path).
    pub target: String,
    /// The version, as sent (HTTP/1.1).
    pub version: String,
    /// Headers in order, as sent (lossy UTF-8).
    pub headers: Vec<(String, String)>,
    /// Body bytes that follow the head (Content-Length).
    pub body_len: u64,
    /// Whether the connection stays open after the answer.
    pub keep_alive: bool,
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
pub fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize)>, HttpError> {
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
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::BadRequest(
            "the request line is not METHOD TARGET VERSION",
        ));
    };
    if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/1.") {
        return Err(HttpError::BadRequest("not an HTTP/1.x request line"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or(HttpError::BadRequest("a header line without ':'"))?;
        if headers.len() == MAX_HEADERS {
            return Err(HttpError::TooLarge);
        }
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    if header("transfer-encoding").is_some_and(|v| !v.eq_ignore_ascii_case("identity")) {
        return Err(HttpError::Chunked);
    }
    let body_len = match header("content-length") {
        Some(v) => v
            .parse()
            .map_err(|_| HttpError::BadRequest("Content-Length is not a number"))?,
        None => 0,
    };
    let connection = header("connection").map(str::to_ascii_lowercase);
    let keep_alive = match connection.as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => version != "HTTP/1.0",
    };
    let request = Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body_len,
        keep_alive,
    };
    Ok(Some((request, end + 4)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The answer to a request: 200 with `reply` as the body, or a text echoing the request and the peer.
pub fn answer(req: &Request, peer: &impl std::fmt::Display, reply: Option<&[u8]>) -> Vec<u8> {
    let body = match reply {
        Some(r) => r.to_vec(),
        None => {
            let mut text = format!("{} {} {}\n", req.method, req.target, req.version);
            for (k, v) in &req.headers {
                text.push_str(&format!("{k}: {v}\n"));
            }
            text.push_str(&format!("\npeer: {peer}\n"));
            text.into_bytes()
        }
    };
    response(200, "OK", &body, req.keep_alive)
}

/// A response with its status, a text/plain body and the Connection header.
pub fn response(code: u16, reason: &str, body: &[u8], keep_alive: bool) -> Vec<u8> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: {connection}\r\nServer: sockdiag\r\n\r\n",
        body.len()
    )
    .into_bytes();
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
        assert_eq!((req.method.as_str(), req.target.as_str()), ("GET", "/x?y=1"));
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
