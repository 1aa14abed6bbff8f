//! JSON rendering: one pretty document per report, or compact lines for streams.

use std::io::{self, Write};

use serde::Serialize;

/// Writes one pretty-printed JSON document followed by a newline.
pub fn write_json<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}

/// Writes one compact JSON value on its own line (NDJSON), for streaming commands.
pub fn write_json_line<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}
