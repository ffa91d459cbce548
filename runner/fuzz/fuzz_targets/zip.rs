//! The zip central-directory reader behind the plan's jar check and the sync's zip gate, against
//! arbitrary bytes: a bad or truncated archive is an error, never a panic or a runaway
//! allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = runner::jar::read_entries(
        std::io::Cursor::new(data),
        data.len() as u64,
        std::path::Path::new("fuzz.jar"),
    );
});
