//! Fuzz target: what recvmsg hands back beside the data — control messages (cmsghdr walking), the error queue's
//! `sock_extended_err` with its offender address, receive timestamps, packet info, a Unix sender's path and
//! SCM_CREDENTIALS — must never panic, never read past the buffer, and encode/walk must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source files the CLI compiles, without the rest of the crate.
#[path = "../../src/sys/cmsg.rs"]
#[allow(dead_code)]
mod cmsg;
#[path = "../../src/sys/errqueue.rs"]
#[allow(dead_code)]
mod errqueue;
#[path = "../../src/sys/msg.rs"]
#[allow(dead_code)]
mod msg;
#[path = "../../src/sys/pktinfo.rs"]
#[allow(dead_code)]
mod pktinfo;
#[path = "../../src/sys/sockaddr.rs"]
#[allow(dead_code)]
mod sockaddr;
#[path = "../../src/sys/sockopt.rs"]
#[allow(dead_code)]
mod sockopt;
#[path = "../../src/sys/timestamp.rs"]
#[allow(dead_code)]
mod timestamp;
#[path = "../../src/sys/unixmsg.rs"]
#[allow(dead_code)]
mod unixmsg;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    // Every message lies inside the buffer: together they never take more than it holds.
    let mut taken = 0;
    for m in cmsg::iter(bytes) {
        taken += cmsg::space(0) + m.data.len();
        if let Some((err, _info)) = errqueue::parse_with_info(m) {
            assert!(m.level == libc::SOL_IP || m.level == libc::SOL_IPV6);
            assert!(m.data.len() >= 16, "{err:?}");
        }
        let _ = timestamp::parse(m);
        let _ = pktinfo::parse(m);
    }
    assert!(taken <= bytes.len());
    let _ = sockaddr::parse(bytes);
    // A Unix sender: the first `selector` bytes are the address's sun_path, the rest the control messages.
    let split = usize::from(selector).min(bytes.len());
    let (path, _cred) = unixmsg::sender(&bytes[..split], &bytes[split..]);
    if let Some(path) = path {
        let path = path.as_os_str().as_encoded_bytes();
        assert!(!path.is_empty() && path.len() <= split && !path.contains(&0));
    }
    // A message encoded from the input walks back as itself.
    let mut out = vec![0u8; cmsg::space(bytes.len())];
    let level = i32::from(selector);
    let used = cmsg::encode(level, libc::IP_RECVERR, bytes, &mut out).expect("room for it");
    let back: Vec<_> = cmsg::iter(&out[..used]).collect();
    assert_eq!(back.len(), 1);
    assert_eq!(
        (back[0].level, back[0].kind, back[0].data),
        (level, libc::IP_RECVERR, bytes)
    );
});
