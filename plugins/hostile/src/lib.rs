//! hostile (test only): misbehaves on purpose so runner's tests can show that a plugin cannot hurt
//! the release or the runner beyond what `on_error` allows.
//!
//! config `mode` picks the misbehaviour; config `on` (a hook name like `before-restart`, or a step
//! like `restart`) limits it to those hooks, and every other hook proceeds.

use std::hint::black_box;

wit_bindgen::generate!({ path: "../../wit/0.1.0", world: "plugin" });

use runner::plugin::host::{self, Level, Request};
use runner::plugin::types::{Capabilities, Phase};

const HOOKS: [&str; 14] = [
    "before-plan",
    "after-plan",
    "before-backup",
    "after-backup",
    "before-install",
    "after-install",
    "before-restart",
    "after-restart",
    "before-verify",
    "after-verify",
    "release-start",
    "release-end",
    "before-rollback",
    "after-rollback",
];

struct Hostile;

export!(Hostile);

impl Guest for Hostile {
    fn describe() -> Info {
        Info {
            name: "hostile".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            hooks: HOOKS.map(String::from).to_vec(),
            needs: Capabilities {
                exec: vec!["sh".to_string()],
                dirs: vec!["/etc".to_string()],
                http: vec!["example.com".to_string()],
            },
        }
    }

    fn handle(event: Event) -> Decision {
        let get = |key: &str| {
            event
                .config
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        if let Some(on) = get("on")
            && on != event.hook
            && on != event.step
        {
            return Decision::Proceed;
        }
        match get("mode").unwrap_or("proceed") {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                Decision::Abort("slept for an hour and nobody stopped me".to_string())
            }
            "memory" => {
                let mut kept: Vec<Vec<u8>> = Vec::new();
                loop {
                    let mut chunk = vec![0u8; 16 << 20];
                    for page in chunk.iter_mut().step_by(4096) {
                        *page = 1;
                    }
                    kept.push(black_box(chunk));
                }
            }
            "panic" => panic!("hostile panic"),
            "read-outside" => {
                let path = get("path").unwrap_or("/etc/hostname");
                match std::fs::read_to_string(path) {
                    Ok(text) => Decision::Abort(format!("read succeeded: {path}: {}", text.trim())),
                    Err(e) => {
                        host::log(Level::Info, &format!("read {path} denied: {e}"));
                        Decision::Proceed
                    }
                }
            }
            "exec-ungranted" => {
                match host::exec("sh", &["-c".to_string(), "echo pwned".to_string()]) {
                    Ok(_) => Decision::Abort("exec succeeded".to_string()),
                    Err(e) => {
                        host::log(Level::Info, &format!("exec sh denied: {e}"));
                        Decision::Proceed
                    }
                }
            }
            "http-ungranted" => {
                let request = Request {
                    method: "GET".to_string(),
                    url: "http://example.com/".to_string(),
                    headers: vec![],
                    body: vec![],
                };
                match host::http(&request) {
                    Ok(_) => Decision::Abort("http succeeded".to_string()),
                    Err(e) => {
                        host::log(Level::Info, &format!("http to example.com denied: {e}"));
                        Decision::Proceed
                    }
                }
            }
            "log-flood" => {
                for i in 0..100_000 {
                    host::log(
                        Level::Warn,
                        &format!("hostile log line {i}: {}", "x".repeat(100)),
                    );
                }
                Decision::Proceed
            }
            "deny-flood" => {
                for _ in 0..10_000 {
                    let _ = host::exec("sh", &[]);
                }
                Decision::Proceed
            }
            "huge-abort" => Decision::Abort("no".repeat(8 << 20)),
            "state-flood" => {
                let value = "v".repeat(1 << 10);
                for i in 0..10_000 {
                    host::state_set(&format!("key-{i}"), &value);
                }
                Decision::Proceed
            }
            "exclusive" => {
                // Holds `<dir>/busy` for 300 ms: a second call meanwhile sees it.
                let busy = format!("{}/busy", get("dir").unwrap_or("/tmp"));
                match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&busy)
                {
                    Ok(_) => {
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        let _ = std::fs::remove_file(&busy);
                        Decision::Proceed
                    }
                    Err(e) => Decision::Abort(format!("overlap: {busy}: {e}")),
                }
            }
            "abort" => Decision::Abort("hostile says no".to_string()),
            "skip" => Decision::Skip,
            "state" => state(&event),
            "stdout" => {
                for i in 1..=1000 {
                    println!("hostile stdout line {i} of 1000: {}", "x".repeat(60));
                }
                panic!("hostile panic after 1000 lines of stdout")
            }
            "proceed" => Decision::Proceed,
            other => Decision::Abort(format!("hostile: unknown mode {other:?}")),
        }
    }
}

/// Before-hooks leave their name in the state; after-hooks check that their own before-hook's
/// name is there. Besides "seen" (the last before-hook), each step has its own key, so hooks of
/// other steps in between do not overwrite it.
fn state(event: &Event) -> Decision {
    let key = format!("seen:{}", event.step);
    match event.phase {
        Phase::Before => {
            host::state_set("seen", &event.hook);
            host::state_set(&key, &event.hook);
            Decision::Proceed
        }
        Phase::After => {
            let expected = if event.step == "release" {
                "release-start".to_string()
            } else {
                format!("before-{}", event.step)
            };
            match host::state_get(&key) {
                Some(got) if got == expected => Decision::Proceed,
                got => Decision::Abort(format!("state lost: got {got:?}, expected {expected:?}")),
            }
        }
    }
}
