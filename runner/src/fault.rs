//! Fault injection for crash tests: `RUNNER_FAULT=<point>[:<n>]` aborts the process the n-th
//! time (default first) execution reaches `<point>`, as a `kill -9` would at that instant.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

static FAULT: OnceLock<Option<(String, u32)>> = OnceLock::new();
static HITS: Mutex<Option<HashMap<String, u32>>> = Mutex::new(None);

/// Aborts here if `RUNNER_FAULT` names this point and its count is reached.
pub fn point(name: &str) {
    let target = FAULT.get_or_init(|| {
        let v = std::env::var("RUNNER_FAULT").ok()?;
        let (p, n) = match v.split_once(':') {
            Some((p, n)) => (p.to_string(), n.parse().unwrap_or(1)),
            None => (v, 1),
        };
        Some((p, n))
    });
    let Some((p, n)) = target else { return };
    if p != name {
        return;
    }
    let mut hits = HITS.lock().unwrap_or_else(|e| e.into_inner());
    let count = hits
        .get_or_insert_with(HashMap::new)
        .entry(name.to_string())
        .or_default();
    *count += 1;
    if *count == *n {
        // en: developer text of the crash tests (RUNNER_FAULT), never seen in operation
        eprintln!("runner: fault injected at {name}:{n}");
        std::process::abort();
    }
}
