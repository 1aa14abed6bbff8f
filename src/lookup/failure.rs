//! getaddrinfo and getnameinfo failures in plain words, and the one mapping of them onto the exit codes.

use serde::Serialize;

use crate::error::Error;
use crate::sys::gai::GaiError;

/// A getaddrinfo or getnameinfo failure in plain words.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GaiFailure {
    /// The EAI_* constant's name.
    pub code: &'static str,
    /// What it means for the user.
    pub message: String,
    /// How serious it is.
    #[serde(skip)]
    pub class: FailureClass,
}

/// How a lookup failure maps onto the exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The name or address is unknown or has no data: a negative answer.
    Negative,
    /// The hints or service were unacceptable.
    Usage,
    /// Memory or a system call failed.
    System,
}

/// glibc's value, defined only under _GNU_SOURCE and so missing from the libc crate.
const EAI_ADDRFAMILY: i32 = -9;

impl GaiFailure {
    /// This failure as an error with the exit code its class calls for: `doing` says what was being looked up
    /// (e.g. "cannot resolve 'web.lab.test'"), then comes the meaning and the EAI_* name.
    pub fn to_error(&self, doing: &str) -> Error {
        let message = format!("{doing}: {} ({})", self.message, self.code);
        match self.class {
            FailureClass::Negative => Error::Negative(message),
            FailureClass::Usage => Error::usage(message),
            FailureClass::System => Error::System(message),
        }
    }

    /// Names a failed call; `reverse` tells getnameinfo's EAI_NONAME (no name for an address) apart.
    pub(super) fn from_gai(err: &GaiError, reverse: bool) -> Self {
        match err {
            GaiError::Code { code, os } => Self::from_code(*code, os, reverse),
            GaiError::Unreadable(e) => GaiFailure {
                code: "EAI_FAMILY",
                message: format!("unreadable result: {e}"),
                class: FailureClass::System,
            },
        }
    }

    fn from_code(code: i32, os: &std::io::Error, reverse: bool) -> Self {
        use FailureClass::*;
        let (name, message, class) = match code {
            libc::EAI_NONAME if reverse => ("EAI_NONAME", "no name for this address", Negative),
            libc::EAI_NONAME => ("EAI_NONAME", "no such name (or it has no address)", Negative),
            libc::EAI_NODATA => ("EAI_NODATA", "the name exists but has no address", Negative),
            EAI_ADDRFAMILY => (
                "EAI_ADDRFAMILY",
                "the name has no address of the requested family",
                Negative,
            ),
            libc::EAI_AGAIN => (
                "EAI_AGAIN",
                "temporary failure in name resolution: the DNS server did not answer or failed (SERVFAIL)",
                Negative,
            ),
            libc::EAI_FAIL => (
                "EAI_FAIL",
                "non-recoverable failure in name resolution (the server refused or the answer was bad)",
                Negative,
            ),
            libc::EAI_SERVICE => (
                "EAI_SERVICE",
                "the service is not known for this socket type",
                Usage,
            ),
            libc::EAI_SOCKTYPE => ("EAI_SOCKTYPE", "socket type not supported", Usage),
            libc::EAI_FAMILY => ("EAI_FAMILY", "address family not supported", Usage),
            libc::EAI_BADFLAGS => ("EAI_BADFLAGS", "invalid combination of AI_* flags", Usage),
            libc::EAI_MEMORY => ("EAI_MEMORY", "out of memory", System),
            libc::EAI_OVERFLOW => ("EAI_OVERFLOW", "result too long for the buffer", System),
            libc::EAI_SYSTEM => return Self::system("EAI_SYSTEM", format!("system error: {os}")),
            n => return Self::system("EAI_UNKNOWN", format!("unknown resolver error {n}")),
        };
        GaiFailure {
            code: name,
            message: message.to_string(),
            class,
        }
    }

    fn system(code: &'static str, message: String) -> Self {
        GaiFailure {
            code,
            message,
            class: FailureClass::System,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> GaiFailure {
        GaiFailure::from_code(code, &std::io::Error::from_raw_os_error(libc::EIO), false)
    }

    #[test]
    fn classes_choose_the_exit_code() {
        let doing = "cannot resolve 'x.test'";
        let err = failure(libc::EAI_NONAME).to_error(doing);
        assert_eq!(err.exit_code(), 1);
        assert_eq!(
            err.to_string(),
            "cannot resolve 'x.test': no such name (or it has no address) (EAI_NONAME)"
        );
        assert_eq!(failure(libc::EAI_SERVICE).to_error(doing).exit_code(), 2);
        assert_eq!(failure(libc::EAI_MEMORY).to_error(doing).exit_code(), 3);
        let system = failure(libc::EAI_SYSTEM);
        assert_eq!(system.class, FailureClass::System);
        assert!(system.message.starts_with("system error: "), "{}", system.message);
    }

    #[test]
    fn reverse_lookups_say_no_name() {
        let os = std::io::Error::from_raw_os_error(libc::EIO);
        let f = GaiFailure::from_code(libc::EAI_NONAME, &os, true);
        assert_eq!(
            (f.code, f.message.as_str()),
            ("EAI_NONAME", "no name for this address")
        );
    }
}
