//! `struct tcp_info` read by length: the kernel has grown it many times, so each field is taken only when the bytes
//! the kernel sent reach it, never by casting a fixed struct. Offsets from linux/tcp.h.

use serde::Serialize;

/// The parts of the kernel's view of a TCP connection that say how it is doing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TcpInfo {
    /// Consecutive retransmissions of the current segment (a connection stuck retransmitting).
    pub retransmits: Option<u8>,
    /// Retransmission timeout, microseconds.
    pub rto_us: Option<u32>,
    /// Segments sent and not yet acknowledged.
    pub unacked: Option<u32>,
    /// Segments considered lost.
    pub lost: Option<u32>,
    /// Segments retransmitted and not yet acknowledged.
    pub retrans: Option<u32>,
    /// Milliseconds since data was last sent.
    pub last_send_ms: Option<u32>,
    /// Milliseconds since data was last received.
    pub last_recv_ms: Option<u32>,
    /// Path MTU.
    pub pmtu: Option<u32>,
    /// Smoothed round-trip time, microseconds.
    pub rtt_us: Option<u32>,
    /// Round-trip time variance, microseconds.
    pub rttvar_us: Option<u32>,
    /// Congestion window, segments.
    pub cwnd: Option<u32>,
    /// Retransmissions over the connection's life.
    pub total_retrans: Option<u32>,
    /// Bytes acknowledged by the peer.
    pub bytes_acked: Option<u64>,
    /// Bytes received.
    pub bytes_received: Option<u64>,
    /// Estimated delivery rate, bytes per second.
    pub delivery_rate: Option<u64>,
}

/// Reads the fields `data` is long enough to hold.
pub fn parse(data: &[u8]) -> TcpInfo {
    let u8_at = |at: usize| data.get(at).copied();
    let u32_at = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |at: usize| {
        data.get(at..at + 8).map(|b| {
            let mut v = [0u8; 8];
            v.copy_from_slice(b);
            u64::from_ne_bytes(v)
        })
    };
    TcpInfo {
        retransmits: u8_at(2),
        rto_us: u32_at(8),
        unacked: u32_at(24),
        lost: u32_at(32),
        retrans: u32_at(36),
        last_send_ms: u32_at(44),
        last_recv_ms: u32_at(52),
        pmtu: u32_at(60),
        rtt_us: u32_at(68),
        rttvar_us: u32_at(72),
        cwnd: u32_at(80),
        total_retrans: u32_at(100),
        bytes_acked: u64_at(120),
        bytes_received: u64_at(128),
        delivery_rate: u64_at(160),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info_of(len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len];
        b[2] = 3;
        b[68..72].copy_from_slice(&1500u32.to_ne_bytes());
        b[80..84].copy_from_slice(&10u32.to_ne_bytes());
        b[100..104].copy_from_slice(&7u32.to_ne_bytes());
        if len >= 168 {
            b[160..168].copy_from_slice(&12_345u64.to_ne_bytes());
        }
        b
    }

    #[test]
    fn fields_are_read_where_the_kernel_put_them() {
        let info = parse(&info_of(232));
        assert_eq!(info.retransmits, Some(3));
        assert_eq!(info.rtt_us, Some(1500));
        assert_eq!(info.cwnd, Some(10));
        assert_eq!(info.total_retrans, Some(7));
        assert_eq!(info.delivery_rate, Some(12_345));
    }

    #[test]
    fn an_older_shorter_struct_leaves_the_newer_fields_out() {
        // 104 bytes: the tcp_info of Linux 2.6, up to tcpi_total_retrans.
        let info = parse(&info_of(104));
        assert_eq!(info.total_retrans, Some(7));
        assert_eq!(info.bytes_acked, None);
        assert_eq!(info.delivery_rate, None);
        assert_eq!(parse(&[]), TcpInfo::default());
        assert_eq!(parse(&[0, 0, 9]).retransmits, Some(9));
    }
}
