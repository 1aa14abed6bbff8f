//! The binary's command-line surface: help, version, and every bad-input path (exit code and message). No network.

use crate::support::{self, sockdiag};

/// Asserts a usage failure: exit 2, exactly one line on stderr starting with "sockdiag: ", containing each fragment.
fn assert_usage(args: &[&str], fragments: &[&str]) {
    let out = sockdiag(args).run();
    let err = out.stderr();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: expected one line, got {err:?}");
    assert!(err.starts_with("sockdiag: "), "{args:?}: {err}");
    for f in fragments {
        assert!(err.contains(f), "{args:?}: {err:?} lacks {f:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{args:?}: stdout {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn help_and_version_exit_zero_on_stdout() {
    for args in [
        &["--help"][..],
        &["resolve", "--help"],
        &["--version"],
        &["resolve", "-h"],
    ] {
        let out = sockdiag(args).run();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    let help = sockdiag(&["--help"]).run().stdout();
    assert!(help.contains("Exit codes"), "{help}");
    assert!(help.contains("resolve"), "{help}");
    let version = sockdiag(&["--version"]).run().stdout();
    assert_eq!(version.trim(), format!("sockdiag {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn missing_subcommand_is_usage() {
    sockdiag(&[]).exits(2);
}

#[test]
fn unknown_flags_and_values_are_one_line_usage_errors() {
    assert_usage(&["resolve", "localhost", "--bogus"], &["--bogus"]);
    assert_usage(
        &["resolve", "localhost", "--socket-type", "seq"],
        &["'seq'", "stream, dgram, raw, any"],
    );
    assert_usage(
        &["resolve", "localhost", "--protocol", "sctp"],
        &["'sctp'", "tcp, udp"],
    );
    assert_usage(
        &["resolve", "localhost", "--color", "sometimes"],
        &["auto, always, never"],
    );
    assert_usage(&["resolve", "localhost", "--parallel", "0"], &["--parallel"]);
    assert_usage(&["resolve", "-4", "-6", "localhost"], &["-4", "-6"]);
    assert_usage(&["resolve", "localhost", "--ai-all"], &["--ai-v4mapped"]);
    assert_usage(&["resolve"], &["NAME"]);
    assert_usage(&["nosuchcommand"], &["nosuchcommand"]);
}

#[test]
fn malformed_names_are_rejected_before_any_lookup() {
    assert_usage(
        &["resolve", "a..b"],
        &["bad name 'a..b'", "empty label", "accepted"],
    );
    assert_usage(&["resolve", ""], &["bad name", "empty"]);
    assert_usage(&["resolve", "has space"], &["bad name"]);
    let long_label = "x".repeat(64);
    assert_usage(&["resolve", &long_label], &["label of 64 characters"]);
    assert_usage(
        &["resolve", "127.0.0.1%lo"],
        &["'127.0.0.1%lo'", "only with an IPv6"],
    );
    assert_usage(
        &["resolve", "fe80::1%nosuchif9"],
        &["unknown scope 'nosuchif9'", "interface"],
    );
}

#[test]
fn contradictory_hints_and_bad_services_are_usage_errors() {
    assert_usage(
        &[
            "resolve",
            "localhost",
            "--socket-type",
            "dgram",
            "--protocol",
            "tcp",
        ],
        &["--protocol tcp goes with --socket-type"],
    );
    assert_usage(
        &[
            "resolve",
            "localhost",
            "--socket-type",
            "stream",
            "--protocol",
            "udp",
        ],
        &["--protocol udp"],
    );
    assert_usage(
        &["resolve", "localhost", "--service", "no-such-svc"],
        &["unknown service 'no-such-svc'", "/etc/services"],
    );
    assert_usage(&["resolve", "localhost", "--service", "70000"], &["0 to 65535"]);
    assert_usage(
        &["resolve", "--ai-numerichost", "localhost"],
        &["--ai-numerichost", "'localhost'"],
    );
    assert_usage(&["resolve", "--ai-passive"], &["--service"]);
}

#[test]
fn json_errors_are_json_on_stdout_and_one_line_on_stderr() {
    for args in [
        &["resolve", "a..b", "--json"][..],
        &["resolve", "--json", "--socket-type", "x", "y"],
        &["probe", "--format", "json", "127.0.0.1", "70000"],
        &["trace", "--json", "-q", "0", "127.0.0.1"],
        &["listen", "--format=ndjson", "99999"],
    ] {
        let out = sockdiag(args).exits(2);
        assert_eq!(out.stderr().lines().count(), 1);
        let doc = out.json();
        support::schema::assert_valid("error", &doc);
        assert_eq!(doc["error"]["kind"], "usage");
        assert_eq!(doc["error"]["exit_code"], 2);
        assert!(doc["error"]["message"].as_str().unwrap().len() > 5);
    }
}

#[test]
fn long_help_shows_the_long_text_every_example_and_the_exit_codes() {
    use sockdiag::cli::examples;
    for (name, list) in [
        ("resolve", examples::RESOLVE),
        ("probe", examples::PROBE),
        ("trace", examples::TRACE),
        ("listen", examples::LISTEN),
    ] {
        let long = sockdiag(&[name, "--help"]).exits(0).stdout();
        let short = sockdiag(&[name, "-h"]).exits(0).stdout();
        assert!(
            long.len() > short.len() + 500,
            "{name} --help is no longer than -h"
        );
        assert!(
            long.contains("Examples:") && long.contains("Exit codes:"),
            "{name}:\n{long}"
        );
        for e in list {
            assert!(long.contains(e.command), "{name} --help lacks {}", e.command);
        }
    }
}

#[test]
fn what_cannot_be_one_host_is_a_usage_error_before_any_lookup() {
    for (args, says) in [
        (
            &["trace", "203.0.113.0/24"][..],
            "a CIDR block; trace follows the path to one host",
        ),
        (
            &["trace", "198.51.100.1-20"],
            "an address range; trace follows the path to one host",
        ),
        (&["trace", "::1x"], "not an IPv6 address"),
        (&["trace", "a/b"], "a '/' belongs only in a CIDR block"),
        (&["trace", "203.0.113.0/33"], "'/33' is not a prefix length"),
        (&["probe", "203.0.113.0/33", "80"], "'/33' is not a prefix length"),
        (&["probe", "a/b", "80"], "a '/' belongs only in a CIDR block"),
        // probe takes blocks as targets (tests/probe_targets.rs); a range it cannot take is still refused.
        (&["probe", "203.0.113.1-300", "80"], "is not an octet"),
        (
            &["resolve", "203.0.113.0/24"],
            "a CIDR block; resolve looks up one host",
        ),
    ] {
        let out = sockdiag(args).exits(2);
        let err = out.stderr();
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            err.contains(&format!("see 'sockdiag {} --help'", args[0])),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}
