//! Running an app's restart argv (no shell) with a timeout; its output goes to a file.

use std::fmt;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::config::Restart;

/// Why an app's restart (or stop/start) command did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RestartError {
    #[error("{}: {source}", .path.display())]
    CreateLogDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}: {source}", .path.display())]
    OpenOutput {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The output file's handle could not be shared between stdout and stderr.
    #[error("{source}")]
    ShareOutput {
        path: PathBuf,
        source: std::io::Error,
    },

    /// `command` is the argv joined by spaces, as shown in every message here.
    #[error("{}", crate::t!("restart-spawn", command = .command, error = .source.to_string()))]
    Spawn {
        command: String,
        source: std::io::Error,
    },

    #[error(
        "{}",
        crate::t!(
            "restart-exited",
            command = .command,
            status = .status.to_string(),
            tail = .tail.to_string()
        )
    )]
    Exited {
        command: String,
        status: ExitStatus,
        tail: Tail,
    },

    #[error("{}", crate::t!("restart-wait", command = .command, error = .source.to_string()))]
    Wait {
        command: String,
        source: std::io::Error,
    },

    /// `timeout` is the budget for the whole restart, stop and start together.
    #[error("{}", crate::t!("restart-timed-out", command = .command, tail = .tail.to_string()))]
    TimedOut {
        command: String,
        timeout: Duration,
        tail: Tail,
    },
}

/// The last lines a command printed, kept with the file they came from.
#[derive(Debug, Clone)]
pub struct Tail {
    pub path: PathBuf,
    pub lines: Vec<String>,
}

impl Tail {
    const LINES: usize = 5;

    /// Read at the moment of failure: the file keeps growing if the app writes to it later.
    fn read(path: &Path) -> Tail {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut lines: Vec<String> = text
            .lines()
            .rev()
            .take(Self::LINES)
            .map(str::to_string)
            .collect();
        lines.reverse();
        Tail {
            path: path.to_path_buf(),
            lines,
        }
    }
}

/// Appended to a message as is, so nothing at all when the command printed nothing.
impl fmt::Display for Tail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lines.is_empty() {
            return Ok(());
        }
        write!(
            f,
            "{}\n    {}",
            crate::t!("restart-output", path = &self.path),
            self.lines.join("\n    ")
        )
    }
}

/// Runs the app's restart (or stop, then start) within `timeout` in all. `output` collects
/// what the commands print. A command that outlives the timeout is killed with its group.
pub fn run(restart: &Restart, timeout: Duration, output: &Path) -> Result<(), RestartError> {
    let deadline = Instant::now() + timeout;
    let argvs: Vec<&Vec<String>> = match restart {
        Restart::None => return Ok(()),
        Restart::Restart(r) => vec![r],
        Restart::StopStart { stop, start } => vec![stop, start],
    };
    for argv in argvs {
        run_one(argv, timeout, deadline, output)?;
    }
    Ok(())
}

fn run_one(
    argv: &[String],
    timeout: Duration,
    deadline: Instant,
    output: &Path,
) -> Result<(), RestartError> {
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).map_err(|source| RestartError::CreateLogDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(output)
        .map_err(|source| RestartError::OpenOutput {
            path: output.to_path_buf(),
            source,
        })?;
    let err = out
        .try_clone()
        .map_err(|source| RestartError::ShareOutput {
            path: output.to_path_buf(),
            source,
        })?;
    let command = argv.join(" ");
    let mut child = match Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(source) => return Err(RestartError::Spawn { command, source }),
    };
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let wait = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(wait) {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(RestartError::Exited {
            command,
            status,
            tail: Tail::read(output),
        }),
        Ok(Err(source)) => Err(RestartError::Wait { command, source }),
        Err(_) => {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            Err(RestartError::TimedOut {
                command,
                timeout,
                tail: Tail::read(output),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn english_is_unchanged() {
        let tail = Tail {
            path: "/l/x-restart.log".into(),
            lines: vec!["a".into(), "b".into()],
        };
        let e = RestartError::Exited {
            command: "svc restart".into(),
            status: ExitStatus::from_raw(256),
            tail: tail.clone(),
        };
        assert_eq!(
            crate::i18n::english(|| e.to_string()),
            "`svc restart` exited with exit status: 1; output (/l/x-restart.log):\n    a\n    b"
        );
        let e = RestartError::TimedOut {
            command: "svc restart".into(),
            timeout: Duration::from_secs(1),
            tail: Tail {
                lines: Vec::new(),
                ..tail
            },
        };
        assert_eq!(
            crate::i18n::english(|| e.to_string()),
            "`svc restart` did not finish in time and was killed"
        );
    }
}
