//! Deciding whether the lab can run here: root, usable `ip netns`, and the tools it drives.

use std::io::Write as _;
use std::process::Command;
use std::sync::OnceLock;

use super::cmd;
use super::netns;

/// Environment variable that turns a skip into a failure (set it in CI).
pub const REQUIRE_ENV: &str = "SOCKDIAG_REQUIRE_LAB";

/// Tools every root lab test may use; `scripts/lab-deps` installs them.
pub const LAB_TOOLS: &[&str] = &[
    "ip", "nft", "sysctl", "socat", "nsd", "dig", "ping", "nc", "getent", "ss",
];

/// True when the lab can run; otherwise prints one `SKIP` line (or panics under `SOCKDIAG_REQUIRE_LAB=1`).
pub fn lab_or_skip(test: &str) -> bool {
    match lab_status() {
        Ok(()) => true,
        Err(why) => skip(test, why),
    }
}

/// True when `tool` is on PATH; otherwise skips (or fails) like [`lab_or_skip`].
pub fn tool_or_skip(test: &str, tool: &str) -> bool {
    if have_tool(tool) {
        true
    } else {
        skip(test, &format!("needs `{tool}` (install with scripts/lab-deps)"))
    }
}

/// True when the DNS pieces that need no root (nsd on a loopback port, dig) are installed.
pub fn dns_or_skip(test: &str) -> bool {
    tool_or_skip(test, "nsd") && tool_or_skip(test, "dig")
}

/// True when running as root; otherwise skips (or fails) like [`lab_or_skip`].
pub fn root_or_skip(test: &str) -> bool {
    if is_root() { true } else { skip(test, "needs root") }
}

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether `SOCKDIAG_REQUIRE_LAB=1` is set.
pub fn lab_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// Prints one `SKIP test: why` line and returns false; panics instead under `SOCKDIAG_REQUIRE_LAB=1`.
pub fn skip(test: &str, why: &str) -> bool {
    if lab_required() {
        panic!("{test}: {why}, and {REQUIRE_ENV}=1 forbids skipping");
    }
    // Straight to fd 2: the test harness captures eprintln!, and a skip must be visible.
    // One write call, so lines from parallel tests do not interleave.
    let _ = std::io::stderr().write_all(format!("SKIP {test}: {why}\n").as_bytes());
    false
}

/// Whether an executable named `tool` is on PATH (or in the sbin directories root uses).
pub fn have_tool(tool: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin"])
        .any(|dir| std::path::Path::new(dir).join(tool).is_file())
}

/// Checked once per test process: root, tools present, and `ip netns add` really works.
fn lab_status() -> Result<(), &'static str> {
    static STATUS: OnceLock<Result<(), String>> = OnceLock::new();
    STATUS
        .get_or_init(|| {
            if !is_root() {
                return Err("needs root for network namespaces".into());
            }
            let missing: Vec<&str> = LAB_TOOLS.iter().copied().filter(|t| !have_tool(t)).collect();
            if !missing.is_empty() {
                return Err(format!(
                    "missing lab tools {} (install with scripts/lab-deps)",
                    missing.join(", ")
                ));
            }
            netns::reap_stale();
            let probe = format!("sdg-{}-chk", std::process::id());
            let out = cmd::output_with_timeout(
                cmd::command("ip", &["netns", "add", &probe]),
                None,
                cmd::PLUMBING_TIMEOUT,
            );
            let _ = Command::new("ip").args(["netns", "del", &probe]).output();
            if !out.status.success() {
                return Err(format!(
                    "`ip netns add` does not work here: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Ok(())
        })
        .as_ref()
        .map(|_| ())
        .map_err(|e| e.as_str())
}
