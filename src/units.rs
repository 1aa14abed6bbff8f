//! Parsing of quantities with units from the command line: durations like `2`, `500ms`, `1.5s`, `1m`, and
//! byte sizes like `65536`, `64KiB`, `1M`.

use std::time::Duration;

/// What a duration accepts, for error messages.
pub const DURATION_ACCEPTED: &str =
    "seconds, or a number with a unit: us, ms, s, m or h (e.g. 2, 500ms, 1.5s, 1m)";

/// Parses a duration: a bare number is seconds (as ping, nc, traceroute and dig take it), or a number with a unit
/// (`us`, `ms`, `s`, `m`, `h`); fractions are allowed.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = |why: &str| format!("bad duration '{text}': {why}; accepted: {DURATION_ACCEPTED}");
    if number.is_empty() {
        return Err(bad("no number"));
    }
    let value: f64 = number.parse().map_err(|_| bad("not a number"))?;
    let seconds_per_unit = match unit {
        "us" | "µs" => 0.000_001,
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad(&format!("unknown unit '{unit}'"))),
    };
    let seconds = value * seconds_per_unit;
    // A day is far beyond any network timeout or interval; larger values are typos.
    if !seconds.is_finite() || seconds > 86_400.0 {
        return Err(bad("longer than a day"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a duration that must be more than zero (a timeout, an interval between probes).
pub fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!(
            "'{text}' is zero; accepted: more than zero, {DURATION_ACCEPTED}"
        ));
    }
    Ok(d)
}

/// What a size accepts, for error messages.
pub const SIZE_ACCEPTED: &str = "a number of bytes, optionally with a unit: B, K/KiB (1024), M/MiB, G/GiB, kB (1000), MB, GB (e.g. 65536, 64KiB, 1M)";

/// Parses a byte count with an optional binary or decimal unit: `65536`, `64K`, `64KiB`, `1.5MiB`, `1MB`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = |why: &str| format!("bad size '{text}': {why}; accepted: {SIZE_ACCEPTED}");
    let scale: u64 = match unit {
        "" | "B" => 1,
        "K" | "k" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(bad(&format!("unknown unit '{unit}'"))),
    };
    let whole = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = number.split_once('.').unwrap_or((number, "0"));
    if !whole(int) || !whole(frac) {
        return Err(bad("not a number"));
    }
    let bytes = number.parse::<f64>().map_err(|_| bad("not a number"))? * scale as f64;
    if bytes > (1u64 << 50) as f64 {
        return Err(bad("too large"));
    }
    if bytes.fract() != 0.0 {
        return Err(bad("not a whole number of bytes"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_fractions() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("0.25ms"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn zero_is_refused_where_it_makes_no_sense() {
        assert_eq!(parse_positive_duration("2"), Ok(Duration::from_secs(2)));
        for zero in ["0", "0ms", "0.0s"] {
            let err = parse_positive_duration(zero).unwrap_err();
            assert!(
                err.contains("is zero") && err.contains("more than zero"),
                "{zero}: {err}"
            );
        }
        assert!(
            parse_positive_duration("x")
                .unwrap_err()
                .starts_with("bad duration")
        );
    }

    #[test]
    fn rejects_missing_or_unknown_units() {
        for bad in ["", "s", "2d", "1.2.3s", "-1s", "2 s", "1e3s", "100000m", "25h"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.starts_with("bad duration"), "{bad}: {err}");
            assert!(err.contains("accepted"), "{bad}: {err}");
        }
    }

    #[test]
    fn sizes_binary_and_decimal() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("1.5MiB"), Ok(3 << 19));
        assert_eq!(parse_size("2kB"), Ok(2000));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("12B"), Ok(12));
    }

    #[test]
    fn bad_sizes_name_the_accepted_units() {
        for bad in ["", "K", "1.5", "0.3K", "1T", "-1", "1 K", ".5K", "99999999G"] {
            let err = parse_size(bad).unwrap_err();
            assert!(err.starts_with("bad size"), "{bad}: {err}");
            assert!(err.contains("KiB"), "{bad}: {err}");
        }
    }
}
