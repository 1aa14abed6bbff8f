//! Table rendering with comfy-table: bordered on a terminal, bare aligned columns in a pipe.

use std::io::{self, Write};

use comfy_table::{Attribute, Color, ContentArrangement, Table, presets};

use super::{Cell, Format, RenderOptions, Section, Tone, View};

/// Width used when the terminal size cannot be read (comfy-table would squash columns on 0x0).
const FALLBACK_WIDTH: u16 = 120;

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
        if plain {
            writeln!(out, "# {title}")?;
        } else {
            writeln!(out, "{title}")?;
        }
    }
    if !section.columns.is_empty() && !section.rows.is_empty() {
        let table = build(section, opts);
        if plain {
            // Trailing padding is noise to grep and diff.
            for line in table.lines() {
                writeln!(out, "{}", line.trim_end())?;
            }
        } else {
            writeln!(out, "{table}")?;
        }
    }
    for note in &section.notes {
        if plain {
            writeln!(out, "# {note}")?;
        } else {
            writeln!(out, "{note}")?;
        }
    }
    Ok(())
}

fn build(section: &Section, opts: &RenderOptions) -> Table {
    let mut table = Table::new();
    if opts.format == Format::Plain {
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
    } else {
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        let width = table.width().filter(|w| *w > 0).unwrap_or(FALLBACK_WIDTH);
        table.set_width(width);
    }
    // Colour is decided by RenderOptions (--color, NO_COLOR), not by comfy-table's own tty check.
    if opts.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(section.columns.iter().map(|c| {
        let cell = comfy_table::Cell::new(c);
        if opts.color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for row in &section.rows {
        table.add_row(row.iter().map(|c| styled(c, opts.color)));
    }
    if opts.format == Format::Plain {
        // Bare columns: no leading pad, two spaces between columns.
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
    }
    table
}

fn styled(cell: &Cell, color: bool) -> comfy_table::Cell {
    let out = comfy_table::Cell::new(&cell.text);
    if !color {
        return out;
    }
    match cell.tone {
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
        let opts = RenderOptions {
            format: Format::Plain,
            color: false,
        };
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
        };
        let mut out = Vec::new();
        write_view(&sample(), &opts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains('│'), "{text}");
        assert!(text.contains("\u{1b}["), "{text}");
    }
}
