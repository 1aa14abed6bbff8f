//! Parsing of quantities with units from the command line: durations like `500ms`, `2s`, `1.5s`, `1m`.

use std::time::Duration;

/// What a duration accepts, for error messages.
pub const DURATION_ACCEPTED: &str = "a number with a unit: ms, s or m (e.g. 500ms, 2s, 1.5s, 1m)";

/// Parses a duration with a unit (`ms`, `s`, `m`); fractions are allowed, a bare number is not.
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
        "ms" => 0.001,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "" => return Err(bad("no unit")),
        _ => return Err(bad(&format!("unknown unit '{unit}'"))),
    };
    let seconds = value * seconds_per_unit;
    // A day is far beyond any network timeout or interval; larger values are typos.
    if !seconds.is_finite() || seconds > 86_400.0 {
        return Err(bad("longer than a day"));
    }
    Ok(Duration::from_secs_f64(seconds))
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
    }

    #[test]
    fn rejects_missing_or_unknown_units() {
        for bad in ["", "2", "s", "2h", "1.2.3s", "-1s", "2 s", "1e3s", "100000m"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.starts_with("bad duration"), "{bad}: {err}");
            assert!(err.contains("accepted"), "{bad}: {err}");
        }
    }
}
