//! Work spread over threads: one helper for the fleet's hosts, the sync targets, the apps of
//! `-j` and the hosts `status` asks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(0)`, …, `f(n - 1)` on up to `jobs` threads at once, each thread taking the next index
/// as it finishes one; returns the results in index order once all are done.
pub fn map_at_once<T: Send>(n: usize, jobs: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(n) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let r = f(i);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every index ran")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_in_index_order() {
        let v = super::map_at_once(50, 4, |i| i * 2);
        assert_eq!(v, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        assert!(super::map_at_once(0, 4, |i| i).is_empty());
    }
}
