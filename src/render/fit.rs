//! Fitting a table to the terminal: which columns to show, and how narrow each may get without splitting a word.
//!
//! comfy-table's dynamic layout squeezes columns until they fit, breaking "198.51.100.10" or "12.3 ms" across lines.
//! Here every column gets a lower bound (its longest word), and when even those bounds do not fit, columns the
//! report marked as droppable are left out, in the order it gave, and named so the reader knows they exist.

/// Characters a bordered table spends per column (one border and a space each side), plus the closing border.
const PER_COLUMN: usize = 3;
const TABLE_EDGE: usize = 1;

/// The outcome of fitting: columns kept (indices into the section's columns) and the names of those left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// Indices of the columns to draw, in order.
    pub shown: Vec<usize>,
    /// Content width of each shown column, parallel to `shown`: never below its longest word.
    pub widths: Vec<usize>,
    /// Names of the columns left out, in the order they were dropped.
    pub dropped: Vec<&'static str>,
}

/// Width of text in terminal cells (one per char: the tables hold ASCII, arrows and ellipses).
pub fn text_width(text: &str) -> usize {
    text.chars().count()
}

/// Units that stay on the line of the number before them ("52.3 ms" and "812.4 MB/s" are one piece each).
const UNITS: [&str; 16] = [
    "us", "µs", "ms", "s", "m", "h", "%", "B", "KiB", "MiB", "GiB", "KB", "B/s", "kB/s", "MB/s", "GB/s",
];

/// The pieces a cell may be broken between: words, with a unit glued to the number before it.
pub(crate) fn pieces(line: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in line.split_whitespace() {
        match out.last_mut() {
            Some(prev) if UNITS.contains(&word) && prev.ends_with(|c: char| c.is_ascii_digit()) => {
                prev.push(' ');
                prev.push_str(word);
            }
            _ => out.push(word.to_string()),
        }
    }
    out
}

/// The narrowest a cell can be drawn without splitting a word or a number from its unit.
pub fn longest_word(text: &str) -> usize {
    text.lines()
        .flat_map(pieces)
        .map(|p| text_width(&p))
        .max()
        .unwrap_or(0)
}

/// Breaks a cell into lines of at most `width` cells, only between pieces (a piece longer than that stands alone).
pub fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut current = String::new();
        for piece in pieces(line) {
            if !current.is_empty() && text_width(&current) + 1 + text_width(&piece) > width {
                lines.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&piece);
        }
        lines.push(current);
    }
    lines.join("\n")
}

/// The widest line of a cell, drawn unwrapped.
fn natural(text: &str) -> usize {
    text.lines().map(text_width).max().unwrap_or(0)
}

/// Total width of a bordered table whose columns have these content widths.
pub fn table_width(widths: impl IntoIterator<Item = usize>) -> usize {
    TABLE_EDGE + widths.into_iter().map(|w| w + PER_COLUMN).sum::<usize>()
}

/// Chooses the columns to show within `width` terminal cells.
///
/// `columns` are the headers, `cells` the rows, `drop_order` the headers that may be left out (first dropped first).
/// Columns not in `drop_order` are always shown, even when the table then overflows: a wide line is better than
/// a missing verdict.
pub fn fit(columns: &[&'static str], cells: &[Vec<&str>], drop_order: &[&'static str], width: usize) -> Fit {
    let widest = |i: usize, measure: fn(&str) -> usize| {
        let body = cells.iter().filter_map(|row| row.get(i)).map(|t| measure(t));
        body.chain([measure(columns[i])]).max().unwrap_or(0)
    };
    let min: Vec<usize> = (0..columns.len()).map(|i| widest(i, longest_word)).collect();
    let full: Vec<usize> = (0..columns.len()).map(|i| widest(i, natural)).collect();
    let mut shown: Vec<usize> = (0..columns.len()).collect();
    let mut dropped = Vec::new();
    for name in drop_order {
        if table_width(shown.iter().map(|&i| min[i])) <= width {
            break;
        }
        if let Some(pos) = shown.iter().position(|&i| columns[i] == *name) {
            shown.remove(pos);
            dropped.push(*name);
        }
    }
    // A column dropped early may fit again once a wider, less important one went after it: bring back the most
    // important ones that fit.
    for name in dropped.clone().into_iter().rev() {
        let i = columns.iter().position(|c| *c == name).unwrap_or_default();
        let mut with = shown.clone();
        with.push(i);
        with.sort_unstable();
        if table_width(with.iter().map(|&j| min[j])) <= width {
            shown = with;
            dropped.retain(|d| *d != name);
        }
    }
    let mins: Vec<usize> = shown.iter().map(|&i| min[i]).collect();
    let fulls: Vec<usize> = shown.iter().map(|&i| full[i]).collect();
    let room = width.saturating_sub(table_width(std::iter::repeat_n(0, shown.len())));
    Fit {
        widths: share(&mins, &fulls, room),
        shown,
        dropped,
    }
}

/// Shares `room` content cells among columns: each gets its minimum, then the column that lacks most of its
/// natural width gets the next cell, until every column is whole or the room is spent.
fn share(mins: &[usize], fulls: &[usize], room: usize) -> Vec<usize> {
    let mut widths = mins.to_vec();
    let mut spare = room.saturating_sub(mins.iter().sum());
    while spare > 0 {
        let lacking = (0..widths.len())
            .filter(|&i| widths[i] < fulls[i])
            .max_by_key(|&i| (fulls[i] - widths[i], std::cmp::Reverse(i)));
        let Some(i) = lacking else { break };
        widths[i] += 1;
        spare -= 1;
    }
    widths
}

/// The note that names the columns a fit left out.
pub fn dropped_note(dropped: &[&'static str], width: usize) -> Option<String> {
    if dropped.is_empty() {
        return None;
    }
    Some(format!(
        "columns {} left out to fit {width} columns (-v or a wider terminal shows them)",
        dropped.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: [&str; 4] = ["HOP", "ADDRESS", "NAME", "RTT"];

    fn rows() -> Vec<Vec<&'static str>> {
        vec![vec![
            "1",
            "198.51.100.10",
            "router-one.lab.example",
            "0.412 ms 0.398 ms 0.401 ms",
        ]]
    }

    #[test]
    fn everything_fits_on_a_wide_terminal() {
        let f = fit(&COLS, &rows(), &["NAME"], 200);
        assert_eq!(f.shown, vec![0, 1, 2, 3]);
        assert!(f.dropped.is_empty());
        assert_eq!(f.widths, vec![3, 13, 22, 26]);
    }

    #[test]
    fn droppable_columns_go_first_in_the_declared_order() {
        // minimums 3 + 13 + 22 + 5 = 43 plus 13 of borders = 56 > 50; without NAME: 21 + 10 = 31.
        let f = fit(&COLS, &rows(), &["NAME", "RTT"], 50);
        assert_eq!(f.shown, vec![0, 1, 3]);
        assert_eq!(f.dropped, vec!["NAME"]);
        let f = fit(&COLS, &rows(), &["NAME", "RTT"], 25);
        assert_eq!(f.dropped, vec!["NAME", "RTT"]);
    }

    #[test]
    fn a_column_dropped_early_comes_back_when_a_later_drop_made_room() {
        // REASON goes first, but the table still does not fit until the wide RTT goes; then REASON fits again.
        const COLS: [&str; 3] = ["PORT", "REASON", "RTT"];
        let rows = vec![vec!["22/tcp", "refused (TCP RST)", "0.045/0.061/0.080/0.014"]];
        let f = fit(&COLS, &rows, &["REASON", "RTT"], 30);
        assert_eq!(f.shown, vec![0, 1]);
        assert_eq!(f.dropped, vec!["RTT"]);
    }

    #[test]
    fn columns_not_declared_droppable_stay_even_when_too_wide() {
        let f = fit(&COLS, &rows(), &[], 10);
        assert_eq!(f.shown.len(), 4);
        assert_eq!(dropped_note(&f.dropped, 10), None);
    }

    #[test]
    fn the_note_names_what_was_left_out() {
        let note = dropped_note(&["NAME", "AVG"], 80).unwrap();
        assert!(
            note.contains("NAME, AVG") && note.contains("80 columns"),
            "{note}"
        );
    }

    #[test]
    fn spare_room_goes_to_the_columns_that_lack_most() {
        assert_eq!(share(&[2, 5], &[2, 20], 10), vec![2, 8]);
        assert_eq!(share(&[3, 3], &[9, 5], 10), vec![7, 3]);
        assert_eq!(share(&[3, 3], &[4, 4], 100), vec![4, 4]);
        assert_eq!(share(&[3, 3], &[9, 9], 2), vec![3, 3]);
    }

    #[test]
    fn numbers_keep_their_units_when_wrapped() {
        assert_eq!(longest_word("0.412 ms 52.3 ms"), 8);
        assert_eq!(wrap("0.412 ms 52.3 ms 1.52 s", 10), "0.412 ms\n52.3 ms\n1.52 s");
        assert_eq!(wrap("0.412 ms 52.3 ms", 17), "0.412 ms 52.3 ms");
        assert_eq!(wrap("!H host unreachable", 5), "!H\nhost\nunreachable");
        assert_eq!(wrap("a b\nc", 10), "a b\nc");
        // "ms" alone (no number before it) is an ordinary word.
        assert_eq!(pieces("ms s"), vec!["ms", "s"]);
    }

    #[test]
    fn table_width_counts_borders_and_padding() {
        // "│ a │ bb │" is 10 cells wide.
        assert_eq!(table_width([1, 2]), 10);
    }
}
