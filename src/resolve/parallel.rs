//! Blocking lookups (getaddrinfo has no async form) run on a bounded set of threads.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Applies a blocking function to every item with at most `limit` running at once; results keep input order.
pub fn map_bounded<T: Sync, R: Send>(items: &[T], limit: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_until(items, limit, f, || false)
        .into_iter()
        .map(|r| r.expect("every item looked up"))
        .collect()
}

/// As [`map_bounded`], but after Ctrl-C no new item is started (a lookup already running cannot be cancelled
/// and finishes): the items never started come back as None.
pub fn map_until_interrupted<T: Sync, R: Send>(
    items: &[T],
    limit: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Option<R>> {
    map_until(items, limit, f, super::interrupt::interrupted)
}

fn map_until<T: Sync, R: Send>(
    items: &[T],
    limit: usize,
    f: impl Fn(&T) -> R + Sync,
    stop: impl Fn() -> bool + Sync,
) -> Vec<Option<R>> {
    let next = AtomicUsize::new(0);
    let workers = limit.clamp(1, items.len().max(1));
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        if stop() {
                            break done;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        for handle in handles {
            for (i, r) in handle.join().expect("lookup worker panicked") {
                slots[i] = Some(r);
            }
        }
    });
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_map_keeps_order_and_covers_all() {
        let items: Vec<u32> = (0..100).collect();
        let out = map_bounded(&items, 7, |x| x * 2);
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(map_bounded(&[] as &[u32], 4, |x| *x).is_empty());
    }
}
