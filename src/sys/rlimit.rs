//! The open-files limit (RLIMIT_NOFILE): probe and listen raise it so many sockets can be open at once.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises the soft open-files limit toward the hard one, but not past `cap`, and returns the soft limit now
/// in force (the old one when raising was refused). Unlimited counts as `u64::MAX`.
pub fn raise_open_files(cap: u64) -> u64 {
    let lim = getrlimit(Resource::Nofile);
    let soft = lim.current.unwrap_or(u64::MAX);
    let hard = lim.maximum.unwrap_or(u64::MAX);
    let wanted = hard.min(cap);
    if wanted > soft {
        let raised = Rlimit {
            current: unlimited_as_none(wanted),
            maximum: lim.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return wanted;
        }
    }
    soft
}

fn unlimited_as_none(n: u64) -> Option<u64> {
    (n != u64::MAX).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_never_lowers_and_stays_under_the_hard_limit() {
        let before = getrlimit(Resource::Nofile);
        let soft = raise_open_files(1 << 12);
        assert!(soft >= before.current.unwrap_or(u64::MAX).min(1 << 12));
        assert!(soft <= before.maximum.unwrap_or(u64::MAX));
        // A cap below the current soft limit changes nothing.
        assert_eq!(raise_open_files(1), soft);
    }
}
