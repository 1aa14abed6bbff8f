//! Simulated path behind a TUN device (placeholder until part 3 lands).
