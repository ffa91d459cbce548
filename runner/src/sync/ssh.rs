//! The ssh transport: the command line for a host, connections shared between the sessions
//! to one host and kept between commands (OpenSSH's `ControlMaster`), and copying this runner
//! to a host that lacks it.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use crate::address::SshTarget;
use crate::error::{Error, Result};

/// Where the sockets of shared connections live, once a config named its state dir; None:
/// every ssh makes its own connection.
static SHARE_DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
/// That dir, made private by the first ssh that would use it; None if it could not be.
static SHARE_READY: OnceLock<Option<&'static Path>> = OnceLock::new();
/// Each host's shared connection, by destination.
static SHARING: Mutex<Option<HashMap<String, HostShare>>> = Mutex::new(None);
/// Told when a host's first session has its connection (or failed to get one).
static OPENED: Condvar = Condvar::new();

#[derive(Default)]
struct HostShare {
    /// Sessions on it now.
    sessions: usize,
    /// Its first session is still connecting: the others wait, so that they share its
    /// connection rather than each racing to open one.
    opening: bool,
    /// A session of this process got through it.
    opened: bool,
}
/// Sessions one shared connection carries at most: sshd's `MaxSessions` is 10 by default,
/// and a session past it is refused. Further sessions make their own connections.
const MAX_SHARED: usize = 8;
/// How long a shared connection outlives its last session: a `runner sync` right after
/// another does not pay the login again.
const PERSIST: &str = "ControlPersist=60";

/// Shares ssh connections through sockets in `<state_dir>/ssh`, a dir only this user can
/// enter, made when first used. Where that path is too long for a unix socket (ssh adds its
/// 40-char `%C` and a 17-char temp suffix to it), in `/tmp/runner-<uid>-ssh/<hash of
/// state_dir>` instead: still one dir per state dir, so two configs never share a connection.
/// None if the dir cannot be made private.
pub fn share_connections(state_dir: &Path) {
    let _ = SHARE_DIR.set(Some(socket_dir(state_dir)));
}

fn socket_dir(state_dir: &Path) -> PathBuf {
    let dir = state_dir.join("ssh");
    if dir.as_os_str().len() + 1 + 40 + 17 < 104 {
        return dir;
    }
    let id = crate::inventory::hash_bytes(state_dir.as_os_str().as_encoded_bytes());
    let uid = rustix::process::getuid().as_raw();
    PathBuf::from(format!("/tmp/runner-{uid}-ssh")).join(&id[..12])
}

/// The private socket dir, if connections are shared.
fn share_dir() -> Option<&'static Path> {
    *SHARE_READY.get_or_init(|| {
        let dir = SHARE_DIR.get()?.as_deref()?;
        match private_dir(dir) {
            Ok(()) => Some(dir),
            Err(e) => {
                tracing::debug!(dir = %dir.display(), error = %e, "ssh connections not shared");
                None
            }
        }
    })
}

/// Makes `dir` a real directory owned by this user with mode 0700. Under /tmp, where anyone
/// could have made runner's dir first, its parent must be such a dir too.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    match dir.parent() {
        Some(parent) if dir.starts_with("/tmp/") && parent != Path::new("/tmp") => {
            private_dir(parent)?
        }
        Some(parent) => std::fs::create_dir_all(parent)?,
        None => {}
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let md = std::fs::symlink_metadata(dir)?;
    if !md.is_dir() || md.uid() != rustix::process::getuid().as_raw() {
        return Err(std::io::Error::other("not a private dir")); // en: only logged at debug level
    }
    if md.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A session's place on its host's shared connection, given back when dropped.
pub(super) struct Shared {
    host: String,
    /// The host's first session of this process, which the others wait for.
    first: bool,
}

impl Shared {
    /// A place on `to`'s shared connection, if sharing is on, the options leave connection
    /// control to runner, and the connection has room. Waits while the host's first session
    /// is connecting (at most a little longer than ssh's connect timeout).
    fn take(to: &SshTarget, options: &[String]) -> Option<(Shared, &'static Path)> {
        let dir = share_dir()?;
        if options
            .iter()
            .any(|o| o.to_ascii_lowercase().contains("control"))
        {
            return None;
        }
        let host = to.to_string();
        let sharing = SHARING.lock().unwrap_or_else(|e| e.into_inner());
        let (mut sharing, _) = OPENED
            .wait_timeout_while(sharing, Duration::from_secs(15), |s| {
                s.as_ref()
                    .and_then(|m| m.get(&host))
                    .is_some_and(|h| h.opening)
            })
            .unwrap_or_else(|e| e.into_inner());
        let h = sharing
            .get_or_insert_with(HashMap::new)
            .entry(host.clone())
            .or_default();
        if h.sessions >= MAX_SHARED {
            return None;
        }
        h.sessions += 1;
        let first = !h.opened && !h.opening;
        h.opening |= first;
        Some((Shared { host, first }, dir))
    }

    /// The session is connected (or failed to): the host's other sessions may go.
    pub(super) fn connected(&mut self, ok: bool) {
        if !std::mem::take(&mut self.first) {
            return;
        }
        let mut sharing = SHARING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = sharing.as_mut().and_then(|m| m.get_mut(&self.host)) {
            h.opening = false;
            h.opened |= ok;
        }
        OPENED.notify_all();
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.connected(false);
        let mut sharing = SHARING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = sharing.as_mut().and_then(|m| m.get_mut(&self.host)) {
            h.sessions = h.sessions.saturating_sub(1);
        }
    }
}

/// `ssh [batch options] [sharing] [options] [-p port] [user@]host -- <remote>`, and the
/// session's place on a shared connection (held as long as the session lives). OpenSSH's
/// defaults for ciphers and key exchange are kept.
pub(super) fn ssh(to: &SshTarget, options: &[String], remote: &str) -> (Command, Option<Shared>) {
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
    let shared = Shared::take(to, options).map(|(shared, dir)| {
        c.args(["-o", "ControlMaster=auto", "-o", PERSIST, "-o"]);
        c.arg(format!("ControlPath={}/%C", dir.display()));
        shared
    });
    c.args(options);
    if let Some(p) = to.port {
        c.arg("-p").arg(p.to_string());
    }
    c.arg(to.destination());
    c.arg("--").arg(remote);
    (c, shared)
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
    let (mut cmd, _shared) = ssh(to, options, &script);
    let mut child = cmd
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_go_where_their_path_fits() {
        assert_eq!(
            socket_dir(Path::new("/var/lib/runner")),
            Path::new("/var/lib/runner/ssh")
        );
        let long = Path::new("/home/ops/a/rather/long/path/to/the/state/dir/of/runner/state");
        let dir = socket_dir(long);
        let uid = rustix::process::getuid().as_raw();
        assert!(
            dir.starts_with(format!("/tmp/runner-{uid}-ssh/")),
            "{dir:?}"
        );
        assert!(dir.as_os_str().len() + 1 + 40 + 17 < 104);
        assert_ne!(
            dir,
            socket_dir(&long.join("other")),
            "one dir per state dir"
        );
    }

    #[test]
    fn a_socket_dir_is_made_private() {
        let base = std::env::temp_dir().join(format!("runner-ssh-test-{}", std::process::id()));
        let dir = base.join("ssh");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // A symlink planted where the dir goes is refused, not followed.
        let planted = base.join("planted");
        std::os::unix::fs::symlink(&base, &planted).unwrap();
        assert!(private_dir(&planted).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
