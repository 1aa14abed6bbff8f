//! Man pages and shell completions are generated from the clap definitions, and the JSON Schemas under docs/schema
//! from the report types; this test keeps the committed copies fresh.
//!
//! Regenerate with `SOCKDIAG_REGENERATE=1 cargo test --test integration generated::`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use sockdiag::cli::Cli;

use crate::support::manpage;

/// Every generated file, by path relative to the package root, with its expected content.
fn generate() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut cmd = Cli::command();
    cmd.build();

    files.insert(PathBuf::from("man/sockdiag.1"), manpage::render(&cmd));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("sockdiag-{}", sub.get_name());
        // clap wants 'static names; leaking a few strings in a test is harmless.
        let page_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let sub = sub.clone().name(page_name);
        files.insert(PathBuf::from(format!("man/{name}.1")), manpage::render(&sub));
    }

    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "sockdiag", &mut script);
        let file = match shell {
            Shell::Bash => "sockdiag.bash",
            Shell::Zsh => "_sockdiag",
            Shell::Fish => "sockdiag.fish",
            Shell::Elvish => "sockdiag.elv",
            _ => "_sockdiag.ps1",
        };
        files.insert(PathBuf::from("completions").join(file), script);
    }
    for (name, schema) in sockdiag::render::schema::documents() {
        let mut text = serde_json::to_vec_pretty(&schema).unwrap();
        text.push(b'\n');
        files.insert(PathBuf::from(format!("docs/schema/{name}.json")), text);
    }
    files
}

/// The folders whose every file is generated (a file there that is no longer generated is stale).
const GENERATED_DIRS: [&str; 3] = ["man", "completions", "docs/schema"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn man_pages_and_completions_are_fresh() {
    let files = generate();
    if std::env::var_os("SOCKDIAG_REGENERATE").is_some() {
        for dir in GENERATED_DIRS {
            let _ = std::fs::remove_dir_all(root().join(dir));
            std::fs::create_dir_all(root().join(dir)).unwrap();
        }
        for (path, content) in &files {
            std::fs::write(root().join(path), content).unwrap();
        }
        return;
    }
    let mut stale = Vec::new();
    for (path, content) in &files {
        match std::fs::read(root().join(path)) {
            Ok(on_disk) if &on_disk == content => {}
            _ => stale.push(path.display().to_string()),
        }
    }
    for dir in GENERATED_DIRS {
        for entry in std::fs::read_dir(root().join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let rel = Path::new(dir).join(entry.file_name());
            if !files.contains_key(&rel) {
                stale.push(format!("{} (no longer generated)", rel.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are stale: {stale:?}\nregenerate with: SOCKDIAG_REGENERATE=1 cargo test --test integration generated::"
    );
}

#[test]
fn every_subcommand_has_a_page_and_no_hidden_one_leaks() {
    let files = generate();
    let cmd = Cli::command();
    for sub in cmd.get_subcommands() {
        assert!(
            !sub.is_hide_set(),
            "hidden subcommand {} would leak into completions",
            sub.get_name()
        );
        assert!(files.contains_key(&PathBuf::from(format!("man/sockdiag-{}.1", sub.get_name()))));
    }
    let bash = String::from_utf8(files[&PathBuf::from("completions/sockdiag.bash")].clone()).unwrap();
    for sub in cmd.get_subcommands() {
        assert!(
            bash.contains(sub.get_name()),
            "bash completion lacks {}",
            sub.get_name()
        );
    }
}

#[test]
fn bash_completion_parses() {
    let path = root().join("completions/sockdiag.bash");
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "bash -n {} failed", path.display());
}

#[test]
fn man_pages_carry_every_section() {
    for (path, content) in generate() {
        if !path.starts_with("man") {
            continue;
        }
        let text = String::from_utf8(content).unwrap();
        let sub = path != Path::new("man/sockdiag.1");
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "SEE ALSO",
        ]
        .into_iter()
        .chain(sub.then_some("EXAMPLES"))
        {
            assert!(
                text.contains(&format!(".SH {section}")) || text.contains(&format!(".SH \"{section}\"")),
                "{} lacks {section}",
                path.display()
            );
        }
        // The synopsis names each option's value (e.g. -w DURATION), not only the flag.
        let synopsis = text
            .split(".SH SYNOPSIS")
            .nth(1)
            .unwrap()
            .split(".SH")
            .next()
            .unwrap();
        if sub {
            assert!(
                synopsis.contains("\\fI"),
                "{}: no value names in\n{synopsis}",
                path.display()
            );
        }
        assert!(text.contains("\\fB0\\fR"), "{} lacks exit code 0", path.display());
    }
}

#[test]
fn completion_offers_file_names_only_for_files() {
    let files = generate();
    let bash = String::from_utf8(files[&PathBuf::from("completions/sockdiag.bash")].clone()).unwrap();
    let mut option = "";
    let mut file_options = Vec::new();
    for line in bash.lines().map(str::trim) {
        if line.starts_with('-') && line.ends_with(')') {
            option = line.trim_end_matches(')');
        }
        if line.contains("compgen -f") {
            file_options.push(option);
        }
    }
    for option in &file_options {
        assert!(
            matches!(
                *option,
                "-f" | "--file"
                    | "--reply-file"
                    | "--exclude-file"
                    | "--save"
                    | "--ca"
                    | "--trust-anchor"
                    | "--root-hints"
                    | "--cert"
                    | "--key"
            ),
            "{option} completes file names"
        );
    }
    assert!(
        !file_options.is_empty(),
        "no option completes file names at all: the scan is broken"
    );
    let zsh = String::from_utf8(files[&PathBuf::from("completions/_sockdiag")].clone()).unwrap();
    for line in zsh.lines().filter(|l| l.contains("_files")) {
        // listen --save takes a directory: zsh's `_files -/` offers directories only.
        assert!(
            line.contains("FILE") || line.contains(":DIR:_files -/"),
            "zsh completes files for {line}"
        );
    }
}
