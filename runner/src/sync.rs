//! Pushing a staging dir to a target: `file://` and `ssh://` through `runner agent --stdio`
//! (manifests with sha256, then only changed files, then deletions), `rsync://` through the
//! system `rsync`. A staged jar whose zip central directory does not read is never pushed.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use crate::agent::protocol::{
    self, CHUNK, Frame, Msg, ProtoError, RunKind, RunOptions, WireEntry, read_frame, write_data,
    write_msg,
};
use crate::config::{Config, SyncTarget};
use crate::error::{Error, Result};
use crate::hook::Hook;
use crate::inventory::FileMeta;
use crate::inventory::{self, HashCache};
use crate::jar;
use crate::plan::{Action, Change};
use crate::progress::Progress;

/// Called around a batch that changes a target: (hook, app = the source dir's name, target,
/// the batch's changes, the error on `after-sync`) → the reason to stop, if a plugin said abort.
pub type SyncHook<'a> =
    &'a (dyn Fn(Hook, &str, &str, &[Change], Option<&str>) -> Option<String> + Sync);

fn app_of(source: &Path) -> String {
    source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub source: PathBuf,
    pub target: String,
    pub sent: usize,
    pub bytes: u64,
    pub deleted: usize,
    pub unchanged: usize,
    /// Files not pushed (an incomplete jar), with why.
    pub skipped: Skipped,
    pub ms: u64,
}

/// A parsed target URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Url {
    File(PathBuf),
    Ssh {
        user: Option<String>,
        host: String,
        port: Option<u16>,
        path: String,
    },
    Rsync {
        user: Option<String>,
        host: String,
        port: Option<u16>,
        module_path: String,
    },
}

pub fn parse_url(s: &str) -> std::result::Result<Url, String> {
    let (scheme, rest) = s.split_once("://").ok_or("no scheme")?;
    if scheme == "file" {
        if !rest.starts_with('/') {
            return Err("file:// needs an absolute path (file:///dir)".into());
        }
        return Ok(Url::File(PathBuf::from(rest)));
    }
    let (authority, path) = rest.split_at(rest.find('/').ok_or("no path")?);
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h),
        None => (None, authority),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h.to_string(),
            Some(p.parse().map_err(|_| format!("bad port `{p}`"))?),
        ),
        None => (hostport.to_string(), None),
    };
    if host.is_empty() || path.len() < 2 {
        return Err("needs a host and a path".into());
    }
    match scheme {
        "ssh" => Ok(Url::Ssh {
            user,
            host,
            port,
            path: path.to_string(),
        }),
        "rsync" => Ok(Url::Rsync {
            user,
            host,
            port,
            module_path: path[1..].to_string(),
        }),
        other => Err(format!("unknown scheme `{other}`")),
    }
}

/// `ssh [batch options] [row's options] [-p port] [user@]host -- <remote>`.
fn ssh(row: &SyncTarget, url: &Url, remote: &str) -> Command {
    let Url::Ssh {
        user, host, port, ..
    } = url
    else {
        unreachable!("ssh() is for ssh:// URLs")
    };
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
    c.args(&row.ssh_options);
    if let Some(p) = port {
        c.arg("-p").arg(p.to_string());
    }
    c.arg(match user {
        Some(u) => format!("{u}@{host}"),
        None => host.clone(),
    });
    c.arg("--").arg(remote);
    c
}

/// Copies this very binary to `~/.runner/bin/runner-<version>` on the host (temp name, sha256
/// checked there, then renamed), for a host that lacks runner or has another version. Returns
/// the agent path to use.
pub fn install_agent(row: &SyncTarget, url: &Url) -> std::result::Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find runner itself: {e}"))?;
    let sha = inventory::hash_file(&exe, &mut |_| {}).map_err(|e| e.to_string())?;
    let body =
        std::fs::File::open(&exe).map_err(|e| format!("cannot read {}: {e}", exe.display()))?;
    let version = env!("CARGO_PKG_VERSION");
    let dest = format!(".runner/bin/runner-{version}");
    let script = format!(
        "set -e; cd \"$HOME\"; mkdir -p .runner/bin; t=$(mktemp .runner/bin/.runner.XXXXXX); cat > \"$t\"; \
         s=$(sha256sum \"$t\" | cut -d' ' -f1); \
         if [ \"$s\" != {sha} ]; then rm -f \"$t\"; echo \"sha256 mismatch: $s\" >&2; exit 1; fi; \
         chmod 755 \"$t\"; mv -f \"$t\" {dest}; echo \"$HOME/{dest}\""
    );
    // The binary streams from its file into ssh's stdin.
    let out = ssh(row, url, &script)
        .stdin(Stdio::from(body))
        .output()
        .map_err(|e| format!("ssh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ssh exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    tracing::info!(%path, "installed runner on the host");
    Ok(path)
}

/// Quotes a word for the remote shell ssh hands the command to.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Files held back, with why.
type Skipped = Vec<(String, String)>;

/// The local files of a source dir, hashed (cached), split into pushable and skipped. An
/// archive's central directory is read once per content (the verdict is cached with its hash).
fn local_manifest(cfg: &Config, source: &Path) -> Result<(Vec<WireEntry>, Skipped)> {
    let entries = inventory::walk(source, &globset::GlobSet::empty())?;
    let mut cache = HashCache::open(&cfg.state_dir, source);
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for e in &entries {
        if jar::is_archive(&e.rel) && !cache.zip_ok(e) {
            if let Err(why) = jar::check(&source.join(&e.rel)) {
                skipped.push((e.rel.clone(), format!("incomplete archive: {why}")));
                continue;
            }
            cache.mark_zip_ok(e);
        }
        out.push(WireEntry {
            path: e.rel.clone(),
            size: e.size,
            mode: e.mode,
            mtime_ns: e.mtime_ns,
            sha256: cache.hash(e, &mut |_| {})?,
        });
    }
    cache.retain(&entries);
    cache.save();
    Ok((out, skipped))
}

/// One `[[sync]]` row, once.
pub fn run(cfg: &Config, row: &SyncTarget, hook: Option<SyncHook>) -> Result<SyncReport> {
    let url = parse_url(&row.target).map_err(|e| Error::Usage(format!("{}: {e}", row.target)))?;
    let t = Instant::now();
    let mut report = match url {
        Url::Rsync { .. } => {
            // rsync decides the file list itself: the hooks see the batch without its files.
            let app = app_of(&row.source);
            if let Some(reason) =
                hook.and_then(|h| h(Hook::BeforeSync, &app, &row.target, &[], None))
            {
                return Err(Error::Sync {
                    target: row.target.clone(),
                    message: reason,
                });
            }
            let r = rsync(row, &url);
            if let Some(h) = hook {
                let err = r.as_ref().err().map(|e| e.to_string());
                let _ = h(Hook::AfterSync, &app, &row.target, &[], err.as_deref());
            }
            r?
        }
        _ => {
            let mut s = Session::open(row, &url)?;
            let r = s.reconcile(cfg, &row.source, hook);
            if r.is_ok() {
                s.close(true);
            }
            r?
        }
    };
    report.source = row.source.clone();
    report.target = row.target.clone();
    report.ms = t.elapsed().as_millis() as u64;
    Ok(report)
}

/// A live `runner agent --stdio` on the other end.
pub struct Session {
    target: String,
    child: Child,
    w: BufWriter<ChildStdin>,
    r: BufReader<ChildStdout>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    pub fn open(row: &SyncTarget, url: &Url) -> Result<Session> {
        let cmd = match url {
            Url::File(path) => {
                let exe = std::env::current_exe().map_err(Error::io("locate", "runner"))?;
                let mut c = Command::new(exe);
                c.args(["agent", "--stdio", "--root"]).arg(path);
                c
            }
            Url::Ssh { path, .. } => ssh(
                row,
                url,
                &format!(
                    "{} agent --stdio --root {}",
                    shell_quote(&row.agent),
                    shell_quote(path)
                ),
            ),
            Url::Rsync { .. } => unreachable!("rsync targets do not use the agent"),
        };
        Session::start(row, cmd)
    }

    /// A fleet host's agent for `app`: its root is the app's staging dir in the host's config
    /// (`config`, or the one runner finds there), and it can run the app's release.
    pub fn open_app(
        row: &SyncTarget,
        url: &Url,
        app: &str,
        config: Option<&str>,
    ) -> Result<Session> {
        let mut remote = shell_quote(&row.agent);
        if let Some(c) = config {
            remote.push_str(&format!(" -c {}", shell_quote(c)));
        }
        remote.push_str(&format!(" agent --stdio --app {}", shell_quote(app)));
        Session::start(row, ssh(row, url, &remote))
    }

    fn start(row: &SyncTarget, mut cmd: Command) -> Result<Session> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Sync {
                target: row.target.clone(),
                message: format!("cannot start the transport: {e}"),
            })?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_reader = child.stderr.take().map(|mut err| {
            let buf = stderr.clone();
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = err.read_to_string(&mut s);
                buf.lock().unwrap_or_else(|e| e.into_inner()).push_str(&s);
            })
        });
        let w = BufWriter::new(child.stdin.take().expect("piped"));
        let r = BufReader::new(child.stdout.take().expect("piped"));
        let mut s = Session {
            target: row.target.clone(),
            child,
            w,
            r,
            stderr,
            stderr_reader,
        };
        let hello = Msg::Hello {
            version: protocol::VERSION,
            runner: env!("CARGO_PKG_VERSION").into(),
        };
        let answer = write_msg(&mut s.w, &hello)
            .and_then(|_| s.w.flush())
            .map_err(ProtoError::Io)
            .and_then(|()| read_frame(&mut s.r));
        match answer {
            Ok(Frame::Msg(Msg::Hello { version, .. })) if version == protocol::VERSION => Ok(s),
            // An agent answers a hello with an error only when it speaks another version.
            Ok(Frame::Msg(Msg::Error { message })) => {
                let _ = s.broken(String::new());
                Err(Error::AgentVersion {
                    target: s.target.clone(),
                    message,
                })
            }
            Ok(other) => Err(s.broken(format!("unexpected answer to hello: {other:?}"))),
            Err(e) => Err(s.no_hello(row, e)),
        }
    }

    /// The transport's exit code. `closed`: it closed its end, so it has exited or is about
    /// to (given a few seconds); otherwise it is stopped first.
    fn exit_code(&mut self, closed: bool) -> Option<i32> {
        if closed {
            let deadline = Instant::now() + std::time::Duration::from_secs(5);
            while Instant::now() < deadline {
                match self.child.try_wait() {
                    Ok(Some(status)) => return status.code(),
                    Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
                    Err(_) => break,
                }
            }
        }
        let _ = self.child.kill();
        self.child.wait().ok().and_then(|s| s.code())
    }

    /// The transport ended before any hello: the agent is missing when the remote shell says
    /// so by its exit status (127: not found, 126: not executable), else the transport failed.
    fn no_hello(&mut self, row: &SyncTarget, e: ProtoError) -> Error {
        let status = self.exit_code(matches!(e, ProtoError::Closed));
        if let Some(h) = self.stderr_reader.take() {
            let _ = h.join();
        }
        let said = self
            .stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .trim()
            .to_string();
        match status {
            Some(code @ (126 | 127)) => Error::AgentMissing {
                target: self.target.clone(),
                agent: row.agent.clone(),
                why: if said.is_empty() {
                    format!("exit status {code}")
                } else {
                    said
                },
            },
            _ => self.fail(if said.is_empty() {
                format!("agent: {e}")
            } else {
                format!("agent: {e}; the transport said: {said}")
            }),
        }
    }

    /// The session is unusable: stop the transport, and explain with what it printed.
    fn broken(&mut self, message: String) -> Error {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(h) = self.stderr_reader.take() {
            let _ = h.join();
        }
        let err = self
            .stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .trim()
            .to_string();
        self.fail(if err.is_empty() {
            message
        } else {
            format!("{message}; the transport said: {err}")
        })
    }

    fn fail(&self, message: String) -> Error {
        Error::Sync {
            target: self.target.clone(),
            message,
        }
    }

    fn send(&mut self, m: &Msg) -> Result<()> {
        match write_msg(&mut self.w, m).and_then(|_| self.w.flush()) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.broken(format!("sending: {e}"))),
        }
    }

    fn recv(&mut self) -> Result<Msg> {
        match read_frame(&mut self.r) {
            Ok(Frame::Msg(m)) => Ok(m),
            Ok(Frame::Data(_)) => Err(self.broken("unexpected data from the agent".into())),
            Err(e) => Err(self.broken(format!("agent: {e}"))),
        }
    }

    /// The target's manifest.
    pub fn list(&mut self) -> Result<Vec<WireEntry>> {
        self.send(&Msg::List)?;
        match self.recv()? {
            Msg::Manifest { entries } => Ok(entries),
            other => Err(self.fail(format!("expected a manifest, got {other:?}"))),
        }
    }

    /// Makes the target hold what `source` holds: changed files sent, missing ones deleted.
    pub fn reconcile(
        &mut self,
        cfg: &Config,
        source: &Path,
        hook: Option<SyncHook>,
    ) -> Result<SyncReport> {
        let remote = self.list()?;
        let (local, skipped) = local_manifest(cfg, source)?;
        let remote_by: std::collections::HashMap<&str, &WireEntry> =
            remote.iter().map(|e| (e.path.as_str(), e)).collect();
        let send: Vec<&WireEntry> = local
            .iter()
            .filter(|l| {
                // Content, mtime and mode are kept: a touch or chmod goes out too.
                remote_by.get(l.path.as_str()).is_none_or(|r| {
                    r.sha256 != l.sha256 || r.mtime_ns != l.mtime_ns || r.mode != l.mode
                })
            })
            .collect();
        let keep: std::collections::HashSet<&str> = local
            .iter()
            .map(|e| e.path.as_str())
            .chain(skipped.iter().map(|(p, _)| p.as_str()))
            .collect();
        let delete: Vec<&str> = remote
            .iter()
            .map(|e| e.path.as_str())
            .filter(|p| !keep.contains(p))
            .collect();
        let changes = batch(&send, &delete, &remote_by);
        if !changes.is_empty()
            && let Some(reason) = hook.and_then(|h| {
                h(
                    Hook::BeforeSync,
                    &app_of(source),
                    &self.target,
                    &changes,
                    None,
                )
            })
        {
            return Err(self.fail(reason));
        }
        let mut report = SyncReport {
            unchanged: local.len() - send.len(),
            skipped,
            ..SyncReport::default()
        };
        let r = self.transfer(source, &send, &delete, &mut report);
        if !changes.is_empty()
            && let Some(h) = hook
        {
            let err = r.as_ref().err().map(|e| e.to_string());
            let _ = h(
                Hook::AfterSync,
                &app_of(source),
                &self.target,
                &changes,
                err.as_deref(),
            );
        }
        r.map(|()| report)
    }

    /// Sends the changed files, then the deletions, pipelined: requests stream out while a
    /// reader collects the agent's one reply per request, so a batch of many small files is not
    /// a round trip (and a Nagle stall) per file. A file that changes or vanishes while it is
    /// read is sent short or long of its announced size and sha256, and the agent refuses it.
    fn transfer(
        &mut self,
        source: &Path,
        send: &[&WireEntry],
        delete: &[&str],
        report: &mut SyncReport,
    ) -> Result<()> {
        let progress = Progress::bytes(
            &format!("sync {}", self.target),
            send.iter().map(|e| e.size).sum(),
        );
        // One reply per put, one for the commit, one per deletion (after the commit, so a file
        // renamed at the source is never missing from the target in between).
        let expected = send.len() + 1 + delete.len();
        let (w, r) = (&mut self.w, &mut self.r);
        let (written, replies) = std::thread::scope(|s| {
            let reader = s.spawn(move || {
                let mut out = Vec::with_capacity(expected);
                while out.len() < expected {
                    match read_frame(r) {
                        Ok(Frame::Msg(m)) => out.push(Ok(m)),
                        Ok(Frame::Data(_)) => {
                            out.push(Err("unexpected data from the agent".to_string()));
                            break;
                        }
                        Err(e) => {
                            out.push(Err(format!("agent: {e}")));
                            break;
                        }
                    }
                }
                out
            });
            let written = write_requests(w, source, send, delete, &progress);
            (written, reader.join().unwrap_or_default())
        });
        progress.finish();
        if let Err(e) = written {
            return Err(self.broken(format!("sending: {e}")));
        }
        if replies.len() < expected || replies.iter().any(|r| r.is_err()) {
            let why = replies
                .into_iter()
                .find_map(|r| r.err())
                .unwrap_or_else(|| "the agent stopped answering".into());
            return Err(self.broken(why));
        }
        let mut refused = Vec::new();
        let mut staged = 0;
        let mut staged_bytes = 0;
        for (i, reply) in replies.into_iter().flatten().enumerate() {
            match reply {
                Msg::Staged { .. } if i < send.len() => {
                    staged += 1;
                    staged_bytes += send[i].size;
                }
                Msg::Committed { .. } if i == send.len() => {
                    report.sent += staged;
                    report.bytes += staged_bytes;
                }
                Msg::Done { .. } if i > send.len() => report.deleted += 1,
                Msg::Error { message } => refused.push(message),
                other => return Err(self.broken(format!("unexpected reply {other:?}"))),
            }
        }
        match refused.len() {
            0 => Ok(()),
            1 => Err(self.fail(format!("the agent refused {}", refused[0]))),
            n => Err(self.fail(format!(
                "the agent refused {n} requests, the first: {}",
                refused[0]
            ))),
        }
    }

    /// Runs the release (or rollback) of an `--app` agent's app on its host, passing each
    /// line it prints to `event`; returns its exit code and the end of its stderr. A
    /// connection lost on the way is an error naming it.
    pub fn run(
        &mut self,
        kind: RunKind,
        options: RunOptions,
        event: &mut dyn FnMut(&str),
    ) -> Result<(i32, String)> {
        let command = kind.command();
        if let Err(e) =
            write_msg(&mut self.w, &Msg::Run { kind, options }).and_then(|_| self.w.flush())
        {
            return Err(self.broken(format!("sending: {e}")));
        }
        loop {
            match read_frame(&mut self.r) {
                Ok(Frame::Msg(Msg::Event { line })) => event(&line),
                Ok(Frame::Msg(Msg::Exited { code, stderr })) => return Ok((code, stderr)),
                Ok(Frame::Msg(Msg::Error { message })) => return Err(self.fail(message)),
                Ok(other) => {
                    return Err(self.broken(format!("unexpected {other:?} during {command}")));
                }
                Err(e) => {
                    return Err(self.broken(format!("connection lost during {command}: {e}")));
                }
            }
        }
    }

    /// Ends the session (saying goodbye when it is healthy) and reaps the transport.
    pub fn close(mut self, ok: bool) {
        if ok {
            let _ = write_msg(&mut self.w, &Msg::Bye).and_then(|_| self.w.flush());
        } else {
            let _ = self.child.kill();
        }
        drop(self.w);
        let _ = self.child.wait();
    }
}

/// Writes one request per file to send (header, data frames of at most its announced size,
/// end) and one per deletion.
fn write_requests(
    w: &mut impl Write,
    source: &Path,
    send: &[&WireEntry],
    delete: &[&str],
    progress: &Progress,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    for e in send {
        write_msg(w, &Msg::Put((*e).clone()))?;
        // A file that vanished is sent empty: the agent refuses it and the batch is retried.
        if let Ok(f) = std::fs::File::open(source.join(&e.path)) {
            let mut f = f.take(e.size);
            loop {
                let n = match f.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                write_data(w, &buf[..n])?;
                progress.inc(n as u64);
            }
        }
        write_msg(w, &Msg::End)?;
    }
    write_msg(w, &Msg::Commit)?;
    for p in delete {
        write_msg(
            w,
            &Msg::Delete {
                path: p.to_string(),
            },
        )?;
    }
    w.flush()
}

/// The changes a batch makes to a target, for plugin hooks.
fn batch(
    send: &[&WireEntry],
    delete: &[&str],
    remote: &std::collections::HashMap<&str, &WireEntry>,
) -> Vec<Change> {
    let meta = |e: &WireEntry| FileMeta {
        sha256: e.sha256.clone(),
        size: e.size,
        mode: e.mode,
        mtime_ns: e.mtime_ns,
    };
    let mut out: Vec<Change> = send
        .iter()
        .map(|e| {
            let old = remote.get(e.path.as_str()).map(|r| meta(r));
            Change {
                action: if old.is_some() {
                    Action::Modified
                } else {
                    Action::Added
                },
                path: e.path.clone(),
                source: None,
                old,
                new: Some(meta(e)),
                entries: None,
            }
        })
        .collect();
    out.extend(delete.iter().map(|p| Change {
        action: Action::Removed,
        path: p.to_string(),
        source: None,
        old: remote.get(p).map(|r| meta(r)),
        new: None,
        entries: None,
    }));
    out
}

/// `rsync://`: the system rsync against an rsync daemon, as sites that keep their daemons have it.
fn rsync(row: &SyncTarget, url: &Url) -> Result<SyncReport> {
    let Url::Rsync {
        user,
        host,
        port,
        module_path,
    } = url
    else {
        unreachable!()
    };
    let dest = format!(
        "rsync://{}{host}{}/{module_path}/",
        user.as_ref().map(|u| format!("{u}@")).unwrap_or_default(),
        port.map(|p| format!(":{p}")).unwrap_or_default()
    );
    // Incomplete archives stay home; excluded, their remote copies are also safe from --delete.
    let mut skipped = Vec::new();
    for e in inventory::walk(&row.source, &globset::GlobSet::empty())? {
        if jar::is_archive(&e.rel)
            && let Err(why) = jar::check(&row.source.join(&e.rel))
        {
            skipped.push((e.rel, format!("incomplete archive: {why}")));
        }
    }
    let mut c = Command::new("rsync");
    c.args([
        "-rt",
        "--delete",
        "--delay-updates",
        "--stats",
        "--timeout=30",
        // A batch is a few small request/response exchanges: no Nagle stalls on them.
        "--sockopts=TCP_NODELAY",
    ]);
    // Dotfiles and partial-upload names are not part of the tree, as for the other targets.
    c.args([
        "--exclude=.*",
        "--exclude=*.tmp",
        "--exclude=*.part",
        "--exclude=*.filepart",
    ]);
    for (rel, _) in &skipped {
        c.arg(format!("--exclude=/{rel}"));
    }
    if let Some(pf) = &row.password_file {
        c.arg(format!("--password-file={}", pf.display()));
    }
    c.arg(format!("{}/", row.source.display())).arg(&dest);
    let out = c.output().map_err(|e| Error::Sync {
        target: row.target.clone(),
        message: format!("cannot run rsync: {e}"),
    })?;
    // 23 (partial transfer) and 24 (vanished source files) are failures to retry, not success.
    if !out.status.success() {
        return Err(Error::Sync {
            target: row.target.clone(),
            message: format!(
                "rsync exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let stats = String::from_utf8_lossy(&out.stdout);
    let num = |label: &str| -> u64 {
        stats
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.replace(',', "").parse().ok())
            .unwrap_or(0)
    };
    Ok(SyncReport {
        sent: num("Number of regular files transferred:") as usize,
        bytes: num("Total transferred file size:"),
        deleted: num("Number of deleted files:") as usize,
        skipped,
        ..SyncReport::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("file:///srv/x").unwrap(),
            Url::File("/srv/x".into())
        );
        assert_eq!(
            parse_url("ssh://ops@app1:2222/home/ops/update/pdms").unwrap(),
            Url::Ssh {
                user: Some("ops".into()),
                host: "app1".into(),
                port: Some(2222),
                path: "/home/ops/update/pdms".into()
            }
        );
        assert!(
            matches!(parse_url("rsync://rsync_backup@h/pdms").unwrap(), Url::Rsync { module_path, .. } if module_path == "pdms")
        );
        assert!(parse_url("ssh://host").is_err());
        assert!(parse_url("file://rel").is_err());
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
    }
}
