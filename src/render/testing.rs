//! Test helpers for report views: draw one as a bordered table at a given width and check that it fits.

use super::fit::{self, text_width};
use super::{Format, RenderOptions, View, table};

/// Draws `view` as a bordered table `width` columns wide and asserts that no table line is wider, and that every
/// word of every shown cell (a number with its unit as one) stands whole on one line. Returns the drawing.
pub(crate) fn assert_fits(view: &View, width: usize) -> String {
    let opts = RenderOptions {
        format: Format::Table,
        width,
        ..RenderOptions::plain()
    };
    let mut out = Vec::new();
    table::write_view(view, &opts, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let table_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
        .collect();
    for line in &table_lines {
        assert!(
            text_width(line) <= width,
            "{} > {width}:\n{text}",
            text_width(line)
        );
    }
    for section in &view.sections {
        let cells: Vec<Vec<&str>> = section
            .rows
            .iter()
            .map(|row| row.iter().map(|c| c.text.as_str()).collect())
            .collect();
        let shown = fit::fit(&section.columns, &cells, &section.drop_order, width).shown;
        for row in &cells {
            for piece in shown
                .iter()
                .filter_map(|&i| row.get(i))
                .flat_map(|t| fit::pieces(t))
            {
                assert!(
                    table_lines.iter().any(|l| l.contains(&piece)),
                    "{piece:?} split at {width} columns:\n{text}"
                );
            }
        }
    }
    text
}
