//! A test helper for every report's tests: draw its view at a terminal width and check that it fits.

use super::{Format, RenderOptions, View, fit, table};

/// Draws `view` as a bordered table `width` columns wide (as `COLUMNS=width` would) and asserts that no table line
/// is wider and that every piece of every shown cell (a word, or a number with its unit) stands whole on one line;
/// returns the drawing, for further checks.
pub(crate) fn assert_fits(view: &View, width: usize) -> String {
    let opts = RenderOptions {
        format: Format::Table,
        width,
        ..RenderOptions::plain()
    };
    let mut out = Vec::new();
    table::write_view(view, &opts, &mut out).expect("drawing into memory");
    let text = String::from_utf8(out).expect("tables are UTF-8");
    // The tables' own lines: notes below them are free text the terminal wraps.
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
        .collect();
    for line in &lines {
        assert!(
            fit::text_width(line) <= width,
            "a line wider than {width}:\n{text}"
        );
    }
    for section in view.sections.iter().filter(|s| !s.rows.is_empty()) {
        let cells: Vec<Vec<&str>> = section
            .rows
            .iter()
            .map(|row| row.iter().map(|c| c.text.as_str()).collect())
            .collect();
        // The same choice the renderer makes (table::layout): which columns are left out at this width.
        let layout = fit::fit(&section.columns, &cells, &section.drop_order, width);
        for row in &section.rows {
            for &i in &layout.shown {
                let Some(cell) = row.get(i) else { continue };
                for piece in cell.text.lines().flat_map(fit::pieces) {
                    assert!(
                        lines.iter().any(|l| l.contains(&piece)),
                        "{piece:?} of column {} split at {width} columns:\n{text}",
                        section.columns[i]
                    );
                }
            }
        }
    }
    text
}
