//! Man pages from the clap definitions: clap_mangen draws the title, name, description and options; the
//! synopsis (with value names), EXAMPLES, EXIT STATUS, ENVIRONMENT and SEE ALSO are drawn here, from the same
//! lists `--help` shows.

use clap::{Arg, Command};
use roff::{Inline, Roff, bold, italic, roman};
use sockdiag::cli::examples::{self, Example};

/// Related tools per page, as `name(section)`.
fn see_also(page: &str) -> &'static [&'static str] {
    match page {
        "sockdiag-resolve" => &[
            "getent(1)",
            "dig(1)",
            "getaddrinfo(3)",
            "resolv.conf(5)",
            "hosts(5)",
        ],
        "sockdiag-probe" => &["nmap(1)", "nc(1)", "ss(8)"],
        "sockdiag-trace" => &["traceroute(8)", "tracepath(8)", "mtr(8)", "capabilities(7)"],
        "sockdiag-listen" => &["ncat(1)", "socat(1)", "nc(1)"],
        _ => &[
            "sockdiag-resolve(1)",
            "sockdiag-probe(1)",
            "sockdiag-trace(1)",
            "sockdiag-listen(1)",
        ],
    }
}

fn examples_of(page: &str) -> &'static [Example] {
    match page {
        "sockdiag-resolve" => examples::RESOLVE,
        "sockdiag-probe" => examples::PROBE,
        "sockdiag-trace" => examples::TRACE,
        "sockdiag-listen" => examples::LISTEN,
        "sockdiag-sockets" => examples::SOCKETS,
        _ => &[],
    }
}

/// Renders the page of `cmd` (the top command, or a subcommand renamed `sockdiag-NAME`).
pub fn render(cmd: &Command) -> Vec<u8> {
    let page = cmd.get_name().to_string();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    let mut roff = Roff::new();
    synopsis(&mut roff, cmd, &page);
    roff.to_writer(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut out).unwrap();
    }
    let mut roff = Roff::new();
    examples_section(&mut roff, examples_of(&page));
    notes_and_exit_status(&mut roff, cmd);
    environment(&mut roff);
    see_also_section(&mut roff, see_also(&page));
    roff.to_writer(&mut out).unwrap();
    man.render_version_section(&mut out).unwrap();
    out
}

/// `sockdiag probe [-p PORTS] [-w DURATION] ... TARGET...`: every option with its value name.
fn synopsis(roff: &mut Roff, cmd: &Command, page: &str) {
    roff.control("SH", ["SYNOPSIS"]);
    let mut line: Vec<Inline> = vec![bold(page.replacen('-', " ", 1)), roman(" ")];
    for arg in cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
    {
        line.push(roman("["));
        line.extend(option_names(arg));
        let value = arg.get_value_names().and_then(|v| v.first());
        if let Some(value) = value.filter(|_| arg.get_action().takes_values()) {
            line.push(roman(" "));
            line.push(italic(value.to_string()));
        }
        line.push(roman("] "));
    }
    for arg in cmd.get_positionals() {
        let name = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map_or_else(|| arg.get_id().to_string().to_uppercase(), |v| v.to_string());
        let many = if arg.get_num_args().is_some_and(|n| n.max_values() > 1) {
            "..."
        } else {
            ""
        };
        let (open, close) = if arg.is_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        line.push(roman(open));
        line.push(italic(name));
        line.push(roman(format!("{close}{many} ")));
    }
    if cmd.has_subcommands() {
        line.push(italic("COMMAND"));
    }
    roff.text(line);
}

fn option_names(arg: &Arg) -> Vec<Inline> {
    let mut names = Vec::new();
    if let Some(short) = arg.get_short() {
        names.push(bold(format!("-{short}")));
    }
    if let Some(long) = arg.get_long() {
        if !names.is_empty() {
            names.push(roman("|"));
        }
        names.push(bold(format!("--{long}")));
    }
    names
}

fn examples_section(roff: &mut Roff, list: &[Example]) {
    if list.is_empty() {
        return;
    }
    roff.control("SH", ["EXAMPLES"]);
    for e in list {
        roff.control("TP", []);
        roff.text([bold(e.command)]);
        roff.text([roman(e.says)]);
    }
}

/// The text after the examples in `--help`: notes (if any) and the exit codes, as NOTES and EXIT STATUS.
fn notes_and_exit_status(roff: &mut Roff, cmd: &Command) {
    let after = cmd
        .get_after_long_help()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let after = after
        .split_once("\n\n")
        .filter(|_| after.starts_with("Examples:"))
        .map_or(after.as_str(), |(_, rest)| rest);
    let (notes, codes) = after.split_once("Exit codes:").unwrap_or(("", after));
    if !notes.trim().is_empty() {
        roff.control("SH", ["NOTES"]);
        paragraphs(roff, notes);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for line in codes.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once("  ") {
            Some((code, meaning)) if code.parse::<u8>().is_ok() => {
                roff.control("TP", []);
                roff.text([bold(code)]);
                roff.text([roman(meaning.trim())]);
            }
            // A continuation of the previous code's meaning.
            _ => {
                roff.text([roman(line)]);
            }
        }
    }
}

fn paragraphs(roff: &mut Roff, text: &str) {
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        roff.control("PP", []);
        roff.text([roman(para.replace('\n', " "))]);
    }
}

fn environment(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in [
        (
            "NO_COLOR",
            "when set and not empty, tables are not coloured (unless --color always)",
        ),
        (
            "COLUMNS",
            "the width tables fit on a terminal (else the terminal's own, else 80)",
        ),
    ] {
        roff.control("TP", []);
        roff.text([bold(name)]);
        roff.text([roman(meaning)]);
    }
}

fn see_also_section(roff: &mut Roff, pages: &[&str]) {
    roff.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        if i > 0 {
            line.push(roman(", "));
        }
        let (name, section) = page.split_once('(').unwrap_or((page, ""));
        line.push(bold(name.to_string()));
        line.push(roman(format!("({section}")));
    }
    roff.text(line);
}
