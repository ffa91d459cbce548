//! Running an app's restart argv (no shell) with a timeout; its output goes to a file.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::config::Restart;

/// Runs the app's restart (or stop, then start) within `timeout` in all. `output` collects
/// what the commands print. A command that outlives the timeout is killed with its group.
pub fn run(restart: &Restart, timeout: Duration, output: &Path) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let argvs: Vec<&Vec<String>> = match restart {
        Restart::None => return Ok(()),
        Restart::Restart(r) => vec![r],
        Restart::StopStart { stop, start } => vec![stop, start],
    };
    for argv in argvs {
        run_one(argv, deadline, output)?;
    }
    Ok(())
}

fn run_one(argv: &[String], deadline: Instant, output: &Path) -> Result<(), String> {
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(output)
        .map_err(|e| format!("{}: {e}", output.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let shown = argv.join(" ");
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let wait = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(wait) {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("`{shown}` exited with {status}{}", tail(output))),
        Ok(Err(e)) => Err(format!("waiting for `{shown}`: {e}")),
        Err(_) => {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            Err(format!(
                "`{shown}` did not finish in time and was killed{}",
                tail(output)
            ))
        }
    }
}

/// The last lines of a command's output, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    if lines.is_empty() {
        return String::new();
    }
    let body: Vec<&str> = lines.into_iter().rev().collect();
    format!(
        "; output ({}):\n    {}",
        path.display(),
        body.join("\n    ")
    )
}
