//! The output layer: reports describe themselves as plain sections; renderers draw them.

mod csv;
pub mod dot;
mod envelope;
mod fit;
#[cfg(test)]
pub(crate) mod fit_check;
mod json;
pub mod plain;
pub mod schema;
mod table;

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use serde::Serialize;

pub use envelope::{Envelope, RunClock, SCHEMA_VERSION};
pub use json::{write_json, write_json_line};

/// How a report is drawn (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Bordered table sized to the terminal
    Table,
    /// The same columns, no borders, no colour (what a pipe gets)
    Plain,
    /// One JSON document
    Json,
    /// One JSON object a line, the summary last (streaming commands)
    Ndjson,
    /// The records as comma-separated values with a header line
    Csv,
    /// A graph for Graphviz (trace --multipath only)
    Dot,
}

/// The user's `--color` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    /// Always colour tables.
    Always,
    /// Never colour.
    Never,
}

/// Everything a renderer needs to know about the destination.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// Table, plain or JSON.
    pub format: Format,
    /// Whether cells may carry colour.
    pub color: bool,
    /// Terminal width a bordered table must fit in.
    pub width: usize,
    /// Show every column even when the table is wider than the terminal (`-v`).
    pub all_columns: bool,
    /// Draw borders in ASCII: the terminal cannot be trusted with UTF-8 box drawing (`LANG=C`, `TERM=dumb`).
    pub ascii: bool,
}

/// Width assumed when neither COLUMNS nor the terminal tells one.
const DEFAULT_WIDTH: usize = 80;

impl RenderOptions {
    /// Chooses the format (`--format`, else a table on a terminal and plain columns in a pipe) and colour
    /// (`--color`, NO_COLOR; tables and plain columns only, never JSON or CSV).
    pub fn detect(format: Option<Format>, choice: ColorChoice) -> Self {
        let tty = io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let term = Terminal::from_env();
        let format = format.unwrap_or(if tty { Format::Table } else { Format::Plain });
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color && !term.dumb,
        };
        RenderOptions {
            format,
            color: color && matches!(format, Format::Table | Format::Plain),
            width: terminal_width(),
            all_columns: false,
            ascii: term.dumb || !term.utf8,
        }
    }

    /// Plain columns, no colour: what a pipe gets (and what unit tests compare against).
    pub fn plain() -> Self {
        RenderOptions {
            format: Format::Plain,
            color: false,
            width: DEFAULT_WIDTH,
            all_columns: false,
            ascii: false,
        }
    }

    /// Keeps every column however wide the table gets.
    pub fn with_all_columns(mut self, all: bool) -> Self {
        self.all_columns = all;
        self
    }
}

/// What the environment says the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Terminal {
    /// `TERM=dumb`: no colour, no cursor tricks, nothing beyond ASCII.
    dumb: bool,
    /// The locale's character set is UTF-8, so box-drawing characters show as lines.
    utf8: bool,
}

impl Terminal {
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        Terminal::from_vars(var("TERM"), [var("LC_ALL"), var("LC_CTYPE"), var("LANG")])
    }

    /// The locale is the first of LC_ALL, LC_CTYPE and LANG that is set and not empty, as setlocale(3) takes it;
    /// none at all is the C locale, which is ASCII.
    fn from_vars(term: Option<String>, locale: [Option<String>; 3]) -> Self {
        let locale = locale.into_iter().flatten().find(|v| !v.is_empty());
        let utf8 = locale.is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        });
        Terminal {
            dumb: term.as_deref() == Some("dumb"),
            utf8,
        }
    }
}

/// The width tables must fit: COLUMNS when set (as shells and `tput` honour it), else the terminal's, else 80.
fn terminal_width() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok());
    from_env
        .filter(|w| *w > 0)
        .or_else(|| {
            comfy_table::Table::new()
                .width()
                .map(usize::from)
                .filter(|w| *w > 0)
        })
        .unwrap_or(DEFAULT_WIDTH)
}

/// A report is plain data that serialises to JSON and describes its table view.
pub trait Report: Serialize {
    /// The sections a table renderer draws.
    fn view(&self) -> View;

    /// The records `--format csv` writes: by default the first section of the view that has rows.
    fn records(&self) -> Section {
        let view = self.view();
        view.sections
            .into_iter()
            .find(|s| !s.rows.is_empty())
            .unwrap_or_default()
    }

    /// The graph `--format dot` draws (None: the report has none).
    fn dot(&self) -> Option<dot::DotGraph> {
        None
    }
}

/// A report's table view: one or more sections.
#[derive(Debug, Default)]
pub struct View {
    /// Sections in print order.
    pub sections: Vec<Section>,
}

/// One table with an optional title and lines of notes after it.
#[derive(Debug, Default)]
pub struct Section {
    /// Printed above the table.
    pub title: Option<String>,
    /// Column headers.
    pub columns: Vec<&'static str>,
    /// Rows of cells, one per column.
    pub rows: Vec<Vec<Cell>>,
    /// Lines printed after the table (summaries, hints used, how it ended).
    pub notes: Vec<String>,
    /// Columns that may be left out when the table is wider than the terminal, the first left out first.
    pub drop_order: Vec<&'static str>,
}

impl Section {
    /// A section with these columns and no rows yet.
    pub fn new(columns: &[&'static str]) -> Self {
        Section {
            columns: columns.to_vec(),
            ..Section::default()
        }
    }

    /// Declares which columns may be left out to fit the terminal, least important first.
    pub fn droppable(mut self, order: &[&'static str]) -> Self {
        self.drop_order = order.to_vec();
        self
    }

    /// Sets the title.
    pub fn titled(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// What a cell's colour means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    /// Ordinary text.
    #[default]
    Normal,
    /// A hoped-for result (open, answered).
    Good,
    /// A failure (closed, NXDOMAIN).
    Bad,
    /// Uncertain or partial (filtered, open|filtered).
    Warn,
    /// Secondary detail.
    Dim,
}

/// One table cell: text and the tone it is drawn in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// The text shown.
    pub text: String,
    /// Colour meaning.
    pub tone: Tone,
}

impl Cell {
    /// A cell in a given tone.
    pub fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Cell {
            text: text.into(),
            tone,
        }
    }
}

impl<T: Into<String>> From<T> for Cell {
    fn from(text: T) -> Self {
        Cell::toned(text, Tone::Normal)
    }
}

/// Writes a report in the chosen format.
pub fn write_report<R: Report>(report: &R, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    match opts.format {
        Format::Json => write_json(report, out),
        Format::Ndjson => write_json_line(report, out),
        Format::Csv => csv::write_csv(&report.records(), out),
        Format::Table | Format::Plain => table::write_view(&report.view(), opts, out),
        Format::Dot => match report.dot() {
            Some(graph) => dot::write_dot(&graph, out),
            None => table::write_view(&report.view(), opts, out),
        },
    }
}

/// A duration as every command prints it: three significant digits, in ms below a second ("0.412 ms",
/// "52.3 ms", "523 ms") and in seconds above ("1.52 s", "15.2 s").
pub fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    let s = ms / 1000.0;
    match ms {
        _ if ms < 1.0 => format!("{ms:.3} ms"),
        _ if ms < 9.995 => format!("{ms:.2} ms"),
        _ if ms < 99.95 => format!("{ms:.1} ms"),
        _ if ms < 999.5 => format!("{ms:.0} ms"),
        _ if s < 9.995 => format!("{s:.2} s"),
        _ if s < 99.95 => format!("{s:.1} s"),
        _ => format!("{s:.0} s"),
    }
}

/// A duration as fractional milliseconds for JSON.
pub fn ms_f64(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_precision_follows_magnitude() {
        assert_eq!(fmt_ms(Duration::from_micros(42)), "0.042 ms");
        assert_eq!(fmt_ms(Duration::from_micros(412)), "0.412 ms");
        assert_eq!(fmt_ms(Duration::from_micros(5_234)), "5.23 ms");
        assert_eq!(fmt_ms(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(fmt_ms(Duration::from_micros(99_970)), "100 ms");
        assert_eq!(fmt_ms(Duration::from_millis(523)), "523 ms");
        assert_eq!(fmt_ms(Duration::from_micros(999_700)), "1.00 s");
        assert_eq!(fmt_ms(Duration::from_millis(1520)), "1.52 s");
        assert_eq!(fmt_ms(Duration::from_millis(15_240)), "15.2 s");
        assert_eq!(fmt_ms(Duration::from_secs(152)), "152 s");
        assert_eq!(ms_f64(Duration::from_nanos(1_234_567)), 1.235);
    }

    #[test]
    fn dumb_terminals_and_non_utf8_locales_are_ascii() {
        let s = |v: &str| Some(v.to_string());
        let term = |t: Option<String>, all, ctype, lang| Terminal::from_vars(t, [all, ctype, lang]);
        assert!(term(s("xterm"), None, None, s("en_US.UTF-8")).utf8);
        assert!(term(s("xterm"), None, s("C.utf8"), s("C")).utf8);
        assert!(
            !term(s("xterm"), s("C"), None, s("en_US.UTF-8")).utf8,
            "LC_ALL wins"
        );
        assert!(
            term(s("xterm"), s(""), None, s("en_US.UTF-8")).utf8,
            "an empty LC_ALL is unset"
        );
        assert!(!term(s("xterm"), None, None, None).utf8, "no locale is C");
        assert!(term(s("dumb"), None, None, s("en_US.UTF-8")).dumb);
        assert!(!term(None, None, None, None).dumb);
    }
}
