//! JSON rendering: one pretty document per report, or compact lines for streams.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

use crate::text;

/// Writes one pretty-printed JSON document followed by a newline, as it is serialised (a 16,000-row
/// probe document is 7.5 MB: never built whole in memory).
pub fn write_json<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    // Buffered before the escaper, which then looks at large chunks, not at every key and comma.
    let mut safe = BufWriter::with_capacity(64 * 1024, text::JsonEscaper::new(out));
    serde_json::to_writer_pretty(&mut safe, value).map_err(into_io)?;
    safe.write_all(b"\n")?;
    safe.flush()
}

/// Writes one compact JSON value on its own line (NDJSON), for streaming commands.
pub fn write_json_line<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    let line = serde_json::to_string(value).map_err(into_io)?;
    writeln!(out, "{}", text::escape_json(&line))
}

/// Keeps the kind of an io error serde_json met, so a closed pipe is still seen as one (and ends quietly).
fn into_io(e: serde_json::Error) -> io::Error {
    match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that went away: every write fails as a closed pipe does.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_stays_a_broken_pipe_error() {
        let value = serde_json::json!({"command": "probe", "rows": [1, 2, 3]});
        let err = write_json(&value, &mut ClosedPipe).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        let err = write_json_line(&value, &mut ClosedPipe).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
