//! getifaddrs: the addresses configured on this host's interfaces.
//!
//! nix's `ifaddrs::getifaddrs` owns the unsafe call and frees the list; this module only keeps the IP addresses.

use std::io;
use std::net::IpAddr;

/// Every IPv4 and IPv6 address configured on an interface of this host, in the order getifaddrs lists them.
pub fn addresses() -> io::Result<Vec<IpAddr>> {
    let list = nix::ifaddrs::getifaddrs().map_err(io::Error::from)?;
    Ok(list
        .filter_map(|ifa| ifa.address)
        .filter_map(|storage| {
            storage
                .as_sockaddr_in()
                .map(|sin| IpAddr::V4(sin.ip()))
                .or_else(|| storage.as_sockaddr_in6().map(|sin6| IpAddr::V6(sin6.ip())))
        })
        .collect())
}

/// Every IPv4 and IPv6 network configured on an interface of this host: address and prefix length from its
/// netmask (`198.51.100.1/30`), for telling which targets are on a local link.
pub fn networks() -> io::Result<Vec<(IpAddr, u8)>> {
    let list = nix::ifaddrs::getifaddrs().map_err(io::Error::from)?;
    Ok(list
        .filter_map(|ifa| {
            let (addr, mask) = (ifa.address?, ifa.netmask?);
            if let (Some(a), Some(m)) = (addr.as_sockaddr_in(), mask.as_sockaddr_in()) {
                return Some((IpAddr::V4(a.ip()), u32::from(m.ip()).count_ones() as u8));
            }
            let (a, m) = (addr.as_sockaddr_in6()?, mask.as_sockaddr_in6()?);
            Some((IpAddr::V6(a.ip()), u128::from(m.ip()).count_ones() as u8))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_succeeds() {
        // Which addresses exist depends on the host; that the list can be read and walked does not.
        assert!(addresses().is_ok());
        // Every host has loopback: 127.0.0.1/8.
        let nets = networks().unwrap();
        assert!(nets.contains(&(IpAddr::from([127, 0, 0, 1]), 8)), "{nets:?}");
    }
}
