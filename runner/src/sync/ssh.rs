//! The ssh transport: the command line for a host, and copying this runner to a host that
//! lacks it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::address::SshTarget;
use crate::error::{Error, Result};

/// `ssh [batch options] [options] [-p port] [user@]host -- <remote>`.
pub(super) fn ssh(to: &SshTarget, options: &[String], remote: &str) -> Command {
    let mut c = Command::new("ssh");
    c.args([
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "ServerAliveCountMax=3",
    ]);
    c.args(options);
    if let Some(p) = to.port {
        c.arg("-p").arg(p.to_string());
    }
    c.arg(to.destination());
    c.arg("--").arg(remote);
    c
}

/// What `--install-agent` did on a host: bytes on the wire (gzip) and of the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentInstall {
    pub bytes_sent: u64,
    pub bytes: u64,
}

/// The runner `--install-agent` sends: read, hashed and gzipped once per process, however
/// many hosts get it.
struct AgentBinary {
    path: PathBuf,
    sha256: String,
    size: u64,
    gz: Vec<u8>,
}

/// The name a static build goes by beside a glibc runner (see [`agent_binary`]).
pub const STATIC_BESIDE: &str = "runner-static";

/// Which runner to send: `[fleet] agent_binary`; else this one when it is a static (musl)
/// build, which starts on any Linux of its architecture; else a static build of this version
/// beside it ([`STATIC_BESIDE`], or the musl target dir of a cargo build; one of another version
/// is passed over with a warning); else this one, with a warning that hosts with an older glibc
/// than this machine's cannot start it.
fn agent_path(configured: Option<&Path>) -> Result<PathBuf> {
    let exe =
        std::env::current_exe().map_err(Error::io("locate", crate::t!("sync-runner-itself")))?;
    if let Some(p) = configured {
        same_version(p)?;
        return Ok(p.to_path_buf());
    }
    if cfg!(target_env = "musl") {
        return Ok(exe);
    }
    let beside = [
        exe.with_file_name(STATIC_BESIDE),
        // en: cargo's layout: target/<profile>/runner → target/<triple>/release/runner
        exe.with_file_name("../x86_64-unknown-linux-musl/release/runner"),
    ];
    let found = beside
        .into_iter()
        .filter(|p| p.is_file())
        .find(|p| match same_version(p) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(
                    "{}",
                    crate::t!("sync-agent-passed-over", error = e.to_string())
                );
                false
            }
        });
    if let Some(p) = found {
        return Ok(p);
    }
    tracing::warn!(
        "{}",
        crate::t!("sync-agent-not-static", beside = STATIC_BESIDE)
    );
    Ok(exe)
}

/// `path` is this version of runner (the host's copy is named by the version).
fn same_version(path: &Path) -> Result<()> {
    let mine = env!("CARGO_PKG_VERSION");
    let out = Command::new(path)
        .arg("--version")
        .output()
        .map_err(Error::io("run", path))?;
    let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && said.split_whitespace().nth(1) == Some(mine) {
        return Ok(());
    }
    Err(Error::Usage(crate::t!(
        "sync-agent-wrong-binary",
        path = path,
        said = said,
        mine = mine
    )))
}

/// Reads, hashes and compresses the binary to send (once: later calls get the same). The
/// hash is of the very bytes compressed.
fn agent_binary(configured: Option<&Path>) -> Result<Arc<AgentBinary>> {
    static CACHE: Mutex<Option<Arc<AgentBinary>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = cache.as_ref() {
        return Ok(b.clone());
    }
    let path = agent_path(configured)?;
    let bytes = std::fs::read(&path).map_err(Error::io("read", &path))?;
    let sha256 = crate::inventory::hash_bytes(&bytes);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes)
        .and_then(|()| gz.try_finish())
        .map_err(Error::io("read", &path))?;
    let b = Arc::new(AgentBinary {
        path,
        sha256,
        size: bytes.len() as u64,
        gz: gz.get_ref().clone(),
    });
    *cache = Some(b.clone());
    Ok(b)
}

/// Copies runner (see [`agent_path`]) gzipped to `~/.runner/bin/runner-<version>` on the host:
/// unpacked by the host's `gzip` to a temp name, its sha256 checked there, then renamed; one
/// copy per version. For a host that lacks runner or has another version. Returns the agent
/// path to use and what was sent.
pub fn install_agent(
    to: &SshTarget,
    options: &[String],
    configured: Option<&Path>,
) -> Result<(String, AgentInstall)> {
    let fail = |message: String| Error::Sync {
        target: to.to_string(),
        message,
    };
    let bin = agent_binary(configured)?;
    let version = env!("CARGO_PKG_VERSION");
    let dest = format!(".runner/bin/runner-{version}");
    let script = format!(
        // en: a shell script for the host (its lines reach the error as the host says them)
        "set -e; command -v gzip >/dev/null || {{ echo 'gzip: not found on the host' >&2; exit 3; }}; \
         cd \"$HOME\"; mkdir -p .runner/bin; t=$(mktemp .runner/bin/.runner.XXXXXX); \
         trap 'rm -f \"$t\"' EXIT; trap 'exit 1' HUP INT TERM PIPE; \
         if ! gzip -dc > \"$t\"; then exit 1; fi; \
         s=$(sha256sum \"$t\" | cut -d' ' -f1); \
         if [ \"$s\" != {sha} ]; then echo \"sha256 mismatch: $s\" >&2; exit 1; fi; \
         chmod 755 \"$t\"; mv -f \"$t\" {dest}; trap - EXIT; echo \"$HOME/{dest}\"",
        sha = bin.sha256
    );
    let mut child = ssh(to, options, &script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("ssh: {e}")))?;
    // Written from a thread while the host's answer is read (a full pipe either way would
    // stall both); a host that stops reading ends the write with an error, and ssh's status
    // tells why.
    let mut stdin = child.stdin.take();
    let feed = bin.clone();
    let writer = std::thread::spawn(move || {
        if let Some(w) = stdin.as_mut() {
            let _ = w.write_all(&feed.gz);
        }
    });
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("ssh: {e}")))?;
    let _ = writer.join();
    if !out.status.success() {
        return Err(fail(crate::t!(
            "sync-ssh-exited",
            status = out.status.to_string(),
            stderr = String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let sent = AgentInstall {
        bytes_sent: bin.gz.len() as u64,
        bytes: bin.size,
    };
    tracing::info!(%path, from = %bin.path.display(), sent = sent.bytes_sent, "{}", crate::t!("sync-agent-installed"));
    Ok((path, sent))
}

/// Quotes a word for the remote shell ssh hands the command to.
pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
