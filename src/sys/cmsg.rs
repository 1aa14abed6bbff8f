//! Control messages (`struct cmsghdr`) as bytes: walking the ones recvmsg returned, encoding one for sendmsg.
//!
//! Pure code over byte buffers. The layout is the kernel's: `size_t cmsg_len; int cmsg_level;
//! int cmsg_type;`, then the data, each message padded to the alignment of `size_t`. Reading it from bytes
//! needs no CMSG_* macro and no raw pointer, and a message can never be read past what the kernel wrote.

use std::mem::{offset_of, size_of};

/// One control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cmsg<'a> {
    /// `cmsg_level`: the protocol (SOL_SOCKET, SOL_IP, SOL_IPV6, ...).
    pub level: i32,
    /// `cmsg_type`: what it carries (SCM_TIMESTAMPNS, IP_RECVERR, IP_PKTINFO, ...).
    pub kind: i32,
    /// Its data: never more than the buffer holds, so a truncated message (MSG_CTRUNC) is short, not overread.
    pub data: &'a [u8],
}

/// Control messages are aligned like `size_t`.
const ALIGN: usize = size_of::<usize>();
/// The header, padded: `CMSG_LEN(0)`.
const HEADER: usize = align(size_of::<libc::cmsghdr>());
const LEVEL: usize = offset_of!(libc::cmsghdr, cmsg_level);
const KIND: usize = offset_of!(libc::cmsghdr, cmsg_type);

const fn align(len: usize) -> usize {
    (len + ALIGN - 1) & !(ALIGN - 1)
}

/// Bytes a message with `data_len` bytes of data takes in a control buffer, padding included (`CMSG_SPACE`).
pub const fn space(data_len: usize) -> usize {
    HEADER + align(data_len)
}

/// The control messages in the filled part of a control buffer (its first `msg_controllen` bytes), in order.
pub fn iter(control: &[u8]) -> Iter<'_> {
    Iter { rest: control }
}

/// Iterator over the messages of a control buffer; see [`iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Iter<'a> {
    type Item = Cmsg<'a>;

    fn next(&mut self) -> Option<Cmsg<'a>> {
        let rest = std::mem::take(&mut self.rest);
        let header = rest.get(..HEADER)?;
        let len = usize::from_ne_bytes(header[..ALIGN].try_into().ok()?);
        // A length shorter than its own header ends the walk, as CMSG_NXTHDR does.
        if len < HEADER {
            return None;
        }
        let level = i32::from_ne_bytes(header[LEVEL..LEVEL + 4].try_into().ok()?);
        let kind = i32::from_ne_bytes(header[KIND..KIND + 4].try_into().ok()?);
        let data = &rest[HEADER..len.min(rest.len())];
        // A length near usize::MAX would wrap when aligned and walk the same message forever: it ends the walk.
        let next = len.checked_next_multiple_of(ALIGN).unwrap_or(usize::MAX);
        self.rest = rest.get(next..).unwrap_or_default();
        Some(Cmsg { level, kind, data })
    }
}

/// Writes one control message into the start of `out` and returns the bytes it takes (its `CMSG_SPACE`,
/// which is what `msg_controllen` must say); None when `out` is too small.
pub fn encode(level: i32, kind: i32, data: &[u8], out: &mut [u8]) -> Option<usize> {
    let used = space(data.len());
    let out = out.get_mut(..used)?;
    out.fill(0);
    out[..ALIGN].copy_from_slice(&(HEADER + data.len()).to_ne_bytes());
    out[LEVEL..LEVEL + 4].copy_from_slice(&level.to_ne_bytes());
    out[KIND..KIND + 4].copy_from_slice(&kind.to_ne_bytes());
    out[HEADER..HEADER + data.len()].copy_from_slice(data);
    Some(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_length_near_the_largest_ends_the_walk_after_one_message() {
        // Found by fuzzing: aligning such a length wrapped to 0, and the walk returned the same message forever.
        let mut buf = [0u8; 24];
        buf[..ALIGN].copy_from_slice(&(usize::MAX - 2).to_ne_bytes());
        let all: Vec<_> = iter(&buf).take(3).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].data, &buf[HEADER..]);
    }

    #[test]
    fn sizes_match_the_c_macros() {
        for n in [0u32, 1, 4, 12, 16, 20, 28] {
            // SAFETY: CMSG_LEN and CMSG_SPACE are arithmetic on their argument.
            let (len, sp) = unsafe { (libc::CMSG_LEN(n), libc::CMSG_SPACE(n)) };
            assert_eq!(HEADER + n as usize, len as usize);
            assert_eq!(space(n as usize), sp as usize);
        }
    }

    #[test]
    fn encoded_messages_walk_back_in_order() {
        let mut buf = [0u8; 128];
        let a = encode(libc::SOL_IP, libc::IP_PKTINFO, &[1, 2, 3, 4, 5], &mut buf).unwrap();
        let b = encode(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &[9; 16], &mut buf[a..]).unwrap();
        let all: Vec<_> = iter(&buf[..a + b]).collect();
        assert_eq!(
            all,
            [
                Cmsg {
                    level: libc::SOL_IP,
                    kind: libc::IP_PKTINFO,
                    data: &[1, 2, 3, 4, 5]
                },
                Cmsg {
                    level: libc::SOL_SOCKET,
                    kind: libc::SCM_TIMESTAMPNS,
                    data: &[9; 16]
                },
            ]
        );
        assert!(encode(0, 0, &[0; 200], &mut buf).is_none());
    }

    #[test]
    fn the_walk_agrees_with_cmsg_nxthdr() {
        let mut buf = [0u64; 16]; // aligned for cmsghdr, as the C macros need
        let bytes: &mut [u8] = as_bytes(&mut buf);
        let a = encode(libc::SOL_IPV6, libc::IPV6_PKTINFO, &[7; 20], bytes).unwrap();
        let b = encode(libc::SOL_IP, libc::IP_RECVERR, &[3; 3], &mut bytes[a..]).unwrap();
        // SAFETY: msghdr is plain data; all zeroes is an empty header.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = bytes.as_mut_ptr().cast();
        msg.msg_controllen = (a + b) as _;
        let mut seen = Vec::new();
        // SAFETY: msg_control points at a+b initialised, aligned bytes; the macros stay within them.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let len = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = std::slice::from_raw_parts(libc::CMSG_DATA(c), len).to_vec();
                seen.push(((*c).cmsg_level, (*c).cmsg_type, data));
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let ours: Vec<_> = iter(&bytes[..a + b])
            .map(|c| (c.level, c.kind, c.data.to_vec()))
            .collect();
        assert_eq!(ours, seen);
    }

    /// The bytes of a u64 buffer (alignment for the C macros without a second dependency).
    fn as_bytes(buf: &mut [u64]) -> &mut [u8] {
        // SAFETY: u8 has no alignment or validity requirement; the length covers exactly the same bytes.
        unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), std::mem::size_of_val(buf)) }
    }

    #[test]
    fn truncated_or_malformed_buffers_end_the_walk() {
        let mut buf = [0u8; 64];
        let a = encode(libc::SOL_IP, libc::IP_PKTINFO, &[5; 12], &mut buf).unwrap();
        // Cut inside the data (as MSG_CTRUNC leaves it): the data is short, never past the buffer.
        let cut: Vec<_> = iter(&buf[..HEADER + 4]).collect();
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].data, &[5; 4]);
        // Cut inside the header, or an empty buffer: nothing.
        assert_eq!(iter(&buf[..HEADER - 1]).count(), 0);
        assert_eq!(iter(&[]).count(), 0);
        // A length below the header size stops the walk.
        let mut bad = buf;
        bad[..ALIGN].copy_from_slice(&3usize.to_ne_bytes());
        assert_eq!(iter(&bad[..a]).count(), 0);
        // A length past the buffer: the data stops at its end, and the walk ends.
        let mut long = buf;
        long[..ALIGN].copy_from_slice(&1000usize.to_ne_bytes());
        let only: Vec<_> = iter(&long[..a]).collect();
        assert_eq!((only.len(), only[0].data.len()), (1, a - HEADER));
    }
}
