//! Verifying a restart: follow the start-up log from where it stood before the restart until
//! `ready` or `fail` matches, then poll `health` until it answers 2xx — all before a deadline.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::App;

/// Why an app did not prove itself up after a restart.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A signal asked the release to stop while it waited.
    #[error("{}", crate::t!("verify-interrupted", signal = crate::interrupt::name(*.0)))]
    Interrupted(i32),
    /// `line` is as logged; the message shows it trimmed.
    #[error("{}", crate::t!("verify-fail-line", line = .line.trim()))]
    FailLine { path: PathBuf, line: String },

    #[error(
        "{}",
        crate::t!(
            "verify-not-ready",
            pattern = .pattern,
            path = .path,
            timeout = humantime::format_duration(*.timeout).to_string()
        )
    )]
    NotReady {
        pattern: String,
        path: PathBuf,
        timeout: Duration,
    },

    /// The last answer before the deadline was not 2xx.
    #[error("{}", crate::t!("verify-health-status", url = .url, status = .status.to_string()))]
    HealthStatus {
        url: String,
        status: ureq::http::StatusCode,
    },

    /// The last attempt before the deadline got no answer at all.
    #[error("{}", crate::t!("verify-health-unreachable", url = .url, error = .source.to_string()))]
    HealthUnreachable { url: String, source: ureq::Error },
}

/// Where the log stood before the restart.
#[derive(Debug, Clone)]
pub struct LogMark {
    path: PathBuf,
    offset: u64,
    ino: Option<u64>,
}

/// Records the log's current end, so only lines written after the restart count.
pub fn mark(path: &Path) -> LogMark {
    let md = std::fs::metadata(path).ok();
    LogMark {
        path: path.to_path_buf(),
        offset: md.as_ref().map(|m| m.len()).unwrap_or(0),
        ino: md.map(|m| m.ino()),
    }
}

const POLL: Duration = Duration::from_millis(50);

/// Waits for the app to be up. `on_line` sees every new log line as it appears.
/// Returns a short description of what proved the app ready: the verify step's detail, shown
/// in the chosen language and recorded (in the history) in English.
pub fn run(
    app: &App,
    mark: Option<LogMark>,
    timeout: Duration,
    on_line: &mut dyn FnMut(&str),
) -> Result<crate::i18n::Text, VerifyError> {
    let start = Instant::now();
    let deadline = start + timeout;
    let mut proof = Vec::new();
    if let Some(mark) = mark {
        let line = follow(app, mark, deadline, on_line)?;
        let secs = format!("{:.1}", start.elapsed().as_secs_f64());
        proof.push(crate::text!("verify-ready-after", secs = secs));
        tracing::debug!(%line, "ready line");
    }
    if let Some(url) = &app.health {
        let status = health(url, deadline)?;
        proof.push(crate::text!("verify-health", status = status));
    }
    if proof.is_empty() {
        proof.push(crate::text!("verify-restarted"));
    }
    Ok(crate::i18n::Text::new(move || {
        let said: Vec<String> = proof.iter().map(|t| t.to_string()).collect();
        said.join(", ")
    }))
}

fn follow(
    app: &App,
    mut mark: LogMark,
    deadline: Instant,
    on_line: &mut dyn FnMut(&str),
) -> Result<String, VerifyError> {
    let mut pending = Vec::new();
    loop {
        if let Ok(md) = std::fs::metadata(&mark.path) {
            // A restart that rotates or truncates the log starts a new file: read it from the top.
            if Some(md.ino()) != mark.ino || md.len() < mark.offset {
                mark.ino = Some(md.ino());
                mark.offset = 0;
                pending.clear();
            }
            if md.len() > mark.offset
                && let Ok(mut f) = File::open(&mark.path)
                && f.seek(SeekFrom::Start(mark.offset)).is_ok()
            {
                let mut buf = Vec::new();
                let n = f.read_to_end(&mut buf).unwrap_or(0) as u64;
                mark.offset += n;
                pending.extend_from_slice(&buf);
                while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                    let raw: Vec<u8> = pending.drain(..=i).collect();
                    let line = String::from_utf8_lossy(&raw);
                    let line = line.trim_end();
                    on_line(line);
                    if app.fail.0.is_match(line) {
                        return Err(VerifyError::FailLine {
                            path: mark.path,
                            line: line.to_string(),
                        });
                    }
                    if app.ready.0.is_match(line) {
                        return Ok(line.to_string());
                    }
                }
            }
        }
        if let Some(sig) = crate::interrupt::requested() {
            return Err(VerifyError::Interrupted(sig));
        }
        if Instant::now() >= deadline {
            return Err(VerifyError::NotReady {
                pattern: app.ready.0.as_str().to_string(),
                path: mark.path,
                timeout: app.ready_timeout,
            });
        }
        std::thread::sleep(POLL);
    }
}

/// The HTTP client of a health check: 2 s per request at most, any status an answer.
pub fn health_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn health(url: &str, deadline: Instant) -> Result<u16, VerifyError> {
    let agent = health_agent();
    loop {
        let last = match agent.get(url).call() {
            Ok(r) if r.status().is_success() => return Ok(r.status().as_u16()),
            Ok(r) => VerifyError::HealthStatus {
                url: url.to_string(),
                status: r.status(),
            },
            Err(source) => VerifyError::HealthUnreachable {
                url: url.to_string(),
                source,
            },
        };
        if let Some(sig) = crate::interrupt::requested() {
            return Err(VerifyError::Interrupted(sig));
        }
        if Instant::now() >= deadline {
            return Err(last);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_unchanged() {
        let s = |e: VerifyError| crate::i18n::english(|| e.to_string());
        assert_eq!(
            s(VerifyError::Interrupted(2)),
            "stopped by SIGINT while waiting for the app"
        );
        assert_eq!(
            s(VerifyError::Interrupted(99)),
            "stopped by a signal while waiting for the app"
        );
        assert_eq!(
            s(VerifyError::FailLine {
                path: "/l".into(),
                line: "  FATAL x \n".into()
            }),
            "the log says `FATAL x`"
        );
        assert_eq!(
            s(VerifyError::NotReady {
                pattern: "Started".into(),
                path: "/l/app.log".into(),
                timeout: Duration::from_secs(90),
            }),
            "no line matching `Started` in /l/app.log within 1m 30s"
        );
        assert_eq!(
            s(VerifyError::HealthStatus {
                url: "http://h/health".into(),
                status: ureq::http::StatusCode::SERVICE_UNAVAILABLE,
            }),
            "health http://h/health answered 503 Service Unavailable"
        );
    }
}
