//! The agent's frame decoder against arbitrary bytes from the wire: it may refuse them, never panic
//! or allocate more than `MAX_FRAME`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runner::agent::protocol::{decode, read_frame};

fuzz_target!(|data: &[u8]| {
    let _ = decode(data);
    let mut stream = data;
    while read_frame(&mut stream).is_ok() {}
});
