//! Opening a TUN device (IFF_TUN | IFF_NO_PI) inside a namespace.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;

use crate::support::netns::Netns;

/// Creates TUN device `name` inside `ns`; the device lives as long as the returned file.
pub fn open_in(ns: &Netns, name: &str) -> File {
    assert!(
        name.len() < libc::IFNAMSIZ,
        "lab: interface name too long: {name}"
    );
    // The device belongs to the namespace of the thread that creates it.
    ns.enter(|| {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .unwrap_or_else(|e| panic!("lab: open /dev/net/tun: {e}"));
        // struct ifreq: 16-byte name, then the flags as a C short.
        let mut ifr = [0u8; 40];
        ifr[..name.len()].copy_from_slice(name.as_bytes());
        let flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
        ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
        // SAFETY: TUNSETIFF reads and writes a struct ifreq, which `ifr` is large enough to hold.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, ifr.as_mut_ptr()) };
        assert_eq!(
            rc,
            0,
            "lab: TUNSETIFF {name}: {}",
            std::io::Error::last_os_error()
        );
        file
    })
}
