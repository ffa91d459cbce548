//! `runner agent --stdio --root <dir>`: the far end of a sync target, spoken to over stdin/stdout
//! (through ssh for `ssh://`, as a local child for `file://`). It never writes outside `<dir>`:
//! every path from the wire is relative, has no `.`/`..`, and may not pass through a symlink.
//! Files are written to a temp name, checked against the announced sha256, fsynced and renamed.
//! A file the root already holds may come as a delta against that copy (`agent/delta.rs`),
//! rebuilt into the temp name and checked the same way.

pub mod delta;
pub mod mux;
pub mod protocol;

use std::fs::{self, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::fsutil::{fsync_dir, temp_path};
use crate::inventory::{self, HashCache};
use protocol::{
    CHUNK, Frame, Msg, ProtoError, RunKind, RunOptions, WireEntry, read_frame, write_data,
    write_msg,
};

/// The agent's own files (hash cache) live here, inside the root but hidden from manifests.
pub const AGENT_DIR: &str = ".runner-agent";

/// An agent started with `--app`: its root is that app's staging dir, and it may run a release
/// or rollback of that app for the client (a fleet release), with this config.
pub struct AppAgent {
    pub app: String,
    pub config: PathBuf,
}

/// The hash cache a release on this host keeps of the served dir (an app's staging dir in this
/// host's config: its state dir, and the staging dir as the config names it). The agent fills
/// it with what it receives, so that the release after a sync hashes none of it again.
pub struct ReleaseCache {
    pub state_dir: PathBuf,
    pub staging: PathBuf,
}

/// Why the agent ends a session (after telling the client, when it can).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{}", crate::t!("fleet-agent-create-root", path = .path, error = .source.to_string()))]
    CreateRoot {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::t!("fleet-agent-root", path = .path, error = .source.to_string()))]
    Root {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::t!("fleet-agent-client", error = .0.to_string()))]
    Client(#[source] std::io::Error),
    #[error(
        "{}",
        crate::t!(
            "fleet-agent-version",
            version = .version,
            runner = .runner,
            mine = env!("CARGO_PKG_VERSION"),
            protocol = protocol::VERSION
        )
    )]
    Version { version: u32, runner: String },
    #[error("{}", crate::t!("fleet-agent-no-hello", got = .0))]
    NoHello(String),
    #[error("{}", crate::t!("fleet-agent-bad-frame", error = .0.to_string()))]
    BadFrame(#[source] ProtoError),
    #[error("{}", crate::t!("fleet-agent-too-much-data", path = .path, size = .size))]
    TooMuchData { path: String, size: u64 },
    #[error("{}", crate::t!("fleet-agent-not-data", got = .0))]
    NotData(String),
    #[error("{}", crate::t!("fleet-agent-unexpected", got = .0))]
    Unexpected(String),
    #[error("{}", crate::t!("fleet-agent-wait", error = .0.to_string()))]
    Wait(#[source] std::io::Error),
}

/// Why the agent refuses one request: the client is told, and the session goes on.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{}", crate::t!("fleet-agent-not-relative"))]
    NotRelative,
    #[error("{}", crate::t!("fleet-agent-component", component = .0))]
    Component(String),
    #[error("{}", crate::t!("fleet-agent-reserved"))]
    Reserved,
    #[error("{}", crate::t!("fleet-agent-through-symlink", path = .0))]
    ThroughSymlink(PathBuf),
    #[error("{}", crate::t!("fleet-agent-not-a-dir", path = .0))]
    NotADir(PathBuf),
    #[error("{}", crate::t!("fleet-agent-is-a-dir"))]
    IsADir,
    #[error("{}", crate::t!("fleet-agent-outside-root"))]
    OutsideRoot,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{}", crate::t!("fleet-agent-mkdir", path = .path, error = .source.to_string()))]
    Mkdir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::t!("fleet-agent-create", path = .path, error = .source.to_string()))]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::t!("fleet-agent-write", error = .0.to_string()))]
    Write(#[source] std::io::Error),
    #[error("{}", crate::t!("fleet-agent-delta", error = .0))]
    Delta(String),
    #[error(
        "{}",
        crate::t!(
            "fleet-agent-mismatch",
            got = .got,
            sha256 = .sha256,
            size = .size,
            want = .want
        )
    )]
    Mismatch {
        got: u64,
        sha256: String,
        size: u64,
        want: String,
    },
    #[error("{}", crate::t!("fleet-agent-fsync", path = .path, error = .source.to_string()))]
    Fsync {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::t!("fleet-agent-rename", path = .path, error = .source.to_string()))]
    Rename {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::t!("fleet-agent-runs-nothing"))]
    RunsNothing,
    #[error("{}", crate::t!("fleet-agent-no-runner", error = .0.to_string()))]
    NoRunner(#[source] std::io::Error),
    #[error("{}", crate::t!("fleet-agent-spawn", command = .command, error = .source.to_string()))]
    Spawn {
        command: &'static str,
        source: std::io::Error,
    },
}

/// Serves one session. Ok when the client said `Bye` or closed the stream; Err on a protocol
/// violation (after telling the client, when possible).
pub fn serve(
    root: &Path,
    input: impl Read,
    output: impl Write,
    app: Option<&AppAgent>,
    release_cache: Option<&ReleaseCache>,
) -> Result<(), AgentError> {
    fs::create_dir_all(root).map_err(|source| AgentError::CreateRoot {
        path: root.to_path_buf(),
        source,
    })?;
    let root = fs::canonicalize(root).map_err(|source| AgentError::Root {
        path: root.to_path_buf(),
        source,
    })?;
    let mut conn = Conn {
        root,
        app,
        release_cache,
        r: BufReader::new(input),
        w: BufWriter::new(output),
        staged: Staged::default(),
    };
    if !conn.hello()? {
        return Ok(());
    }
    let end = conn.requests();
    conn.staged.discard();
    if let Err(e) = &end
        && !matches!(e, AgentError::Client(_))
    {
        // What the client is told is English, as everything on the wire (it may be recorded).
        let _ = conn.reply(&Msg::Error {
            message: crate::i18n::english(|| e.to_string()),
        });
    }
    end
}

/// One client's connection.
struct Conn<'a, R, W: Write> {
    root: PathBuf,
    app: Option<&'a AppAgent>,
    release_cache: Option<&'a ReleaseCache>,
    r: BufReader<R>,
    w: BufWriter<W>,
    staged: Staged,
}

impl<R: Read, W: Write> Conn<'_, R, W> {
    fn reply(&mut self, m: &Msg) -> Result<(), AgentError> {
        write_msg(&mut self.w, m)
            .and_then(|_| self.w.flush())
            .map_err(AgentError::Client)
    }

    /// Answers the client's hello; false when it left before saying one.
    fn hello(&mut self) -> Result<bool, AgentError> {
        match read_frame(&mut self.r) {
            Ok(Frame::Msg(Msg::Hello { version, .. })) if version == protocol::VERSION => {
                self.reply(&Msg::Hello {
                    version: protocol::VERSION,
                    runner: env!("CARGO_PKG_VERSION").into(),
                })?;
                Ok(true)
            }
            Ok(Frame::Msg(Msg::Hello { version, runner })) => {
                // Every version's client reads an `Error` in answer to its hello.
                let e = AgentError::Version { version, runner };
                let _ = self.reply(&Msg::Error {
                    message: crate::i18n::english(|| e.to_string()),
                });
                Err(e)
            }
            Ok(other) => Err(AgentError::NoHello(format!("{other:?}"))),
            Err(ProtoError::Closed) => Ok(false),
            Err(e) => Err(AgentError::BadFrame(e)),
        }
    }

    /// Requests until the client says `Bye` or goes away.
    fn requests(&mut self) -> Result<(), AgentError> {
        loop {
            let frame = match read_frame(&mut self.r) {
                Ok(f) => f,
                Err(ProtoError::Closed) => return Ok(()),
                Err(e) => return Err(AgentError::BadFrame(e)),
            };
            let answer = match frame {
                Frame::Msg(Msg::List) => {
                    let entries = manifest(&self.root).unwrap_or_else(|e| {
                        tracing::warn!(
                            "{}",
                            crate::t!("fleet-agent-manifest", error = e.to_string())
                        );
                        Vec::new()
                    });
                    Msg::Manifest { entries }
                }
                Frame::Msg(Msg::Sign { paths }) => {
                    self.sign(&paths)?;
                    continue;
                }
                Frame::Msg(m @ (Msg::Put(_) | Msg::PutDelta(_))) => {
                    let (entry, delta) = match m {
                        Msg::Put(e) => (e, false),
                        Msg::PutDelta(e) => (e, true),
                        _ => unreachable!("matched above"),
                    };
                    match receive(&self.root, &entry, &mut self.r, delta)? {
                        Ok(s) => {
                            self.staged.add(s);
                            Msg::Staged { path: entry.path }
                        }
                        Err(why) => refused(&entry.path, why),
                    }
                }
                Frame::Msg(Msg::Commit) => match self.staged.commit() {
                    Ok(files) => {
                        self.seed(&files);
                        Msg::Committed {
                            files: files.len() as u64,
                        }
                    }
                    Err(why) => Msg::Error {
                        message: crate::i18n::english(|| why.to_string()),
                    },
                },
                Frame::Msg(Msg::Delete { path }) => match delete(&self.root, &path) {
                    Ok(()) => Msg::Done { path },
                    Err(why) => refused(&path, why),
                },
                Frame::Msg(Msg::Run { kind, options }) => self.run(kind, options)?,
                Frame::Msg(Msg::Bye) => return Ok(()),
                other => return Err(AgentError::Unexpected(format!("{other:?}"))),
            };
            self.reply(&answer)?;
        }
    }

    /// Committed files are known by their checked sha256: the next manifest (and, for a fleet
    /// host, the next release's plan) need not hash them again.
    fn seed(&self, files: &[(PathBuf, String)]) {
        let mut caches = vec![HashCache::open(&self.root.join(AGENT_DIR), &self.root)];
        if let Some(c) = self.release_cache {
            caches.push(HashCache::open(&c.state_dir, &c.staging));
        }
        for (target, sha) in files {
            let Some(rel) = target
                .strip_prefix(&self.root)
                .ok()
                .and_then(|r| r.to_str())
            else {
                continue;
            };
            if let Ok(e) = inventory::stat(&self.root, rel) {
                for c in &mut caches {
                    c.seed(&e, sha.clone());
                }
            }
        }
        for c in caches {
            c.save();
        }
    }

    /// One `Signature` per path, in order, each followed by its bytes and `End`; no bytes
    /// for a path that is not a regular file here of a size a delta is worth it for.
    fn sign(&mut self, paths: &[String]) -> Result<(), AgentError> {
        for path in paths {
            let sig = safe_path(&self.root, path)
                .ok()
                .and_then(|p| delta::read_base(&p).ok())
                .filter(|base| base.len() as u64 >= delta::MIN)
                .map(|base| delta::signature(&base))
                .unwrap_or_default();
            let w = &mut self.w;
            let header = Msg::Signature {
                path: path.clone(),
                bytes: sig.len() as u64,
            };
            write_msg(w, &header)
                .and_then(|_| sig.chunks(CHUNK).try_for_each(|c| write_data(w, c)))
                .and_then(|_| write_msg(w, &Msg::End))
                .map_err(AgentError::Client)?;
        }
        self.w.flush().map_err(AgentError::Client)
    }

    /// A fleet host's release (or rollback), its events relayed; the answer is `Exited`.
    fn run(&mut self, kind: RunKind, options: RunOptions) -> Result<Msg, AgentError> {
        let Some(app) = self.app else {
            return Ok(Msg::Error {
                message: crate::i18n::english(|| Refusal::RunsNothing.to_string()),
            });
        };
        let w = &mut self.w;
        let mut event = |line: String| {
            write_msg(w, &Msg::Event { line })
                .and_then(|_| w.flush())
                .map_err(AgentError::Client)
        };
        Ok(match run_command(app, kind, options, &mut event)? {
            Ok((code, stderr)) => Msg::Exited { code, stderr },
            Err(why) => Msg::Error {
                message: crate::i18n::english(|| why.to_string()),
            },
        })
    }
}

fn refused(path: &str, why: Refusal) -> Msg {
    Msg::Error {
        message: crate::i18n::english(|| format!("{path}: {why}")),
    }
}

/// Runs `runner <kind> <app> --local --yes --events [options]` (for a status, `runner --json
/// status <app> --local`) with this agent's config, in the central runner's language,
/// passing each line it prints to `event`. Ok(Err) is a refusal (runner cannot start);
/// Err is the client gone.
fn run_command(
    app: &AppAgent,
    kind: RunKind,
    options: RunOptions,
    event: &mut dyn FnMut(String) -> Result<(), AgentError>,
) -> Result<Result<(i32, String), Refusal>, AgentError> {
    let command = kind.command();
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return Ok(Err(Refusal::NoRunner(e))),
    };
    let mut cmd = std::process::Command::new(exe);
    // In the central runner's language whatever the host's locale: what it prints is shown
    // there (what it records, the host's history and error, is English either way).
    let lang = options.lang.unwrap_or(crate::i18n::Lang::En);
    cmd.args(["--lang", lang.code()]).arg("-c").arg(&app.config);
    match kind {
        // Read-only, no options: the host's status document.
        RunKind::Status => cmd.args(["--json", command, &app.app, "--local"]),
        _ => cmd
            .args([command, &app.app, "--local", "--yes", "--events"])
            .args(options.flags()),
    };
    let mut child = match cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(source) => return Ok(Err(Refusal::Spawn { command, source })),
    };
    let mut err = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let out = BufReader::new(child.stdout.take().expect("piped"));
    let mut gone = None;
    for line in std::io::BufRead::lines(out) {
        let Ok(line) = line else { break };
        if gone.is_none()
            && let Err(e) = event(line)
        {
            // The client went away: the release still finishes (it is journaled), unwatched.
            gone = Some(e);
        }
    }
    let status = child.wait().map_err(AgentError::Wait)?;
    if let Some(e) = gone {
        return Err(e);
    }
    let stderr = stderr.join().unwrap_or_default();
    let tail: String = {
        let chars: Vec<char> = stderr.chars().collect();
        chars[chars.len().saturating_sub(4000)..].iter().collect()
    };
    Ok(Ok((status.code().unwrap_or(-1), tail)))
}

/// The root's files with their hashes (the agent keeps its own hash cache).
fn manifest(root: &Path) -> crate::error::Result<Vec<WireEntry>> {
    let entries = inventory::walk(root, &globset::GlobSet::empty())?;
    let mut cache = HashCache::open(&root.join(AGENT_DIR), root);
    cache.fill(&entries);
    let mut out = Vec::with_capacity(entries.len());
    for e in &entries {
        let sha256 = cache.hash(e, &mut |_| {})?;
        out.push(WireEntry {
            path: e.rel.clone(),
            size: e.size,
            mode: e.mode,
            mtime_ns: e.mtime_ns,
            sha256,
        });
    }
    cache.retain(&entries);
    cache.save();
    Ok(out)
}

/// Resolves a path from the wire under `root`, refusing anything that could leave it: empty,
/// absolute, `.`/`..`, NUL, runner's own temp names, and any existing parent that is not a
/// real directory (a symlink could point anywhere).
pub fn safe_path(root: &Path, rel: &str) -> Result<PathBuf, Refusal> {
    if rel.is_empty() || rel.contains('\0') || rel.starts_with('/') {
        return Err(Refusal::NotRelative);
    }
    let parts: Vec<&str> = rel.split('/').collect();
    for p in &parts {
        let ok = matches!(Path::new(p).components().next(), Some(Component::Normal(_)))
            && Path::new(p).components().count() == 1;
        if !ok || p.is_empty() || *p == "." || *p == ".." {
            return Err(Refusal::Component(p.to_string()));
        }
    }
    if parts[0] == AGENT_DIR || parts.last().is_some_and(|n| n.ends_with(".runner-tmp")) {
        return Err(Refusal::Reserved);
    }
    let mut cur = root.to_path_buf();
    for p in &parts[..parts.len() - 1] {
        cur.push(p);
        match fs::symlink_metadata(&cur) {
            Ok(md) if md.is_dir() => {}
            Ok(_) => return Err(Refusal::ThroughSymlink(cur)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Refusal::Io(e)),
        }
    }
    Ok(root.join(rel))
}

/// A received file: (its temp name, where it goes at `Commit`, its sha256).
type StagedFile = (PathBuf, PathBuf, String);

/// Receives one file's data frames into a temp file and checks them: the file itself, or
/// (`delta`) a delta against the copy at its path, no bigger than the file, rebuilt from that
/// copy. The outer Err ends the session (protocol violation); the inner Err is a refusal the
/// client is told about.
fn receive(
    root: &Path,
    e: &WireEntry,
    r: &mut impl Read,
    delta: bool,
) -> Result<Result<StagedFile, Refusal>, AgentError> {
    // Refused or not, the data frames that follow must be consumed.
    let mut sink: Sink =
        safe_path(root, &e.path).and_then(|t| open_temp(root, &t).map(|f| (f, temp_path(&t), t)));
    let mut h = Sha256::new();
    let mut got: u64 = 0;
    let mut patch = Vec::new();
    loop {
        match read_frame(r).map_err(AgentError::BadFrame)? {
            Frame::Data(d) => {
                got += d.len() as u64;
                // A delta is held in memory: never more than a delta's largest file.
                if got > e.size || (delta && got > delta::MAX) {
                    drop_temp(&sink);
                    return Err(AgentError::TooMuchData {
                        path: e.path.clone(),
                        size: e.size,
                    });
                }
                if delta {
                    patch.extend_from_slice(&d);
                } else {
                    write_chunk(&mut sink, &mut h, &d);
                }
            }
            Frame::Msg(Msg::End) => break,
            Frame::Msg(other) => {
                drop_temp(&sink);
                return Err(AgentError::NotData(format!("{other:?}")));
            }
        }
    }
    if delta && let Ok((_, tmp, target)) = &sink {
        match delta::read_base(target)
            .map_err(|e| Refusal::Delta(e.to_string()))
            .and_then(|base| delta::apply(&base, &patch, e.size).map_err(Refusal::Delta))
        {
            Ok(rebuilt) => {
                got = rebuilt.len() as u64;
                write_chunk(&mut sink, &mut h, &rebuilt);
            }
            Err(why) => {
                let _ = fs::remove_file(tmp);
                sink = Err(why);
            }
        }
    }
    let (f, tmp, target) = match sink {
        Ok(s) => s,
        Err(why) => return Ok(Err(why)),
    };
    let sha = hex::encode(h.finalize());
    if got != e.size || sha != e.sha256 {
        let _ = fs::remove_file(&tmp);
        return Ok(Err(Refusal::Mismatch {
            got,
            sha256: sha,
            size: e.size,
            want: e.sha256.clone(),
        }));
    }
    let finish = || -> std::io::Result<()> {
        f.set_permissions(fs::Permissions::from_mode(e.mode & 0o777))?;
        f.set_modified(UNIX_EPOCH + Duration::from_nanos(e.mtime_ns.max(0) as u64))
    };
    if let Err(err) = finish() {
        let _ = fs::remove_file(&tmp);
        return Ok(Err(Refusal::Io(err)));
    }
    Ok(Ok((tmp, target, sha)))
}

/// Files received and checked, under their temp names, until `Commit`.
#[derive(Default)]
struct Staged(Vec<StagedFile>);

impl Staged {
    fn add(&mut self, file: StagedFile) {
        self.0.retain(|(_, t, _)| *t != file.1);
        self.0.push(file);
    }

    /// fsync every temp (the first flush carries the rest on a journalling fs, so a batch
    /// costs about one flush, not one per file), rename each into place, fsync each dir once.
    /// The files committed: (where, sha256).
    fn commit(&mut self) -> Result<Vec<(PathBuf, String)>, Refusal> {
        let files = std::mem::take(&mut self.0);
        let mut result = Ok(());
        for (tmp, _, _) in &files {
            if let Err(e) = fs::File::open(tmp).and_then(|f| f.sync_all()) {
                result = Err(Refusal::Fsync {
                    path: tmp.clone(),
                    source: e,
                });
                break;
            }
        }
        if let Err(e) = result {
            for (tmp, _, _) in &files {
                let _ = fs::remove_file(tmp);
            }
            return Err(e);
        }
        let mut dirs = std::collections::BTreeSet::new();
        for (i, (tmp, target, _)) in files.iter().enumerate() {
            if let Err(e) = fs::rename(tmp, target) {
                for (tmp, _, _) in &files[i..] {
                    let _ = fs::remove_file(tmp);
                }
                result = Err(Refusal::Rename {
                    path: target.clone(),
                    source: e,
                });
                break;
            }
            dirs.insert(target.parent().expect("under root").to_path_buf());
        }
        for d in dirs {
            let _ = fsync_dir(&d);
        }
        result.map(|()| files.into_iter().map(|(_, t, sha)| (t, sha)).collect())
    }

    fn discard(&mut self) {
        for (tmp, _, _) in self.0.drain(..) {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Where a received file's bytes go: (temp file, its name, its target), or why not.
type Sink = Result<(fs::File, PathBuf, PathBuf), Refusal>;

/// Hashes `d` and writes it to the temp file; a failed write removes the temp and refuses.
fn write_chunk(sink: &mut Sink, h: &mut Sha256, d: &[u8]) {
    h.update(d);
    if let Ok((f, tmp, _)) = sink
        && let Err(err) = f.write_all(d)
    {
        let _ = fs::remove_file(&*tmp);
        *sink = Err(Refusal::Write(err));
    }
}

fn drop_temp(sink: &Sink) {
    if let Ok((_, tmp, _)) = sink {
        let _ = fs::remove_file(tmp);
    }
}

/// Creates the target's parent dirs (each checked by `safe_path` not to be a symlink) and a
/// fresh temp file beside it; `create_new` never follows a planted symlink.
fn open_temp(root: &Path, target: &Path) -> Result<fs::File, Refusal> {
    let rel = target
        .parent()
        .and_then(|p| p.strip_prefix(root).ok())
        .ok_or(Refusal::OutsideRoot)?;
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        match fs::create_dir(&cur) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !fs::symlink_metadata(&cur)
                    .map(|m| m.is_dir())
                    .unwrap_or(false)
                {
                    return Err(Refusal::NotADir(cur));
                }
            }
            Err(source) => return Err(Refusal::Mkdir { path: cur, source }),
        }
    }
    let tmp = temp_path(target);
    let _ = fs::remove_file(&tmp);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|source| Refusal::Create { path: tmp, source })
}

fn delete(root: &Path, rel: &str) -> Result<(), Refusal> {
    let target = safe_path(root, rel)?;
    match fs::symlink_metadata(&target) {
        Ok(md) if md.is_dir() => return Err(Refusal::IsADir),
        Ok(_) => fs::remove_file(&target)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Refusal::Io(e)),
    }
    // Directories the deletion emptied go too, as with `rsync --delete`.
    let mut dir = target.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        if d == root || fs::remove_dir(&d).is_err() {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    let _ = fsync_dir(target.parent().unwrap_or(root));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_the_wire_stay_under_root() {
        let root = std::env::temp_dir().join(format!("runner-agent-{}", std::process::id()));
        fs::create_dir_all(root.join("lib")).unwrap();
        let _ = std::os::unix::fs::symlink("/tmp", root.join("link"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "./a",
            "a//b",
            "link/x.jar",
            ".runner-agent/c",
            "a/.b.jar.runner-tmp",
            "a\0b",
        ] {
            assert!(safe_path(&root, bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            safe_path(&root, "lib/a.jar").unwrap(),
            root.join("lib/a.jar")
        );
        assert_eq!(
            safe_path(&root, "new/dir/a.jar").unwrap(),
            root.join("new/dir/a.jar")
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
