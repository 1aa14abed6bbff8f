//! Plain columns for a pipe, written directly: each column as wide as its widest cell, two spaces between, no
//! trailing blanks. What comfy-table draws with no borders, without building the whole table in memory first, so a
//! report of 20,000 sockets streams out in one pass over its rows.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use crate::text;

/// Separates cells inside [`Columns`]: a control character, which escaped cells never contain.
const SEP: char = '\u{1f}';

/// Rows of plain columns held as one string until they are written, measured as they come: a report of many rows
/// costs its text and one offset per row, not a string per cell.
#[derive(Debug)]
pub struct Columns {
    header: Vec<&'static str>,
    text: String,
    ends: Vec<usize>,
    widths: Vec<usize>,
    multiline: bool,
}

impl Columns {
    /// No rows yet under these headers.
    pub fn new(header: &[&'static str]) -> Columns {
        Columns::with_capacity(header, 0)
    }

    /// No rows yet, with room for `bytes` of cell text.
    pub fn with_capacity(header: &[&'static str], bytes: usize) -> Columns {
        Columns {
            header: header.to_vec(),
            text: String::with_capacity(bytes),
            ends: Vec::new(),
            widths: header.iter().map(|c| c.width()).collect(),
            multiline: false,
        }
    }

    /// Adds a row, escaping each cell (newlines and tabs kept: see [`Columns::multiline`]).
    pub fn push<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        for (i, cell) in cells.into_iter().enumerate() {
            let cell = text::escape_keep_lines(cell.as_ref());
            if i > 0 {
                self.text.push(SEP);
            }
            self.multiline |= cell.contains('\n');
            if let Some(w) = self.widths.get_mut(i) {
                *w = (*w).max(width(&cell));
            }
            self.text.push_str(&cell);
        }
        self.ends.push(self.text.len());
    }

    /// Adds a row of `cells` cells that `write` writes straight into the text, cell by cell (given the column):
    /// no string per cell. `write` escapes what came from outside itself ([`text::escape`]); numbers and
    /// addresses need nothing.
    pub fn push_with(&mut self, cells: usize, mut write: impl FnMut(usize, &mut String)) {
        for i in 0..cells {
            if i > 0 {
                self.text.push(SEP);
            }
            let start = self.text.len();
            write(i, &mut self.text);
            let cell = &self.text[start..];
            self.multiline |= cell.contains('\n');
            if let Some(w) = self.widths.get_mut(i) {
                *w = (*w).max(width(cell));
            }
        }
        self.ends.push(self.text.len());
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Whether some cell spans lines: such rows cannot be written as columns.
    pub fn multiline(&self) -> bool {
        self.multiline
    }

    /// The escaped cells of row `row`.
    pub fn row(&self, row: usize) -> impl Iterator<Item = &str> {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        self.text[start..self.ends[row]].split(SEP)
    }

    /// Makes a column at least `width` wide: for a column whose cells are known only when written.
    pub fn widen(&mut self, column: usize, width: usize) {
        if let Some(w) = self.widths.get_mut(column) {
            *w = (*w).max(width);
        }
    }

    /// Writes the header and the rows in the given order.
    pub fn write(&self, order: impl IntoIterator<Item = usize>, out: &mut dyn Write) -> io::Result<()> {
        self.write_with(order, usize::MAX, &mut |_, _| {}, out)
    }

    /// Like [`Columns::write`], with the cells of column `late` written by `cell` for each row as it is written
    /// (appended to the line, already escaped, and measured beforehand with [`Columns::widen`]).
    pub fn write_with(
        &self,
        order: impl IntoIterator<Item = usize>,
        late: usize,
        cell: &mut dyn FnMut(usize, &mut String),
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let mut line = Line::default();
        for (c, h) in self.header.iter().enumerate() {
            line.cell(h, c, &self.widths);
        }
        line.end(out)?;
        let mut late_text = String::new();
        for row in order {
            for (c, text) in self.row(row).enumerate() {
                if c == late {
                    late_text.clear();
                    cell(row, &mut late_text);
                    line.cell(&late_text, c, &self.widths);
                } else {
                    line.cell(text, c, &self.widths);
                }
            }
            line.end(out)?;
        }
        Ok(())
    }
}

/// One line being written: its text, and the blanks owed after its last cell, written only when another cell
/// follows, so that a line never carries the trailing blanks of its empty last columns.
#[derive(Default)]
struct Line {
    text: String,
    owed: usize,
}

/// Blanks to copy from, a run at a time.
const BLANKS: &str = "                                ";

impl Line {
    /// Appends a cell of column `column`, and owes the blanks that take the line to the next column.
    fn cell(&mut self, cell: &str, column: usize, widths: &[usize]) {
        let Some(wide) = widths.get(column).map(|w| w + 2) else {
            return;
        };
        if !cell.is_empty() {
            let mut owed = std::mem::take(&mut self.owed);
            while owed > 0 {
                let run = owed.min(BLANKS.len());
                self.text.push_str(&BLANKS[..run]);
                owed -= run;
            }
            self.text.push_str(cell);
        }
        self.owed += wide.saturating_sub(width(cell));
    }

    /// Writes the line without trailing blanks, and empties it for the next.
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let end = self.text.trim_end().len();
        self.text.truncate(end);
        self.text.push('\n');
        let written = out.write_all(self.text.as_bytes());
        self.text.clear();
        self.owed = 0;
        written
    }
}

/// Columns a cell takes on a terminal; ASCII, most cells, without the Unicode tables.
fn width(cell: &str) -> usize {
    if cell.is_ascii() { cell.len() } else { cell.width() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_with_two_spaces_and_no_trailing_blanks() {
        let mut columns = Columns::new(&["NAME", "STATE", "NOTE"]);
        columns.push(["a", "open", ""]);
        columns.push(["bbbb", "", "x"]);
        let mut out = Vec::new();
        columns.write(0..columns.len(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME  STATE  NOTE\na     open\nbbbb         x\n"
        );
    }

    #[test]
    fn blanks_wider_than_one_run_and_late_cells_line_up() {
        let wide = "w".repeat(40);
        let mut columns = Columns::new(&["A", "LATE", "B"]);
        columns.push([wide.as_str(), "", "x"]);
        columns.push(["", "", "y"]);
        columns.widen(1, 4);
        let mut out = Vec::new();
        let mut late = |row: usize, line: &mut String| line.push_str(["L0", ""][row]);
        columns.write_with([0, 1], 1, &mut late, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("A{}LATE  B", " ".repeat(41)));
        assert_eq!(lines[1], format!("{wide}  L0    x"));
        assert_eq!(lines[2], format!("{}y", " ".repeat(48)));
    }

    #[test]
    fn wide_characters_count_as_they_show() {
        let mut columns = Columns::new(&["N", "V"]);
        columns.push(["日本", "x"]);
        let mut out = Vec::new();
        columns.write([0], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "N     V\n日本  x\n");
    }

    #[test]
    fn cells_are_escaped_and_rows_come_out_in_the_order_asked() {
        let mut columns = Columns::new(&["A", "B"]);
        columns.push(["x\x1b[2J", "1"]);
        columns.push(["y", "two\nlines"]);
        assert!(columns.multiline());
        assert_eq!(columns.row(0).collect::<Vec<_>>(), ["x\\x1b[2J", "1"]);
        let mut one = Columns::new(&["A", "B"]);
        one.push(["first", "1"]);
        one.push(["second", "2"]);
        assert!(!one.multiline());
        let mut out = Vec::new();
        one.write([1, 0], &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "A       B\nsecond  2\nfirst   1\n"
        );
    }
}
