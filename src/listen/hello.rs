//! What a client's first bytes on a TLS port say before any handshake: its ClientHello's server name (SNI),
//! ALPN offer and TLS versions, or that it is not TLS at all (plain HTTP, say). Read from the bytes as they came,
//! so that a handshake that fails can still be named (pure; fuzzed as `client_hello`).

/// Most bytes of a first flight looked at: a ClientHello with many extensions fits well within.
pub const MAX_SNIFF: usize = 16 * 1024 + 5;

/// What the first bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniff {
    /// Not enough bytes yet to tell.
    Incomplete,
    /// A TLS ClientHello.
    Hello(ClientHello),
    /// Plain HTTP (a request line) spoken to a TLS port.
    PlainHttp,
    /// Something else that is not a TLS handshake.
    NotTls,
}

/// The parts of a ClientHello worth logging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The host name asked for (SNI), if any.
    pub server_name: Option<String>,
    /// The application protocols offered (ALPN), in the client's order.
    pub alpn: Vec<String>,
    /// The TLS versions offered, newest first as the client listed them (wire values).
    pub versions: Vec<u16>,
}

impl ClientHello {
    /// The newest version offered.
    pub fn newest(&self) -> Option<u16> {
        self.versions.iter().copied().max()
    }
}

/// Looks at the first bytes a client sent.
pub fn sniff(bytes: &[u8]) -> Sniff {
    let Some(&first) = bytes.first() else {
        return Sniff::Incomplete;
    };
    if first != 0x16 {
        return if looks_like_http(bytes) {
            Sniff::PlainHttp
        } else {
            Sniff::NotTls
        };
    }
    let mut r = Reader(bytes);
    let (Some(_), Some(_), Some(len)) = (r.u8(), r.u16(), r.u16()) else {
        return Sniff::Incomplete;
    };
    // The hello may span records; the first one holds its start, which is enough for what is logged.
    let record = match r.take(len as usize) {
        Some(rec) => rec,
        None if bytes.len() >= MAX_SNIFF => return Sniff::NotTls,
        None => return Sniff::Incomplete,
    };
    match parse_hello(record) {
        Some(h) => Sniff::Hello(h),
        None => Sniff::NotTls,
    }
}

/// An HTTP request line's start: an upper-case method and a space.
fn looks_like_http(bytes: &[u8]) -> bool {
    let method: Vec<u8> = bytes.iter().copied().take_while(u8::is_ascii_uppercase).collect();
    (3..=7).contains(&method.len()) && bytes.get(method.len()) == Some(&b' ')
}

fn parse_hello(record: &[u8]) -> Option<ClientHello> {
    let mut r = Reader(record);
    if r.u8()? != 1 {
        return None; // not a ClientHello
    }
    let _len = r.u24()?;
    let legacy = r.u16()?;
    r.take(32)?; // random
    let sid = r.u8()?;
    r.take(sid as usize)?;
    let suites = r.u16()?;
    r.take(suites as usize)?;
    let comp = r.u8()?;
    r.take(comp as usize)?;
    let mut hello = ClientHello::default();
    if let Some(ext_len) = r.u16() {
        // A truncated block still yields the extensions before the cut.
        let block = r.take(ext_len as usize).unwrap_or(r.0);
        extensions(block, &mut hello);
    }
    if hello.versions.is_empty() {
        // No supported_versions: the legacy field is the newest, and every TLS version up to it is offered.
        hello.versions = (0x0301..=legacy.max(0x0301)).rev().collect();
    }
    Some(hello)
}

fn extensions(block: &[u8], hello: &mut ClientHello) {
    let mut r = Reader(block);
    while let (Some(kind), Some(len)) = (r.u16(), r.u16()) {
        let Some(data) = r.take(len as usize) else {
            return;
        };
        let mut d = Reader(data);
        match kind {
            0x0000 => hello.server_name = server_name(&mut d),
            0x0010 => hello.alpn = alpn(&mut d),
            0x002b => hello.versions = versions(&mut d),
            _ => {}
        }
    }
}

fn server_name(d: &mut Reader<'_>) -> Option<String> {
    let list = d.u16()?;
    let mut l = Reader(d.take(list as usize)?);
    while let (Some(kind), Some(len)) = (l.u8(), l.u16()) {
        let name = l.take(len as usize)?;
        if kind == 0 {
            return Some(String::from_utf8_lossy(name).into_owned());
        }
    }
    None
}

fn alpn(d: &mut Reader<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(list) = d.u16().and_then(|n| d.take(n as usize)) else {
        return out;
    };
    let mut l = Reader(list);
    while let Some(p) = l.u8().and_then(|n| l.take(n as usize)) {
        out.push(String::from_utf8_lossy(p).into_owned());
    }
    out
}

fn versions(d: &mut Reader<'_>) -> Vec<u16> {
    let Some(list) = d.u8().and_then(|n| d.take(n as usize)) else {
        return Vec::new();
    };
    let mut l = Reader(list);
    std::iter::from_fn(|| l.u16())
        // GREASE values (RFC 8701) are not versions.
        .filter(|v| v & 0x0f0f != 0x0a0a)
        .collect()
}

/// Reads big-endian fields off a byte slice; None once it runs out.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Option<u32> {
        self.take(3).map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello record with these extensions (type, data).
    fn hello(legacy: u16, exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = legacy.to_be_bytes().to_vec();
        body.extend([0u8; 32]);
        body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
        let mut block = Vec::new();
        for (kind, data) in exts {
            block.extend(kind.to_be_bytes());
            block.extend((data.len() as u16).to_be_bytes());
            block.extend(data);
        }
        body.extend((block.len() as u16).to_be_bytes());
        body.extend(block);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn sni_alpn_and_versions_are_read() {
        let sni = [&[0, 14, 0, 0, 11][..], b"example.org"].concat();
        let alpn = [&[0, 12, 2][..], b"h2", &[8], b"http/1.1"].concat();
        let versions = vec![6, 0x0a, 0x0a, 3, 4, 3, 3];
        let rec = hello(0x0303, &[(0, sni), (0x10, alpn), (0x2b, versions)]);
        let Sniff::Hello(h) = sniff(&rec) else {
            panic!("{:?}", sniff(&rec))
        };
        assert_eq!(h.server_name.as_deref(), Some("example.org"));
        assert_eq!(h.alpn, ["h2", "http/1.1"]);
        assert_eq!(h.versions, [0x0304, 0x0303], "GREASE left out");
        assert_eq!(h.newest(), Some(0x0304));
        assert_eq!(sniff(&rec[..20]), Sniff::Incomplete);
    }

    #[test]
    fn a_tls_1_0_client_offers_only_tls_1_0() {
        let Sniff::Hello(h) = sniff(&hello(0x0301, &[])) else {
            panic!()
        };
        assert_eq!(h.versions, [0x0301]);
        assert_eq!(h.server_name, None);
    }

    #[test]
    fn plain_http_and_junk_are_told_apart() {
        assert_eq!(sniff(b"GET / HTTP/1.1\r\n"), Sniff::PlainHttp);
        assert_eq!(sniff(b"OPTIONS * HTTP/1.1"), Sniff::PlainHttp);
        assert_eq!(sniff(b"SSH-2.0-OpenSSH"), Sniff::NotTls);
        assert_eq!(sniff(b""), Sniff::Incomplete);
        assert_eq!(sniff(&[0x16, 3, 1, 0, 4, 2, 0, 0, 0]), Sniff::NotTls);
    }

    #[test]
    fn truncated_and_hostile_lengths_never_panic() {
        let rec = hello(0x0303, &[(0, vec![0, 200, 0, 0, 250])]);
        for cut in 0..rec.len() {
            let _ = sniff(&rec[..cut]);
        }
        let Sniff::Hello(h) = sniff(&rec) else { panic!() };
        assert_eq!(h.server_name, None);
    }
}
