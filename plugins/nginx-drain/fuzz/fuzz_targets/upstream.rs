//! nginx-drain's upstream-file edits against arbitrary text and addresses: never a panic (a
//! byte offset off a char boundary, an unterminated quote or block).
#![no_main]

use libfuzzer_sys::fuzz_target;

// The parser is the plugin's own module, compiled here for the host.
#[allow(dead_code)]
#[path = "../../src/upstream.rs"]
mod upstream;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the server address, the rest the upstream file.
    let (addr, text) = s.split_once('\n').unwrap_or(("127.0.0.1:8080", s));
    let _ = upstream::mark_up(text, addr);
    let _ = upstream::mark_down(text, &[addr]);
    // And as a batch: every address on the first line, separated by spaces.
    let addrs: Vec<&str> = addr.split(' ').collect();
    let _ = upstream::mark_down(text, &addrs);
});
