//! The config parser against arbitrary text: it may refuse it (with a file:line:column message),
//! never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = runner::config::parse(std::path::Path::new("/fuzz/runner.toml"), text);
    }
});
