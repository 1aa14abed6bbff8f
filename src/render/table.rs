//! Table rendering with comfy-table: bordered on a terminal, bare aligned columns in a pipe.

use std::io::{self, Write};

use comfy_table::{Attribute, Color, ColumnConstraint, ContentArrangement, Table, Width, presets};

use super::fit::{self, Fit};
use super::plain;
use super::{Cell, Format, RenderOptions, Section, Tone, View};
use crate::text;

/// Draws every section of a view.
pub fn write_view(view: &View, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    for (i, section) in view.sections.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_section(section, opts, out)?;
    }
    Ok(())
}

fn write_section(section: &Section, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let plain = opts.format == Format::Plain;
    if let Some(title) = &section.title {
        let title = text::escape(title);
        if plain {
            writeln!(out, "# {title}")?;
        } else {
            writeln!(out, "{title}")?;
        }
    }
    let mut dropped_note = None;
    if plain && !opts.color && !section.columns.is_empty() {
        // Every column, in one pass: a pipe gets no fitting, and a big report no table built in memory.
        let mut columns = plain::Columns::new(&section.columns);
        for row in &section.rows {
            columns.push(row.iter().map(|c| c.text.as_str()));
        }
        if !columns.multiline() {
            if !columns.is_empty() {
                columns.write(0..columns.len(), out)?;
            }
            return write_notes(section, None, plain, out);
        }
    }
    if !section.columns.is_empty() && !section.rows.is_empty() {
        let layout = layout(section, opts);
        dropped_note = fit::dropped_note(&layout.dropped, opts.width);
        let table = build(section, &layout, opts);
        if plain {
            // Trailing padding is noise to grep and diff.
            for line in table.lines() {
                writeln!(out, "{}", line.trim_end())?;
            }
        } else {
            writeln!(out, "{table}")?;
        }
    }
    write_notes(section, dropped_note, plain, out)
}

fn write_notes(
    section: &Section,
    dropped: Option<String>,
    plain: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    for note in section.notes.iter().chain(dropped.as_ref()) {
        let note = text::escape(note);
        if plain {
            writeln!(out, "# {note}")?;
        } else {
            writeln!(out, "{note}")?;
        }
    }
    Ok(())
}

/// Which columns a section shows: all of them in a pipe (one record a line) or with `-v`, else what fits.
fn layout(section: &Section, opts: &RenderOptions) -> Fit {
    // Measured as drawn: escaped text is wider than the raw text it stands for.
    let escaped: Vec<Vec<_>> = section
        .rows
        .iter()
        .map(|row| row.iter().map(|c| text::escape_keep_lines(&c.text)).collect())
        .collect();
    let cells: Vec<Vec<&str>> = escaped
        .iter()
        .map(|row| row.iter().map(|c| c.as_ref()).collect())
        .collect();
    let keep_all = opts.format == Format::Plain || opts.all_columns;
    let drop_order: &[&'static str] = if keep_all { &[] } else { &section.drop_order };
    fit::fit(&section.columns, &cells, drop_order, opts.width)
}

fn build(section: &Section, layout: &Fit, opts: &RenderOptions) -> Table {
    let mut table = Table::new();
    if opts.format == Format::Plain {
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
    } else {
        let style = if opts.ascii {
            presets::ASCII_FULL_CONDENSED
        } else {
            presets::UTF8_FULL_CONDENSED
        };
        table
            .load_style(style)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(opts.width).unwrap_or(u16::MAX));
    }
    // Colour is decided by RenderOptions (--color, NO_COLOR), not by comfy-table's own tty check.
    if opts.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(layout.shown.iter().map(|&i| {
        let cell = comfy_table::Cell::new(section.columns[i]);
        if opts.color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    let blank = Cell::default();
    for row in &section.rows {
        let cells = layout.shown.iter().zip(&layout.widths).map(|(&i, &width)| {
            let cell = row.get(i).unwrap_or(&blank);
            let text = text::escape_keep_lines(&cell.text);
            if opts.format == Format::Plain {
                styled(&text, cell.tone, opts.color)
            } else {
                // Wrapped here, between words, so comfy-table never has to break one.
                styled(&fit::wrap(&text, width), cell.tone, opts.color)
            }
        });
        table.add_row(cells);
    }
    if opts.format == Format::Plain {
        // Bare columns: no leading pad, two spaces between columns.
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
    } else {
        // Widths chosen by fit (never below a column's longest word), so no address or number is split; comfy-table
        // counts the padding inside an absolute width.
        for (column, &content) in table.column_iter_mut().zip(&layout.widths) {
            let total = u16::try_from(content + 2).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(total)));
        }
    }
    table
}

fn styled(text: &str, tone: Tone, color: bool) -> comfy_table::Cell {
    let out = comfy_table::Cell::new(text);
    if !color {
        return out;
    }
    match tone {
        Tone::Normal => out,
        Tone::Good => out.fg(Color::Green),
        Tone::Bad => out.fg(Color::Red),
        Tone::Warn => out.fg(Color::Yellow),
        Tone::Dim => out.fg(Color::DarkGrey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> View {
        let mut s = Section::new(&["NAME", "STATE"]).titled("ports");
        s.rows.push(vec!["a".into(), Cell::toned("open", Tone::Good)]);
        s.notes.push("1 open".into());
        View { sections: vec![s] }
    }

    #[test]
    fn plain_output_has_no_borders_or_escapes() {
        let opts = RenderOptions::plain();
        let mut out = Vec::new();
        write_view(&sample(), &opts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "# ports\nNAME  STATE\na     open\n# 1 open\n");
    }

    #[test]
    fn coloured_table_carries_ansi_and_borders() {
        let opts = RenderOptions {
            format: Format::Table,
            color: true,
            ..RenderOptions::plain()
        };
        let mut out = Vec::new();
        write_view(&sample(), &opts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains('│'), "{text}");
        assert!(text.contains("\u{1b}["), "{text}");
    }

    #[test]
    fn ascii_terminals_get_ascii_borders() {
        let opts = RenderOptions {
            format: Format::Table,
            ascii: true,
            ..RenderOptions::plain()
        };
        let mut out = Vec::new();
        write_view(&sample(), &opts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.is_ascii(), "{text}");
        assert!(text.contains('|') && text.contains("+-"), "{text}");
    }

    #[test]
    fn outside_text_in_cells_titles_and_notes_is_escaped() {
        let mut s = Section::new(&["NAME", "DATA"]).titled("title\u{1b}]0;pwn\u{7}");
        s.rows.push(vec!["a\u{1b}[2J".into(), "b\u{202e}c".into()]);
        s.notes.push("note\u{7f}".into());
        let view = View { sections: vec![s] };
        for format in [Format::Plain, Format::Table] {
            let opts = RenderOptions {
                format,
                ..RenderOptions::plain()
            };
            let mut out = Vec::new();
            write_view(&view, &opts, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.chars().any(|c| c != '\n' && crate::text::is_unsafe(c)),
                "{text:?}"
            );
            assert!(
                text.contains("a\\x1b[2J") && text.contains("b\\u{202e}c"),
                "{text}"
            );
            assert!(
                text.contains("note\\x7f") && text.contains("title\\x1b]0;pwn\\x07"),
                "{text}"
            );
        }
    }

    fn hops() -> View {
        let mut s =
            Section::new(&["HOP", "ADDRESS", "NAME", "LOSS", "RTT", "NOTE"]).droppable(&["NAME", "NOTE"]);
        for hop in 1..=3 {
            s.rows.push(vec![
                hop.to_string().into(),
                format!("2001:db8:{hop}::1").into(),
                format!("router-{hop}.lab.example").into(),
                "0.0%".into(),
                "0.412 ms 52.3 ms 1.52 s".into(),
                "!H host unreachable".into(),
            ]);
        }
        s.notes.push("# reached in 1.52 s".into());
        View { sections: vec![s] }
    }

    fn table_at(view: &View, width: usize, all_columns: bool) -> String {
        let opts = RenderOptions {
            format: Format::Table,
            width,
            all_columns,
            ..RenderOptions::plain()
        };
        let mut out = Vec::new();
        write_view(view, &opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tables_fit_60_80_and_200_columns_without_splitting_a_word() {
        let view = hops();
        for width in [60, 80, 200] {
            let text = crate::render::fit_check::assert_fits(&view, width);
            for timed in ["0.412 ms", "52.3 ms", "1.52 s"] {
                assert!(text.contains(timed), "{timed:?} split from its unit in\n{text}");
            }
        }
    }

    #[test]
    fn dropped_columns_are_named_and_come_back_with_all_columns() {
        let view = hops();
        let narrow = table_at(&view, 60, false);
        let header = narrow.lines().nth(1).unwrap();
        assert!(header.contains("ADDRESS") && !header.contains("NAME"), "{narrow}");
        assert!(narrow.contains("columns NAME"), "{narrow}");
        let all = table_at(&view, 60, true);
        assert!(all.contains("router-1.lab.example"), "{all}");
        let wide = table_at(&view, 200, false);
        assert!(
            wide.contains("router-1.lab.example") && !wide.contains("left out"),
            "{wide}"
        );
    }
}
