//! Running the built `sockdiag` binary: one builder for its arguments, environment, stdin, namespace and
//! user, which checks the exit code and parses the JSON report, showing the command and both outputs on failure.
//!
//! ```ignore
//! let report = sockdiag(&["--json", "probe", &target, "80"]).in_ns(topo.client()).exits(1).json();
//! let out = sockdiag(&["trace", "-n", &target]).in_ns(&ns).as_nobody().run();
//! assert_eq!(out.status.code(), Some(3), "{out}");
//! ```

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use super::cmd;
use super::netns::Netns;

/// The binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_sockdiag");

/// The unprivileged user and group of [`Sockdiag::as_nobody`] runs (`nobody` on every Debian system).
pub const NOBODY: u32 = 65534;

/// Deadline of one run unless the test sets another: a hung binary fails its test, not the whole suite.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A sockdiag invocation with `args`, on the host, as this process's user; refine it, then [`run`](Sockdiag::run).
pub fn sockdiag<'a>(args: &[&str]) -> Sockdiag<'a> {
    Sockdiag {
        program: PathBuf::from(BIN),
        args: args.iter().map(OsString::from).collect(),
        env: Vec::new(),
        stdin: None,
        netns: None,
        nobody: false,
        timeout: TIMEOUT,
    }
}

/// One invocation of the binary, built up and then run (see [`sockdiag`]).
#[derive(Debug, Clone)]
#[must_use = "a Sockdiag does nothing until it is run"]
pub struct Sockdiag<'a> {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    netns: Option<&'a Netns>,
    nobody: bool,
    timeout: Duration,
}

impl<'a> Sockdiag<'a> {
    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Feeds `data` on standard input (otherwise stdin is empty).
    pub fn stdin(mut self, data: &[u8]) -> Self {
        self.stdin = Some(data.to_vec());
        self
    }

    /// Runs inside the lab namespace `ns` (through `ip netns exec`, so its /etc/netns files apply).
    pub fn in_ns(mut self, ns: &'a Netns) -> Self {
        self.netns = Some(ns);
        self
    }

    /// Runs as [`NOBODY`] without supplementary groups or capabilities (through `setpriv`).
    pub fn as_nobody(mut self) -> Self {
        self.nobody = true;
        self
    }

    /// Runs another copy of the binary (one given file capabilities, say) instead of cargo's.
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = path.into();
        self
    }

    /// Replaces the default deadline ([`TIMEOUT`]).
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// The `Command` this invocation stands for, for tests that spawn it and talk to it while it runs.
    ///
    /// The environment is made independent of how the suite was started: no NO_COLOR (colour is the
    /// flags' choice), no SUDO_UID/SUDO_GID (only a test that sets them runs "under sudo"), the C locale.
    pub fn command(&self) -> Command {
        let mut c = match (self.netns, self.nobody) {
            (Some(ns), false) => ns.command(&self.program),
            (None, false) => Command::new(&self.program),
            (Some(ns), true) => ns.command("setpriv"),
            (None, true) => Command::new("setpriv"),
        };
        if self.nobody {
            c.arg(format!("--reuid={NOBODY}"))
                .arg(format!("--regid={NOBODY}"))
                .arg("--clear-groups")
                .arg(&self.program);
        }
        c.args(&self.args)
            .env_remove("NO_COLOR")
            .env_remove("SUDO_UID")
            .env_remove("SUDO_GID")
            .env("LC_ALL", "C");
        for (key, value) in &self.env {
            c.env(key, value);
        }
        c
    }

    /// Runs to completion (killed at the deadline) and returns the outcome, whatever the exit code.
    pub fn run(&self) -> Run {
        let command = self.command();
        let shown = shown(&command);
        let output = cmd::output_with_timeout(command, self.stdin.as_deref(), self.timeout);
        Run { shown, output }
    }

    /// Runs to completion and fails the test, showing the command and its output, unless it exits `code`.
    pub fn exits(&self, code: i32) -> Run {
        let run = self.run();
        assert_eq!(run.status.code(), Some(code), "wrong exit code from {run}");
        run
    }
}

/// The command line as a shell would show it (`ip netns exec NS setpriv ... sockdiag ARGS`).
fn shown(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\$*?".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A finished run: the `Output` (through `Deref`) plus the command line, shown by `{run}` in messages.
#[derive(Debug)]
pub struct Run {
    shown: String,
    output: Output,
}

impl Run {
    /// The exit code; fails the test when the process was killed by a signal instead.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {self}"))
    }

    /// Standard output as text (invalid UTF-8 replaced).
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Standard error as text (invalid UTF-8 replaced).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Standard output parsed as one JSON document; fails the test, showing the run, when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a JSON document ({e}): {self}"))
    }
}

impl Deref for Run {
    type Target = Output;

    fn deref(&self) -> &Output {
        &self.output
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` ({})\n--- stdout\n{}\n--- stderr\n{}",
            self.shown,
            self.status,
            String::from_utf8_lossy(&self.output.stdout).trim_end(),
            String::from_utf8_lossy(&self.output.stderr).trim_end()
        )
    }
}
