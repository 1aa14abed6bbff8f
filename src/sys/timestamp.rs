//! Kernel receive timestamps (SO_TIMESTAMPNS): when a packet arrived, on the real-time clock.

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::AsFd;
use std::time::Duration;

use super::cmsg::Cmsg;
use super::sockopt;

/// Asks the kernel to stamp every received packet (SCM_TIMESTAMPNS control messages).
pub fn enable(fd: impl AsFd) -> io::Result<()> {
    sockopt::set_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)
}

/// The arrival time in an SCM_TIMESTAMPNS message, since the epoch (CLOCK_REALTIME); None for any other
/// message or a short one. Out-of-range fields are clamped, as a negative time cannot be a Duration.
pub fn parse(c: Cmsg<'_>) -> Option<Duration> {
    if c.level != libc::SOL_SOCKET
        || c.kind != libc::SCM_TIMESTAMPNS
        || c.data.len() < size_of::<libc::timespec>()
    {
        return None;
    }
    let secs = int(
        c.data,
        offset_of!(libc::timespec, tv_sec),
        size_of::<libc::time_t>(),
    )?;
    let nanos = int(
        c.data,
        offset_of!(libc::timespec, tv_nsec),
        size_of::<libc::c_long>(),
    )?;
    Some(Duration::new(
        secs.max(0) as u64,
        nanos.clamp(0, 999_999_999) as u32,
    ))
}

/// A signed native-endian integer of 4 or 8 bytes.
fn int(data: &[u8], at: usize, size: usize) -> Option<i64> {
    let bytes = data.get(at..at + size)?;
    match size {
        4 => Some(i64::from(i32::from_ne_bytes(bytes.try_into().ok()?))),
        8 => Some(i64::from_ne_bytes(bytes.try_into().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(sec: libc::time_t, nsec: libc::c_long) -> Vec<u8> {
        let ts = libc::timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        };
        // SAFETY: timespec is plain data; its bytes are read within its size.
        unsafe {
            std::slice::from_raw_parts(
                (&ts as *const libc::timespec).cast::<u8>(),
                size_of::<libc::timespec>(),
            )
        }
        .to_vec()
    }

    #[test]
    fn a_timestamp_reads_back() {
        let data = stamp(1_700_000_000, 123_456_789);
        let c = Cmsg {
            level: libc::SOL_SOCKET,
            kind: libc::SCM_TIMESTAMPNS,
            data: &data,
        };
        assert_eq!(parse(c), Some(Duration::new(1_700_000_000, 123_456_789)));
        let short = Cmsg {
            data: &data[..8],
            ..c
        };
        assert_eq!(parse(short), None);
        let other = Cmsg {
            kind: libc::SCM_TIMESTAMP,
            ..c
        };
        assert_eq!(parse(other), None);
        let bad = stamp(-5, 2_000_000_000);
        assert_eq!(
            parse(Cmsg { data: &bad, ..c }),
            Some(Duration::new(0, 999_999_999))
        );
    }
}
