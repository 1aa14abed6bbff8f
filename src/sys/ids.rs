//! User and group ids: who the process runs as, and becoming another user for good.

use std::io;

use rustix::process::{geteuid, getgid, getuid};

/// The real user id.
pub fn uid() -> u32 {
    getuid().as_raw()
}

/// The effective user id.
pub fn euid() -> u32 {
    geteuid().as_raw()
}

/// The real group id.
pub fn gid() -> u32 {
    getgid().as_raw()
}

/// Becomes `uid`/`gid` with `gid` as the only group, real, effective and saved alike, and checks it took.
/// These are the C library's calls on purpose: they change every thread of the process, where the raw
/// system calls would change only the calling one.
pub fn switch_user(uid: u32, gid: u32) -> io::Result<()> {
    // Order matters: groups and gid need privilege, so they go before the uid.
    // SAFETY: setgroups reads one gid from a live local; the others take plain integers.
    unsafe {
        check(libc::setgroups(1, &gid))?;
        check(libc::setresgid(gid, gid, gid))?;
        check(libc::setresuid(uid, uid, uid))?;
    }
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: getresuid writes three uids into live locals.
    check(unsafe { libc::getresuid(&mut r, &mut e, &mut s) })?;
    if r != uid || e != uid || s != uid {
        return Err(io::Error::other("user ids did not change"));
    }
    Ok(())
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_c_library() {
        // SAFETY: these calls have no preconditions.
        let (u, e, g) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid()) };
        assert_eq!((uid(), euid(), gid()), (u, e, g));
    }
}
