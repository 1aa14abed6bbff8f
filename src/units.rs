//! Parsing of quantities with units given on the command line: durations (`500ms`, `2s`) and sizes (`64KiB`).

use std::time::Duration;

use crate::error::{Error, Result};

/// What a duration accepts, for error messages.
pub const DURATION_ACCEPTED: &str =
    "a number with a unit: ms, s, m or h (e.g. 500ms, 2s, 1.5s, 1m); 0 alone means none";

/// What a size accepts, for error messages.
pub const SIZE_ACCEPTED: &str = "a number of bytes, optionally with a unit: B, K/KiB (1024), M/MiB, G/GiB, \
     kB (1000), MB, GB (e.g. 65536, 64KiB, 1M)";

/// Parses a duration with a unit: `500ms`, `2s`, `1.5s`, `1m`, `1h`; `0` alone is zero.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = |why: &str| {
        Error::usage(format!(
            "bad duration '{}': {why}; accepted: {DURATION_ACCEPTED}",
            text.escape_debug()
        ))
    };
    let t = text.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| bad("no unit"))?;
    let (number, unit) = t.split_at(split);
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad(&format!("unknown unit '{}'", unit.escape_debug()))),
    };
    let value = parse_number(number).ok_or_else(|| bad("not a number"))?;
    let secs = value * scale;
    // A week is far beyond any sensible timeout and keeps Duration::from_secs_f64 safe.
    if secs > 7.0 * 86_400.0 {
        return Err(bad("longer than a week"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a byte count with an optional binary or decimal unit: `65536`, `64K`, `64KiB`, `1MB`.
pub fn parse_size(text: &str) -> Result<u64> {
    let bad = |why: &str| {
        Error::usage(format!(
            "bad size '{}': {why}; accepted: {SIZE_ACCEPTED}",
            text.escape_debug()
        ))
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit {
        "" | "B" | "b" => 1,
        "K" | "k" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(bad(&format!("unknown unit '{}'", unit.escape_debug()))),
    };
    let value = parse_number(number).ok_or_else(|| bad("not a number"))?;
    let bytes = value * scale as f64;
    if bytes > (1u64 << 50) as f64 {
        return Err(bad("too large"));
    }
    if bytes.fract() != 0.0 {
        return Err(bad("not a whole number of bytes"));
    }
    Ok(bytes as u64)
}

/// A plain non-negative decimal number (digits with at most one dot, digits on both sides if present).
fn parse_number(text: &str) -> Option<f64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2min").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration(" 10s ").unwrap(), Duration::from_secs(10));
    }

    #[test]
    fn bad_durations_name_the_accepted_units() {
        for bad in [
            "", "5", "s", "1.s", ".5s", "1..5s", "-1s", "2 s", "1d", "5sec", "1e3ms", "9999h",
        ] {
            let err = parse_duration(bad).unwrap_err();
            let msg = err.to_string();
            assert!(msg.starts_with("bad duration"), "{bad}: {msg}");
            assert!(msg.contains("ms, s, m or h"), "{bad}: {msg}");
            assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        }
    }

    #[test]
    fn sizes_binary_and_decimal() {
        assert_eq!(parse_size("65536").unwrap(), 65536);
        assert_eq!(parse_size("64K").unwrap(), 65536);
        assert_eq!(parse_size("64KiB").unwrap(), 65536);
        assert_eq!(parse_size("1M").unwrap(), 1 << 20);
        assert_eq!(parse_size("1.5MiB").unwrap(), 3 << 19);
        assert_eq!(parse_size("2kB").unwrap(), 2000);
        assert_eq!(parse_size("1GB").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("12B").unwrap(), 12);
    }

    #[test]
    fn bad_sizes_are_usage_errors() {
        for bad in ["", "K", "1.5", "0.3K", "1T", "-1", "1 K", "99999999G"] {
            let msg = parse_size(bad).unwrap_err().to_string();
            assert!(msg.starts_with("bad size"), "{bad}: {msg}");
            assert!(msg.contains("KiB"), "{bad}: {msg}");
        }
    }
}
