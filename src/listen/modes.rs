//! What the listener sends back in each mode: the chargen pattern and the size-bounded UDP answer (pure).

use std::sync::Arc;

/// Printable ASCII characters chargen cycles through (RFC 864: codes 32 to 126).
const PRINTABLE: usize = 95;
/// Characters per chargen line before CR LF.
const LINE: usize = 72;
/// Bytes in one full chargen cycle: 95 lines of 72 characters and CR LF.
pub const CHARGEN_CYCLE: usize = PRINTABLE * (LINE + 2);

/// The listener's mode with what it needs.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Send back what was received.
    Echo,
    /// Drop what was received.
    Discard,
    /// Send this text on connect and to each datagram.
    Reply(Arc<[u8]>),
    /// Send the chargen pattern.
    Chargen(Arc<[u8]>),
    /// Drop what was received, reporting throughput.
    Sink,
    /// Relay each line to every other TCP client.
    Chat,
    /// Stdin to the client, the client to stdout.
    Interactive,
    /// Answer HTTP requests, with this body if given.
    Http(Option<Arc<[u8]>>),
}

impl Mode {
    /// The chargen mode with its pattern built.
    pub fn chargen() -> Mode {
        Mode::Chargen(chargen_pattern().into())
    }
}

/// Two chargen cycles back to back, so any window of up to one cycle starting anywhere in the first is contiguous.
pub fn chargen_pattern() -> Vec<u8> {
    let mut cycle = Vec::with_capacity(CHARGEN_CYCLE);
    for line in 0..PRINTABLE {
        cycle.extend((0..LINE).map(|i| b' ' + ((line + i) % PRINTABLE) as u8));
        cycle.extend_from_slice(b"\r\n");
    }
    let mut twice = cycle.clone();
    twice.extend_from_slice(&cycle);
    twice
}

/// The answer to a UDP datagram of `len` bytes: never longer than the datagram, so the listener cannot amplify.
/// None: no answer (discard, sink, or nothing to send in reply/chargen for an empty datagram).
pub fn udp_answer<'a>(mode: &'a Mode, datagram: &'a [u8]) -> Option<&'a [u8]> {
    let len = datagram.len();
    match mode {
        Mode::Echo => Some(datagram),
        Mode::Discard | Mode::Sink | Mode::Chat | Mode::Http(_) | Mode::Interactive => None,
        Mode::Reply(text) => Some(&text[..text.len().min(len)]).filter(|a| !a.is_empty()),
        Mode::Chargen(pattern) => Some(&pattern[..pattern.len().min(len)]).filter(|a| !a.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chargen_lines_rotate_through_printable_ascii() {
        let p = chargen_pattern();
        assert_eq!(p.len(), 2 * CHARGEN_CYCLE);
        let lines: Vec<&[u8]> = p.split(|b| *b == b'\n').take(3).collect();
        assert_eq!(&lines[0][..5], b" !\"#$");
        assert_eq!(lines[0].len(), LINE + 1, "72 characters and CR");
        assert_eq!(lines[0][LINE], b'\r');
        assert_eq!(&lines[1][..3], b"!\"#");
        assert_eq!(lines[0][LINE - 1], b'g', "line 0 ends with character 32 + 71");
        assert!(
            p.iter()
                .all(|b| (32..127).contains(b) || *b == b'\r' || *b == b'\n')
        );
        assert_eq!(p[..CHARGEN_CYCLE], p[CHARGEN_CYCLE..]);
    }

    #[test]
    fn udp_answers_never_exceed_the_datagram() {
        let reply = Mode::Reply(Arc::from(&b"Hello, world!"[..]));
        let chargen = Mode::chargen();
        for len in [0usize, 1, 5, 13, 100, 20_000] {
            let data = vec![7u8; len];
            for mode in [&Mode::Echo, &reply, &chargen, &Mode::Discard, &Mode::Sink] {
                if let Some(a) = udp_answer(mode, &data) {
                    assert!(a.len() <= len, "{mode:?} answered {} to {len}", a.len());
                }
            }
        }
        assert_eq!(
            udp_answer(&reply, b"0123456789abcdefgh"),
            Some(&b"Hello, world!"[..])
        );
        assert_eq!(udp_answer(&reply, b"xyz"), Some(&b"Hel"[..]));
        assert_eq!(udp_answer(&reply, b""), None);
        assert_eq!(udp_answer(&Mode::Echo, b""), Some(&b""[..]));
        assert_eq!(udp_answer(&chargen, b"abcd"), Some(&b" !\"#"[..]));
        assert_eq!(udp_answer(&Mode::Sink, b"abcd"), None);
    }
}
