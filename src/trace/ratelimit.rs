//! Telling a router's ICMP rate limiter from loss on the path, pure.
//!
//! Linux routers answer a burst of about 6 ICMP errors to one destination, then about one a second
//! (icmp_ratelimit, XRLIM_BURST_FACTOR); others behave alike. A hop whose first probes were answered
//! and whose later ones mostly were not, while a farther hop answered every probe (so the path beyond
//! it carried them all), is most likely limiting its answers, not dropping the probes.

use std::time::Duration;

use super::engine::{HopSummary, ProbeRecord};

/// The refill a limiter is allowed: more answers than one per this long after the burst is not a limiter.
const REFILL: Duration = Duration::from_millis(500);

/// Whether `hop`'s losses fit an ICMP rate limiter, given the hops after it.
pub fn looks_rate_limited(hop: &HopSummary, farther: &[HopSummary]) -> bool {
    if hop.received == 0 || hop.received >= hop.sent {
        return false;
    }
    let path_carried_all = farther.iter().any(|h| h.sent > 0 && h.received == h.sent);
    path_carried_all && burst_then_trickle(&hop.probes)
}

/// Answered first, then mostly silent: the probes in send order start with an answered run, and after
/// the first silent one, no more answers than one per [`REFILL`] of the time that followed.
fn burst_then_trickle(probes: &[ProbeRecord]) -> bool {
    let mut sent: Vec<&ProbeRecord> = probes.iter().filter(|p| p.sent_at.is_some()).collect();
    sent.sort_by_key(|p| p.sent_at);
    let Some(first_loss) = sent.iter().position(|p| p.reply.is_none()) else {
        return false;
    };
    if first_loss == 0 {
        return false;
    }
    let after = &sent[first_loss..];
    let answered_after = after.iter().filter(|p| p.reply.is_some()).count();
    let span = match (
        after.first().and_then(|p| p.sent_at),
        after.last().and_then(|p| p.sent_at),
    ) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    let allowed = 1 + (span.as_secs_f64() / REFILL.as_secs_f64()) as usize;
    answered_after <= allowed && answered_after < after.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::engine::ProbeReply;
    use crate::trace::packet::ReplyKind;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A hop whose probes went out `gap` apart and were answered as `answered` says.
    fn hop(answered: &[bool], gap: Duration) -> HopSummary {
        let probes: Vec<ProbeRecord> = answered
            .iter()
            .enumerate()
            .map(|(q, &a)| ProbeRecord {
                ttl: 2,
                query: q as u8,
                seq: q as u16,
                sent_at: Some(gap * q as u32),
                send_error: None,
                reply: a.then(|| ProbeReply {
                    from: "203.0.113.2".parse().unwrap(),
                    at: gap * q as u32 + ms(10),
                    rtt: ms(10),
                    kind: ReplyKind::TimeExceeded,
                    icmp_type: 11,
                    icmp_code: 0,
                    mpls: Vec::new(),
                    late: false,
                    from_target: false,
                    translated: false,
                }),
                duplicates: 0,
                cycle: 0,
                size: None,
            })
            .collect();
        crate::trace::engine::hop_summaries(&probes, 2, 2).remove(0)
    }

    #[test]
    fn a_burst_then_silence_is_a_limiter_only_when_farther_hops_answer_all() {
        let t = true;
        let f = false;
        let limited = hop(&[t, t, t, t, t, t, f, f, f, f], ms(5));
        let full = hop(&[t, t, t], ms(5));
        let partial = hop(&[t, f, t], ms(5));
        assert!(looks_rate_limited(&limited, std::slice::from_ref(&full)));
        assert!(
            !looks_rate_limited(&limited, std::slice::from_ref(&partial)),
            "farther loss: the path itself"
        );
        assert!(
            !looks_rate_limited(&limited, &[]),
            "nothing beyond to compare with"
        );
        // Loss first, or answers spread through the run, is not a burst then a trickle.
        assert!(!looks_rate_limited(
            &hop(&[f, t, t, t], ms(5)),
            std::slice::from_ref(&full)
        ));
        assert!(!looks_rate_limited(
            &hop(&[t, f, t, f, t, f], ms(5)),
            std::slice::from_ref(&full)
        ));
        // One answer a second after the burst still fits (the limiter refilled).
        let trickle = hop(&[t, t, t, t, t, t, f, f, t, f], ms(400));
        assert!(looks_rate_limited(&trickle, std::slice::from_ref(&full)));
        // No loss, or all lost: nothing to explain.
        assert!(!looks_rate_limited(
            &hop(&[t, t, t], ms(5)),
            std::slice::from_ref(&full)
        ));
        assert!(!looks_rate_limited(
            &hop(&[f, f, f], ms(5)),
            std::slice::from_ref(&full)
        ));
    }
}
