//! Kernel topology: client, N routers, target (placeholder until part 2 lands).
