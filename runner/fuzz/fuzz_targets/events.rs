//! The `--events` line reader a fleet release runs on every line a host prints: arbitrary text
//! is refused or read, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        let _ = serde_json::from_str::<runner::report::Event>(line);
    }
});
