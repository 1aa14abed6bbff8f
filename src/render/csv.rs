//! CSV rendering (`--format csv`): a report's records as one header line and one line per record.

use std::io::{self, Write};

use super::Section;
use crate::text;

/// Writes the columns and rows of a section as CSV (quoted where a field needs it, as RFC 4180 says).
pub fn write_csv(section: &Section, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&section.columns).map_err(into_io)?;
    for row in &section.rows {
        writer
            .write_record(row.iter().map(|c| text::escape_keep_lines(&c.text).into_owned()))
            .map_err(into_io)?;
    }
    writer.flush()
}

/// The csv crate wraps io errors; unwrap them so a closed pipe is still seen as one.
fn into_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_then_one_line_per_record_quoted_where_needed() {
        let mut s = Section::new(&["ADDRESS", "NOTE"]);
        s.rows.push(vec!["198.51.100.1".into(), "a, b".into()]);
        s.rows.push(vec!["2001:db8::1".into(), "say \"hi\"".into()]);
        let mut out = Vec::new();
        write_csv(&s, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ADDRESS,NOTE\n198.51.100.1,\"a, b\"\n2001:db8::1,\"say \"\"hi\"\"\"\n"
        );
    }
}
