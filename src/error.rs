//! The one error type: what was being done, to what, and why it failed; and the exit codes.

use std::io;

/// Documented exit codes, shared by every subcommand.
pub mod exit {
    /// Everything answered as hoped.
    pub const OK: u8 = 0;
    /// A negative result: a closed or filtered port, NXDOMAIN, target not reached.
    pub const NEGATIVE: u8 = 1;
    /// Bad usage or input.
    pub const USAGE: u8 = 2;
    /// A system or permission problem.
    pub const SYSTEM: u8 = 3;
    /// Interrupted (Ctrl-C, SIGINT): 128 + 2, as shells report it.
    pub const INTERRUPTED: u8 = 130;
}

/// How a command that ran to completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything answered as hoped (exit 0).
    Success,
    /// The command worked but the answer is negative (exit 1).
    Negative,
    /// The run stopped early for a system reason; its partial report was printed (exit 3).
    Stopped,
    /// Ctrl-C ended the run; its partial report was printed (exit 130).
    Interrupted,
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => exit::OK,
            Outcome::Negative => exit::NEGATIVE,
            Outcome::Stopped => exit::SYSTEM,
            Outcome::Interrupted => exit::INTERRUPTED,
        }
    }

    /// Negative when the condition holds, success otherwise.
    pub fn negative_if(cond: bool) -> Self {
        if cond { Outcome::Negative } else { Outcome::Success }
    }
}

/// Everything that stops a command before it can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something malformed or contradictory.
    #[error("{0}")]
    Usage(String),
    /// A system call failed while doing `context`.
    #[error("{context}: {}", plain_io(.source))]
    Io {
        /// What was being done, to what address.
        context: String,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// A system or permission problem that is not a plain io::Error.
    #[error("{0}")]
    System(String),
    /// A negative answer that leaves nothing to report (a target name that does not resolve): exit 1.
    #[error("{0}")]
    Negative(String),
}

/// Shorthand for results carrying [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A bad-input error with a message saying what was wrong and what is accepted.
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// Wraps an io::Error with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The exit code documented for this kind of error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Io { .. } | Error::System(_) => exit::SYSTEM,
            Error::Negative(_) => exit::NEGATIVE,
        }
    }

    /// A short machine-readable kind, used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::Io { .. } => "io",
            Error::System(_) => "system",
            Error::Negative(_) => "negative",
        }
    }

    /// Extra lines shown with `-v`: the OS error number and kind behind the message.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::Io { source, .. } => Some(match source.raw_os_error() {
                Some(n) => format!("os error {n} ({:?})", source.kind()),
                None => format!("{:?}", source.kind()),
            }),
            _ => None,
        }
    }
}

/// An io::Error's message without the "(os error N)" suffix Rust appends; `-v` shows the number.
pub fn plain_io(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Adds the "what was being done" context to io results.
pub trait Context<T> {
    /// Attaches a lazily built context string.
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(what(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_name_context_and_hide_os_number() {
        let err = Error::io("binding 127.0.0.1:80", io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(err.to_string(), "binding 127.0.0.1:80: Permission denied");
        assert_eq!(err.exit_code(), exit::SYSTEM);
        assert!(err.detail().unwrap().contains("os error 13"));
    }

    #[test]
    fn usage_errors_exit_2() {
        assert_eq!(Error::usage("bad").exit_code(), 2);
        assert_eq!(Outcome::negative_if(true).exit_code(), 1);
        assert_eq!(Outcome::negative_if(false).exit_code(), 0);
    }
}
