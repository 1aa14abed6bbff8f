//! Running the built `sockdiag` binary: one builder for its arguments, environment, stdin, namespace and
//! user, which checks the exit code and parses the JSON report, showing the command and both outputs on failure.
//!
//! ```ignore
//! let report = sockdiag(&["--json", "probe", &target, "80"]).in_ns(topo.client()).exits(1).json();
//! let out = sockdiag(&["trace", "-n", &target]).in_ns(&ns).unprivileged().run();
//! assert_eq!(out.status.code(), Some(3), "{out}");
//! ```

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::cmd;
use super::netns::Netns;

/// The binary cargo built for these tests; empty in the examples that share this support code, which cargo
/// does not tell where the binary is (and which do not run it).
pub const BIN: &str = match option_env!("CARGO_BIN_EXE_sockdiag") {
    Some(path) => path,
    None => "",
};

/// The unprivileged user and group of [`Sockdiag::unprivileged`] runs (`nobody` on every Debian system).
pub const NOBODY: u32 = 65534;

/// Deadline of one run unless the test sets another: a hung binary fails its test, not the whole suite.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A sockdiag invocation with `args`, on the host, as this process's user; refine it, then [`run`](Sockdiag::run).
pub fn sockdiag<'a>(args: &[&str]) -> Sockdiag<'a> {
    assert!(
        !BIN.is_empty(),
        "cargo names the sockdiag binary only to tests and benches"
    );
    Sockdiag {
        program: PathBuf::from(BIN),
        args: args.iter().map(OsString::from).collect(),
        env: Vec::new(),
        stdin: None,
        netns: None,
        nobody: false,
        file_limit: None,
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
    file_limit: Option<u32>,
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
    pub fn unprivileged(mut self) -> Self {
        self.nobody = true;
        self
    }

    /// Lowers the open-file limit (soft and hard, as `ulimit -n` does) to `limit` (through `prlimit`).
    pub fn file_limit(mut self, limit: u32) -> Self {
        self.file_limit = Some(limit);
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
        // The wrappers exec the next program in place, so the pid is sockdiag's in the end.
        let mut line: Vec<OsString> = Vec::new();
        if self.nobody {
            line.extend(["setpriv".into(), format!("--reuid={NOBODY}").into()]);
            line.extend([format!("--regid={NOBODY}").into(), "--clear-groups".into()]);
        }
        if let Some(limit) = self.file_limit {
            line.extend(["prlimit".into(), format!("--nofile={limit}").into(), "--".into()]);
        }
        line.push(self.program.clone().into());
        line.extend(self.args.iter().cloned());
        let mut c = match self.netns {
            Some(ns) => ns.command(&line[0]),
            None => Command::new(&line[0]),
        };
        c.args(&line[1..])
            .env_remove("NO_COLOR")
            .env_remove("SUDO_UID")
            .env_remove("SUDO_GID")
            .env("LC_ALL", "C");
        for (key, value) in &self.env {
            c.env(key, value);
        }
        c
    }

    /// Starts the binary with stdout and stderr piped, for a test that acts while it runs (signals, clients).
    pub fn spawn(&self) -> Running {
        let mut command = self.command();
        let shown = shown(&command);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{shown}`: {e}"));
        Running { shown, child }
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

/// A running sockdiag started by [`Sockdiag::spawn`]; killed and reaped if the test drops it early.
#[derive(Debug)]
pub struct Running {
    shown: String,
    child: Child,
}

impl Running {
    /// The process id (sockdiag's own: `ip netns exec` and `setpriv` exec it in place).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends signal `sig` (`libc::SIGINT`, say) to the running binary.
    pub fn signal(&self, sig: libc::c_int) {
        cmd::signal(self.child.id(), sig);
    }

    /// The child process, to take its stdout or stderr and read them while it runs.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Waits for the exit and collects what is left of stdout and stderr; fails the test after `limit`.
    pub fn wait(mut self, limit: Duration) -> Run {
        let stdout = reader(self.child.stdout.take());
        let stderr = reader(self.child.stderr.take());
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for sockdiag") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("`{}` did not exit within {limit:?}", self.shown);
            }
            thread::sleep(Duration::from_millis(20));
        };
        let output = Output {
            status,
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        };
        Run {
            shown: std::mem::take(&mut self.shown),
            output,
        }
    }
}

/// Reads a pipe to its end on a thread of its own (so a full pipe never blocks the child); empty if taken.
fn reader(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

    /// Standard output as text; fails the test, showing the run, when it is not UTF-8.
    pub fn stdout(&self) -> String {
        String::from_utf8(self.output.stdout.clone())
            .unwrap_or_else(|e| panic!("stdout is not UTF-8 ({e}): {self}"))
    }

    /// Standard error as text; fails the test, showing the run, when it is not UTF-8.
    pub fn stderr(&self) -> String {
        String::from_utf8(self.output.stderr.clone())
            .unwrap_or_else(|e| panic!("stderr is not UTF-8 ({e}): {self}"))
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
