//! Durations as users write them on the command line: `500ms`, `2s`, `1.5s`, `100us`, `1m`.

use std::time::Duration;

use crate::error::{Error, Result};

/// What a duration accepts, for error messages.
pub const DURATION_ACCEPTED: &str =
    "a number with a unit: us, ms, s or m (e.g. 500ms, 1.5s); a bare number is seconds";

/// Parses a duration such as `500ms`, `2s`, `1.5s`, `100us`, `1m` (a bare number is seconds, like
/// traceroute's and ping's -w).
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || {
        Error::usage(format!(
            "bad duration '{}': accepted is {DURATION_ACCEPTED}",
            text.escape_debug()
        ))
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "" | "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        _ => return Err(bad()),
    };
    let secs = value * scale;
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A clap value parser for durations.
pub fn duration_arg(text: &str) -> std::result::Result<Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_bare_seconds() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("100us").unwrap(), Duration::from_micros(100));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        for bad in ["", "ms", "1h", "-1s", "1..2s", "2 d", "1e9"] {
            let err = parse_duration(bad).unwrap_err().to_string();
            assert!(err.contains("accepted"), "{bad}: {err}");
        }
    }
}
