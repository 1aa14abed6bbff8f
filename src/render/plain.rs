//! Plain columns for a pipe, written directly: each column as wide as its widest cell, two spaces between, no
//! trailing blanks. What comfy-table draws with no borders, without building the whole table in memory first, so a
//! report of 20,000 sockets streams out in one pass over its rows.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

/// Writes the header and rows (cells already escaped, none spanning lines).
pub fn write_columns<S: AsRef<str>>(
    columns: &[&str],
    rows: &[Vec<S>],
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.width()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.as_ref().width());
        }
    }
    let mut line = String::new();
    let header = columns.iter().copied();
    write_line(&mut line, header, &widths, out)?;
    for row in rows {
        write_line(&mut line, row.iter().map(AsRef::as_ref), &widths, out)?;
    }
    Ok(())
}

fn write_line<'a>(
    line: &mut String,
    cells: impl Iterator<Item = &'a str>,
    widths: &[usize],
    out: &mut dyn Write,
) -> io::Result<()> {
    line.clear();
    for (cell, &width) in cells.zip(widths) {
        line.push_str(cell);
        for _ in cell.width()..width + 2 {
            line.push(' ');
        }
    }
    writeln!(out, "{}", line.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_with_two_spaces_and_no_trailing_blanks() {
        let rows = vec![vec!["a", "open", ""], vec!["bbbb", "", "x"]];
        let mut out = Vec::new();
        write_columns(&["NAME", "STATE", "NOTE"], &rows, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME  STATE  NOTE\na     open\nbbbb         x\n"
        );
    }

    #[test]
    fn wide_characters_count_as_they_show() {
        let rows = vec![vec!["日本", "x"]];
        let mut out = Vec::new();
        write_columns(&["N", "V"], &rows, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "N     V\n日本  x\n");
    }
}
