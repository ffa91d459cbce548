//! `runner agent --stdio --root <dir>`: the far end of a sync target, spoken to over stdin/stdout
//! (through ssh for `ssh://`, as a local child for `file://`). It never writes outside `<dir>`:
//! every path from the wire is relative, has no `.`/`..`, and may not pass through a symlink.
//! Files are written to a temp name, checked against the announced sha256, fsynced and renamed.

pub mod protocol;

use std::fs::{self, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::install::temp_path;
use crate::inventory::{self, HashCache};
use crate::journal::fsync_dir;
use protocol::{Frame, Msg, ProtoError, RunKind, RunOptions, WireEntry, read_frame, write_msg};

/// The agent's own files (hash cache) live here, inside the root but hidden from manifests.
pub const AGENT_DIR: &str = ".runner-agent";

/// An agent started with `--app`: its root is that app's staging dir, and it may run a release
/// or rollback of that app for the client (a fleet release), with this config.
pub struct AppAgent {
    pub app: String,
    pub config: PathBuf,
}

/// Serves one session. Ok when the client said `Bye` or closed the stream; Err on a protocol
/// violation (after telling the client, when possible).
pub fn serve(
    root: &Path,
    input: impl Read,
    output: impl Write,
    app: Option<&AppAgent>,
) -> Result<(), String> {
    fs::create_dir_all(root).map_err(|e| format!("cannot create root {}: {e}", root.display()))?;
    let root = fs::canonicalize(root).map_err(|e| format!("root {}: {e}", root.display()))?;
    let mut r = BufReader::new(input);
    let mut w = BufWriter::new(output);
    let reply = |w: &mut BufWriter<_>, m: &Msg| -> Result<(), String> {
        write_msg(w, m)
            .and_then(|_| w.flush())
            .map_err(|e| format!("writing to the client: {e}"))
    };
    match read_frame(&mut r) {
        Ok(Frame::Msg(Msg::Hello { version, .. })) if version == protocol::VERSION => {
            reply(
                &mut w,
                &Msg::Hello {
                    version: protocol::VERSION,
                    runner: env!("CARGO_PKG_VERSION").into(),
                },
            )?;
        }
        Ok(Frame::Msg(Msg::Hello { version, runner })) => {
            let message = format!(
                "protocol version {version} (runner {runner}) is not spoken here: this agent is runner {} with protocol {}",
                env!("CARGO_PKG_VERSION"),
                protocol::VERSION
            );
            let _ = reply(
                &mut w,
                &Msg::Error {
                    message: message.clone(),
                },
            );
            return Err(message);
        }
        Ok(other) => return Err(format!("expected hello, got {other:?}")),
        Err(ProtoError::Closed) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    }
    let mut staged = Staged::default();
    loop {
        let frame = match read_frame(&mut r) {
            Ok(f) => f,
            Err(ProtoError::Closed) => {
                staged.discard();
                return Ok(());
            }
            Err(e) => {
                staged.discard();
                let message = format!("bad frame: {e}");
                let _ = reply(
                    &mut w,
                    &Msg::Error {
                        message: message.clone(),
                    },
                );
                return Err(message);
            }
        };
        match frame {
            Frame::Msg(Msg::List) => {
                let entries = manifest(&root).unwrap_or_else(|e| {
                    tracing::warn!("manifest: {e}");
                    Vec::new()
                });
                reply(&mut w, &Msg::Manifest { entries })?;
            }
            Frame::Msg(Msg::Put(entry)) => {
                let res = receive(&root, &entry, &mut r);
                let res = match res {
                    Ok(r) => r,
                    Err(e) => {
                        staged.discard();
                        return Err(e);
                    }
                };
                reply(
                    &mut w,
                    &match res {
                        Ok(s) => {
                            staged.add(s);
                            Msg::Staged { path: entry.path }
                        }
                        Err(message) => Msg::Error {
                            message: format!("{}: {message}", entry.path),
                        },
                    },
                )?;
            }
            Frame::Msg(Msg::Commit) => {
                let m = match staged.commit() {
                    Ok(files) => Msg::Committed { files },
                    Err(message) => Msg::Error { message },
                };
                reply(&mut w, &m)?;
            }
            Frame::Msg(Msg::Delete { path }) => {
                let m = match delete(&root, &path) {
                    Ok(()) => Msg::Done { path },
                    Err(message) => Msg::Error {
                        message: format!("{path}: {message}"),
                    },
                };
                reply(&mut w, &m)?;
            }
            Frame::Msg(Msg::Run { kind, options }) => {
                let Some(app) = app else {
                    let message = "this agent serves a directory; it runs nothing".to_string();
                    reply(&mut w, &Msg::Error { message })?;
                    continue;
                };
                match run_command(app, kind, options, &mut |line| {
                    reply(&mut w, &Msg::Event { line })
                }) {
                    Ok(Ok((code, stderr))) => reply(&mut w, &Msg::Exited { code, stderr })?,
                    Ok(Err(message)) => reply(&mut w, &Msg::Error { message })?,
                    Err(e) => return Err(e),
                }
            }
            Frame::Msg(Msg::Bye) => {
                staged.discard();
                return Ok(());
            }
            other => {
                staged.discard();
                let message = format!("unexpected {other:?}");
                let _ = reply(
                    &mut w,
                    &Msg::Error {
                        message: message.clone(),
                    },
                );
                return Err(message);
            }
        }
    }
}

/// Runs `runner <kind> <app> --local --yes --events [options]` with this agent's config,
/// passing each line it prints to `event`. Ok(Err) is a refusal (runner cannot start);
/// Err is the client gone.
fn run_command(
    app: &AppAgent,
    kind: RunKind,
    options: RunOptions,
    event: &mut dyn FnMut(String) -> Result<(), String>,
) -> Result<Result<(i32, String), String>, String> {
    let command = kind.command();
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return Ok(Err(format!("cannot find runner itself: {e}"))),
    };
    let mut child = match std::process::Command::new(exe)
        .arg("-c")
        .arg(&app.config)
        .args([command, &app.app, "--local", "--yes", "--events"])
        .args(options.flags())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Ok(Err(format!("cannot start runner {command}: {e}"))),
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
    let status = child.wait().map_err(|e| e.to_string())?;
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
fn manifest(root: &Path) -> Result<Vec<WireEntry>, String> {
    let entries = inventory::walk(root, &globset::GlobSet::empty()).map_err(|e| e.to_string())?;
    let mut cache = HashCache::open(&root.join(AGENT_DIR), root);
    let mut out = Vec::with_capacity(entries.len());
    for e in &entries {
        let sha256 = cache.hash(e, &mut |_| {}).map_err(|e| e.to_string())?;
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
pub fn safe_path(root: &Path, rel: &str) -> Result<PathBuf, String> {
    if rel.is_empty() || rel.contains('\0') || rel.starts_with('/') {
        return Err("not a relative path".into());
    }
    let parts: Vec<&str> = rel.split('/').collect();
    for p in &parts {
        let ok = matches!(Path::new(p).components().next(), Some(Component::Normal(_)))
            && Path::new(p).components().count() == 1;
        if !ok || p.is_empty() || *p == "." || *p == ".." {
            return Err(format!("component `{p}` is not allowed"));
        }
    }
    if parts[0] == AGENT_DIR || parts.last().is_some_and(|n| n.ends_with(".runner-tmp")) {
        return Err("reserved name".into());
    }
    let mut cur = root.to_path_buf();
    for p in &parts[..parts.len() - 1] {
        cur.push(p);
        match fs::symlink_metadata(&cur) {
            Ok(md) if md.is_dir() => {}
            Ok(_) => return Err(format!("{} is not a directory (a symlink?)", cur.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(root.join(rel))
}

/// A received file: (its temp name, where it goes at `Commit`).
type StagedFile = (PathBuf, PathBuf);

/// Receives one file's data frames into a temp file and checks them. The outer Err ends the
/// session (protocol violation); the inner Err is a refusal the client is told about.
fn receive(
    root: &Path,
    e: &WireEntry,
    r: &mut impl Read,
) -> Result<Result<StagedFile, String>, String> {
    let target = safe_path(root, &e.path);
    // Refused or not, the data frames that follow must be consumed.
    let mut sink = match &target {
        Ok(t) => open_temp(root, t).map(|f| (f, temp_path(t))),
        Err(m) => Err(m.clone()),
    };
    let mut h = Sha256::new();
    let mut got: u64 = 0;
    loop {
        match read_frame(r).map_err(|e| format!("bad frame: {e}"))? {
            Frame::Data(d) => {
                got += d.len() as u64;
                if got > e.size {
                    drop_temp(&sink);
                    return Err(format!(
                        "{}: more data than the announced {} bytes",
                        e.path, e.size
                    ));
                }
                h.update(&d);
                if let Ok((f, tmp)) = &mut sink
                    && let Err(err) = f.write_all(&d)
                {
                    let _ = fs::remove_file(&*tmp);
                    sink = Err(format!("write: {err}"));
                }
            }
            Frame::Msg(Msg::End) => break,
            Frame::Msg(other) => {
                drop_temp(&sink);
                return Err(format!("expected file data, got {other:?}"));
            }
        }
    }
    let (f, tmp) = match sink {
        Ok(s) => s,
        Err(m) => return Ok(Err(m)),
    };
    let target = target.expect("a temp file exists only for a valid target");
    let sha = hex::encode(h.finalize());
    if got != e.size || sha != e.sha256 {
        let _ = fs::remove_file(&tmp);
        return Ok(Err(format!(
            "received {got} bytes with sha256 {sha}, announced {} bytes {}",
            e.size, e.sha256
        )));
    }
    let finish = || -> std::io::Result<()> {
        f.set_permissions(fs::Permissions::from_mode(e.mode & 0o777))?;
        f.set_modified(UNIX_EPOCH + Duration::from_nanos(e.mtime_ns.max(0) as u64))
    };
    if let Err(err) = finish() {
        let _ = fs::remove_file(&tmp);
        return Ok(Err(err.to_string()));
    }
    Ok(Ok((tmp, target)))
}

/// Files received and checked, under their temp names, until `Commit`.
#[derive(Default)]
struct Staged(Vec<StagedFile>);

impl Staged {
    fn add(&mut self, (tmp, target): StagedFile) {
        self.0.retain(|(_, t)| *t != target);
        self.0.push((tmp, target));
    }

    /// fsync every temp (the first flush carries the rest on a journalling fs, so a batch
    /// costs about one flush, not one per file), rename each into place, fsync each dir once.
    fn commit(&mut self) -> Result<u64, String> {
        let files = std::mem::take(&mut self.0);
        let mut result = Ok(files.len() as u64);
        for (tmp, _) in &files {
            if let Err(e) = fs::File::open(tmp).and_then(|f| f.sync_all()) {
                result = Err(format!("fsync {}: {e}", tmp.display()));
                break;
            }
        }
        if result.is_err() {
            for (tmp, _) in &files {
                let _ = fs::remove_file(tmp);
            }
            return result;
        }
        let mut dirs = std::collections::BTreeSet::new();
        for (i, (tmp, target)) in files.iter().enumerate() {
            if let Err(e) = fs::rename(tmp, target) {
                for (tmp, _) in &files[i..] {
                    let _ = fs::remove_file(tmp);
                }
                result = Err(format!("rename into {}: {e}", target.display()));
                break;
            }
            dirs.insert(target.parent().expect("under root").to_path_buf());
        }
        for d in dirs {
            let _ = fsync_dir(&d);
        }
        result
    }

    fn discard(&mut self) {
        for (tmp, _) in self.0.drain(..) {
            let _ = fs::remove_file(tmp);
        }
    }
}

fn drop_temp(sink: &Result<(fs::File, PathBuf), String>) {
    if let Ok((_, tmp)) = sink {
        let _ = fs::remove_file(tmp);
    }
}

/// Creates the target's parent dirs (each checked by `safe_path` not to be a symlink) and a
/// fresh temp file beside it; `create_new` never follows a planted symlink.
fn open_temp(root: &Path, target: &Path) -> Result<fs::File, String> {
    let parent = target.parent().ok_or("no parent")?;
    let rel = parent
        .strip_prefix(root)
        .map_err(|_| "outside root".to_string())?;
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
                    return Err(format!("{} is not a directory", cur.display()));
                }
            }
            Err(e) => return Err(format!("mkdir {}: {e}", cur.display())),
        }
    }
    let tmp = temp_path(target);
    let _ = fs::remove_file(&tmp);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| format!("create {}: {e}", tmp.display()))
}

fn delete(root: &Path, rel: &str) -> Result<(), String> {
    let target = safe_path(root, rel)?;
    match fs::symlink_metadata(&target) {
        Ok(md) if md.is_dir() => return Err("is a directory".into()),
        Ok(_) => fs::remove_file(&target).map_err(|e| e.to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.to_string()),
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
