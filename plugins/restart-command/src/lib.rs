//! restart-command: restarts the app with the operator's own command instead of runner's built-in
//! restart, and tells runner it did (`skip`).

use runner_plugin::v0_1::{Decision, Event, Level, host};

// The program is only known from config: the operator grants it with allow.exec.
runner_plugin::plugin_v0_1! {
    name: "restart-command",
    hooks: ["before-restart"],
    handle: handle,
}

/// One hook call.
fn handle(event: Event) -> Decision {
    if event.hook != "before-restart" {
        return Decision::Proceed;
    }
    let argv = match command(&event.config) {
        Ok(argv) => argv,
        Err(e) => return Decision::Abort(format!("restart-command: config `command`: {e}")),
    };
    let shown = argv.join(" ");
    if event.dry_run {
        host::log(
            Level::Info,
            &format!("dry run: would restart {} with `{shown}`", event.app),
        );
        return Decision::Skip;
    }
    host::log(
        Level::Info,
        &format!("restarting {} with `{shown}`", event.app),
    );
    match host::exec(&argv[0], &argv[1..]) {
        Err(e) => Decision::Abort(format!("cannot run `{shown}`: {e}")),
        Ok(out) if out.status == 0 => {
            host::log(Level::Info, &format!("`{shown}` exited 0"));
            Decision::Skip
        }
        Ok(out) => {
            let mut reason = format!("`{shown}` exited with status {}", out.status);
            for (name, bytes) in [("stderr", &out.stderr), ("stdout", &out.stdout)] {
                let tail = last_lines(&String::from_utf8_lossy(bytes), 10, 2000);
                if !tail.is_empty() {
                    reason.push_str(&format!("\n{name}:\n{tail}"));
                }
            }
            Decision::Abort(reason)
        }
    }
}

/// The `command` argv: a JSON array of strings (what runner passes for a TOML array), or a plain
/// string split on whitespace.
fn command(config: &[(String, String)]) -> Result<Vec<String>, String> {
    let value = config
        .iter()
        .find(|(k, _)| k == "command")
        .map(|(_, v)| v.trim())
        .ok_or("is required")?;
    let argv: Vec<String> = if value.starts_with('[') {
        serde_json::from_str(value).map_err(|e| format!("expected an array of strings: {e}"))?
    } else {
        value.split_whitespace().map(str::to_string).collect()
    };
    match argv.first() {
        Some(program) if !program.is_empty() => Ok(argv),
        _ => Err("is empty".to_string()),
    }
}

/// The last `n` non-blank lines of `text`, at most `max` bytes of them (cut at a line start).
fn last_lines(text: &str, n: usize, max: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut tail = lines[lines.len().saturating_sub(n)..].join("\n");
    while tail.len() > max {
        match tail.find('\n') {
            Some(i) => tail.drain(..=i),
            None => {
                let cut = tail.len() - max;
                let cut = (cut..tail.len())
                    .find(|&i| tail.is_char_boundary(i))
                    .unwrap_or(0);
                tail.drain(..cut)
            }
        };
    }
    tail
}
