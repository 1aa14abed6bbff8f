//! How listen writes times, durations and rates: RFC 3339 wall-clock times, and durations and throughput for
//! people (durations as every command prints them).

use std::time::{Duration, SystemTime};

use crate::render::fmt_ms;

/// Bytes per second over a duration (0 for an empty duration).
pub fn bytes_per_sec(bytes: u64, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 {
        (bytes as f64 / secs).round()
    } else {
        0.0
    }
}

/// A rate in bytes per second for people: "812.4 MB/s".
pub fn fmt_rate(bps: f64) -> String {
    match bps {
        r if r >= 1e9 => format!("{:.2} GB/s", r / 1e9),
        r if r >= 1e6 => format!("{:.1} MB/s", r / 1e6),
        r if r >= 1e3 => format!("{:.1} kB/s", r / 1e3),
        r => format!("{r:.0} B/s"),
    }
}

/// A duration given in milliseconds (as the JSON carries it), for people: as every command prints one
/// (`render::fmt_ms`: 0.412 ms, 52.3 ms, 1.52 s, 152 s).
pub fn fmt_duration_ms(ms: f64) -> String {
    fmt_ms(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
}

/// RFC 3339 UTC time with milliseconds, as the envelope's `started_at`: `2026-11-22T03:40:01.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn utc_times_format_exactly() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (leap day) 12:34:56.789
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(rfc3339(t), "2000-02-29T12:34:56.789Z");
    }

    #[test]
    fn rates_and_durations_for_people() {
        assert_eq!(fmt_rate(812_400_000.0), "812.4 MB/s");
        assert_eq!(fmt_rate(1_500.0), "1.5 kB/s");
        assert_eq!(
            fmt_duration_ms(125_000.0),
            "125 s",
            "one format, also past a minute"
        );
        assert_eq!(fmt_duration_ms(0.412), "0.412 ms");
        assert_eq!(bytes_per_sec(100, Duration::ZERO), 0.0);
    }
}
