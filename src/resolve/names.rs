//! The names to look up: NAME arguments with dig-style `@SERVER` arguments split off, then `-f FILE` lines.

use std::path::Path;

use crate::error::{Error, Result};
use crate::host::{RESOLVE, check_host};

/// The NAME arguments sorted out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// Names and addresses to look up, arguments first, then the file's lines.
    pub names: Vec<String>,
    /// `@SERVER` arguments, without the `@`.
    pub at_servers: Vec<String>,
}

/// Splits `@SERVER` arguments from the names, checks that each names one host, and appends the names read from
/// `file` (`-` for stdin).
pub fn gather(args: &[String], file: Option<&Path>) -> Result<Names> {
    let (mut names, at_servers) = split_at_servers(args);
    for name in &names {
        check_host(name, RESOLVE)?;
    }
    if let Some(path) = file {
        names.extend(read_names_file(path)?);
    }
    Ok(Names { names, at_servers })
}

/// Splits dig-style `@SERVER` arguments from the names among which they were given.
pub fn split_at_servers(args: &[String]) -> (Vec<String>, Vec<String>) {
    let (servers, names): (Vec<_>, Vec<_>) = args.iter().cloned().partition(|a| a.starts_with('@'));
    let servers = servers.into_iter().map(|s| s[1..].to_string()).collect();
    (names, servers)
}

fn read_names_file(path: &Path) -> Result<Vec<String>> {
    let label = path.display().to_string();
    let names = if label == "-" {
        names_from(std::io::stdin().lock(), "stdin")?
    } else {
        match std::fs::File::open(path) {
            Ok(file) => names_from(std::io::BufReader::new(file), &label)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::usage(format!(
                    "cannot read names from '{label}': no such file"
                )));
            }
            Err(e) => return Err(Error::io(format!("reading names from '{label}'"), e)),
        }
    };
    // An empty list is almost always a mistake (a wrong file or a failed pipeline).
    if names.is_empty() {
        return Err(Error::usage(format!(
            "no names in '{label}' (one a line; # starts a comment)"
        )));
    }
    Ok(names)
}

/// Reads names one a line, skipping blank lines and `#` comments; a malformed line is a usage error naming it.
pub fn names_from(reader: impl std::io::BufRead, label: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(format!("reading names from {label}"), e))?;
        let name = line.split('#').next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        check_host(name, RESOLVE).map_err(|e| Error::usage(format!("{label} line {}: {e}", i + 1)))?;
        names.push(name.to_string());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_file_skips_comments_and_names_bad_lines() {
        let text = "# names\nweb.lab.test\n\n  mail.lab.test  # the MX\n198.51.100.7\n";
        let names = names_from(text.as_bytes(), "names.txt").unwrap();
        assert_eq!(names, ["web.lab.test", "mail.lab.test", "198.51.100.7"]);
        let err = names_from("ok.test\nbad name\n".as_bytes(), "names.txt").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("names.txt line 2: bad name"), "{err}");
        let err = names_from("198.51.100.0/24\n".as_bytes(), "names.txt").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("names.txt line 1: bad name '198.51.100.0/24': a CIDR block"),
            "{err}"
        );
    }

    #[test]
    fn every_name_argument_is_checked_before_any_lookup() {
        let args: Vec<String> = ["ok.test", "@127.0.0.1", "a/b"].map(String::from).to_vec();
        assert_eq!(gather(&args, None).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn at_arguments_are_split_from_names() {
        let args: Vec<String> = ["a.test", "@127.0.0.1:5353", "b.test"].map(String::from).to_vec();
        let (names, servers) = split_at_servers(&args);
        assert_eq!(names, ["a.test", "b.test"]);
        assert_eq!(servers, ["127.0.0.1:5353"]);
    }
}
