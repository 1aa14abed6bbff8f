//! Socket addresses as the kernel writes them (`sockaddr_in`, `sockaddr_in6`), read from their bytes.

use std::mem::{offset_of, size_of};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// The IP socket address in the bytes of a `sockaddr_in` or `sockaddr_in6`; None for another family
/// (AF_UNSPEC: no address) or fewer bytes than the structure.
pub fn parse(bytes: &[u8]) -> Option<SocketAddr> {
    let family = u16::from_ne_bytes(bytes.get(..2)?.try_into().ok()?);
    match i32::from(family) {
        libc::AF_INET if bytes.len() >= size_of::<libc::sockaddr_in>() => {
            let port = offset_of!(libc::sockaddr_in, sin_port);
            let addr = offset_of!(libc::sockaddr_in, sin_addr);
            let ip: [u8; 4] = bytes[addr..addr + 4].try_into().ok()?;
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(ip),
                be16(bytes, port),
            )))
        }
        libc::AF_INET6 if bytes.len() >= size_of::<libc::sockaddr_in6>() => {
            let addr = offset_of!(libc::sockaddr_in6, sin6_addr);
            let ip: [u8; 16] = bytes[addr..addr + 16].try_into().ok()?;
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                be16(bytes, offset_of!(libc::sockaddr_in6, sin6_port)),
                // Kept as the kernel stores them, as std and socket2 do.
                ne32(bytes, offset_of!(libc::sockaddr_in6, sin6_flowinfo)),
                ne32(bytes, offset_of!(libc::sockaddr_in6, sin6_scope_id)),
            )))
        }
        _ => None,
    }
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn ne32(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::SockAddr;

    /// The bytes socket2 (and so the C library) lays out for an address.
    fn c_bytes(sa: SocketAddr) -> Vec<u8> {
        let c = SockAddr::from(sa);
        // SAFETY: as_ptr points at the SockAddr's storage, of which len bytes are the address.
        unsafe { std::slice::from_raw_parts(c.as_ptr().cast::<u8>(), c.len() as usize) }.to_vec()
    }

    #[test]
    fn both_families_read_back_as_written() {
        for text in ["198.51.100.7:53", "[2001:db8::9]:8080", "[fe80::1%3]:0"] {
            let sa: SocketAddr = text.parse().unwrap();
            assert_eq!(parse(&c_bytes(sa)), Some(sa), "{text}");
        }
        let v6 = SocketAddr::V6(SocketAddrV6::new("2001:db8::1".parse().unwrap(), 1, 0x12345, 7));
        assert_eq!(parse(&c_bytes(v6)), Some(v6));
    }

    #[test]
    fn short_unspecified_or_foreign_is_none() {
        let v4 = c_bytes("198.51.100.7:53".parse().unwrap());
        assert_eq!(parse(&v4[..v4.len() - 1]), None);
        let v6 = c_bytes("[2001:db8::9]:1".parse().unwrap());
        assert_eq!(parse(&v6[..20]), None);
        assert_eq!(parse(&[0; 16]), None);
        assert_eq!(parse(&[]), None);
        let mut unix = vec![0u8; 16];
        unix[..2].copy_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
        assert_eq!(parse(&unix), None);
    }
}
