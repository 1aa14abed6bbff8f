//! Running external commands with a deadline, so no lab step can hang a test run.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Deadline for lab plumbing commands (`ip`, `nft`, `sysctl`): generous, they take milliseconds.
pub const PLUMBING_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `cmd` to completion with `input` on stdin; kills it and panics after `timeout`.
pub fn output_with_timeout(mut cmd: Command, input: Option<&[u8]>, timeout: Duration) -> Output {
    // A fixed C locale keeps tool messages (ping, nc, socat) stable for assertions.
    cmd.env("LC_ALL", "C")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("lab: cannot start {shown}: {e}"));
    let pid = child.id();
    if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
        let data = data.to_vec();
        // A separate writer avoids a deadlock when the child fills its stdout first.
        thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        let _ = out_tx.send(v);
    });
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        let _ = err_tx.send(v);
    });
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(timeout) {
        Ok(status) => status.expect("wait for child"),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid, which is not reaped until the waiter returns.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            let _ = rx.recv();
            panic!("lab: {shown} did not finish within {timeout:?}");
        }
    };
    // A daemon forked by the child may keep the pipes open: do not wait for it forever.
    let grace = Duration::from_secs(2);
    Output {
        status,
        stdout: out_rx.recv_timeout(grace).unwrap_or_default(),
        stderr: err_rx.recv_timeout(grace).unwrap_or_default(),
    }
}

/// Sends signal `sig` to process `pid` (a child of this test, not yet reaped), panicking when it cannot.
pub fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) takes any pid and signal number; callers pass a child they have not reaped, so the
    // pid cannot have been reused by another process.
    let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}): {}", std::io::Error::last_os_error());
}

/// Runs a command and panics with its stderr unless it succeeds; returns stdout as text.
pub fn run_ok(cmd: Command, input: Option<&[u8]>) -> String {
    let shown = format!("{cmd:?}");
    let out = output_with_timeout(cmd, input, PLUMBING_TIMEOUT);
    if !out.status.success() {
        panic!(
            "lab: {shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `Command` for `program` with `args`, for one-line call sites.
pub fn command(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

/// Stdout and stderr of an `Output` as one lossy string, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
