//! A session with a `runner agent --stdio` on the far end of a `file://` or `ssh://` target (or
//! of a fleet host): hello, manifests, batches of files committed together, deletions, and a
//! fleet host's release run there. A changed file the target already holds goes as a delta
//! against that copy (`agent/delta.rs`).

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::mux::{Channel, Mux};
use super::ssh::{Shared, shell_quote, ssh};
use super::{Guard, SyncHook, SyncReport, app_of, local_manifest};
use crate::address::{SshTarget, Url};
use crate::agent::delta;
use crate::agent::protocol::{
    self, CHUNK, Frame, Msg, ProtoError, RunKind, RunOptions, WireEntry, read_frame, write_data,
    write_msg,
};
use crate::config::{Config, Fleet, SyncTarget};
use crate::error::{Error, Result};
use crate::hook::Hook;
use crate::inventory::FileMeta;
use crate::plan::{Action, Change};
use crate::progress::Progress;

/// The config this process runs with, for the agents of its `file://` targets.
static LOCAL_CONFIG: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Tells the agents of `file://` targets the config this runner reads.
pub fn local_config(path: &Path) {
    let _ = LOCAL_CONFIG.set(crate::fsutil::absolute(path));
}

/// A live `runner agent --stdio` on the other end.
pub struct Session {
    target: String,
    transport: Transport,
    w: BufWriter<Counted<Box<dyn Write + Send>>>,
    r: BufReader<Counted<Box<dyn Read + Send>>>,
}

/// How a session reaches its agent.
enum Transport {
    /// A process of its own: the agent (`file://`), or ssh running it (a fleet host).
    Process {
        child: Child,
        stderr: Arc<Mutex<String>>,
        /// Closed when its stderr ended.
        stderr_ended: Option<mpsc::Receiver<()>>,
        /// Its place on the host's shared ssh connection, if it has one.
        shared: Option<Shared>,
    },
    /// A channel of the one ssh session and agent this process has on the host (`ssh://`).
    Channel(Channel),
}

impl Session {
    /// The agent of a `file://` or `ssh://` target.
    pub fn open(row: &SyncTarget) -> Result<Session> {
        let cmd = match &row.url {
            Url::File(path) => {
                let exe = std::env::current_exe().map_err(Error::io("locate", "runner"))?;
                let mut c = Command::new(exe);
                c.args(["agent", "--stdio", "--root"]).arg(path);
                // The same box: its agent finds the config this runner reads (whose release
                // cache it fills when it serves an app's staging dir).
                if let Some(config) = LOCAL_CONFIG.get() {
                    c.env("RUNNER_CONFIG", config);
                }
                (c, None)
            }
            Url::Ssh { to, path } => {
                let mux = Mux::get(to, &row.ssh_options, &row.agent).map_err(|e| Error::Sync {
                    target: row.target.clone(),
                    message: crate::t!("sync-cannot-start-transport", error = e.to_string()),
                })?;
                let mut channel = mux.open(path);
                let (r, w) = channel.streams();
                return Session::begin(
                    &row.target,
                    &row.agent,
                    Transport::Channel(channel),
                    Box::new(w),
                    Box::new(r),
                );
            }
            Url::Rsync(_) => {
                return Err(Error::Sync {
                    target: row.target.clone(),
                    message: crate::t!("sync-rsync-by-rsync"),
                });
            }
        };
        Session::start(&row.target, &row.agent, cmd)
    }

    /// A fleet host's agent for `app`: its root is the app's staging dir in the host's config
    /// (`config`, or the one runner finds there), and it can run the app's release.
    pub fn open_app(to: &SshTarget, via: &Fleet, app: &str) -> Result<Session> {
        let mut remote = shell_quote(&via.agent);
        if let Some(c) = &via.config {
            remote.push_str(&format!(" -c {}", shell_quote(c)));
        }
        // en: the remote command line
        remote.push_str(&format!(" agent --stdio --app {}", shell_quote(app)));
        let target = format!("ssh://{to}");
        Session::start(&target, &via.agent, ssh(to, &via.ssh_options, &remote))
    }

    fn start(
        target: &str,
        agent: &str,
        (mut cmd, shared): (Command, Option<Shared>),
    ) -> Result<Session> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Sync {
                target: target.to_string(),
                message: crate::t!("sync-cannot-start-transport", error = e.to_string()),
            })?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_ended = child
            .stderr
            .take()
            .map(|err| collect_stderr(err, stderr.clone()));
        let w = Box::new(child.stdin.take().expect("piped"));
        let r = Box::new(child.stdout.take().expect("piped"));
        let transport = Transport::Process {
            child,
            stderr,
            stderr_ended,
            shared,
        };
        Session::begin(target, agent, transport, w, r)
    }

    /// Says hello on a transport.
    fn begin(
        target: &str,
        agent: &str,
        transport: Transport,
        w: Box<dyn Write + Send>,
        r: Box<dyn Read + Send>,
    ) -> Result<Session> {
        let mut s = Session {
            target: target.to_string(),
            transport,
            w: BufWriter::new(Counted::new(w)),
            r: BufReader::new(Counted::new(r)),
        };
        let hello = Msg::Hello {
            version: protocol::VERSION,
            runner: env!("CARGO_PKG_VERSION").into(),
        };
        let answer = write_msg(&mut s.w, &hello)
            .and_then(|_| s.w.flush())
            .map_err(ProtoError::Io)
            .and_then(|()| read_frame(&mut s.r));
        s.transport.connected(answer.is_ok());
        match answer {
            Ok(Frame::Msg(Msg::Hello { version, .. })) if version == protocol::VERSION => Ok(s),
            // An agent answers a hello with an error only when it speaks another version.
            Ok(Frame::Msg(Msg::Error { message })) => {
                s.stop();
                Err(Error::AgentVersion {
                    target: s.target.clone(),
                    message,
                })
            }
            Ok(other) => Err(s.broken(crate::t!(
                "sync-unexpected-hello",
                answer = format!("{other:?}")
            ))),
            Err(e) => Err(s.no_hello(agent, e)),
        }
    }

    /// The transport ended before any hello: the agent is missing when the remote shell says
    /// so by its exit status (127: not found, 126: not executable), else the transport failed.
    fn no_hello(&mut self, agent: &str, e: ProtoError) -> Error {
        let status = self.transport.exit_code(matches!(e, ProtoError::Closed));
        let said = self.transport.said();
        match status {
            // An older runner there, which does not know `--mux`.
            Some(2) if said.contains("--mux") => Error::AgentVersion {
                target: self.target.clone(),
                message: crate::t!("sync-agent-no-mux", agent = agent, said = said),
            },
            Some(code @ (126 | 127)) => Error::AgentMissing {
                target: self.target.clone(),
                agent: agent.to_string(),
                why: if said.is_empty() {
                    crate::t!("sync-exit-status", code = code)
                } else {
                    said
                },
            },
            _ => self.fail(with_said(
                crate::t!("sync-agent-error", error = e.to_string()),
                &said,
            )),
        }
    }

    /// The session is unusable: stop the transport, and explain with what it printed.
    fn broken(&mut self, message: String) -> Error {
        let said = self.stop();
        self.fail(with_said(message, &said))
    }

    /// Stops the transport; what it printed on stderr.
    fn stop(&mut self) -> String {
        self.transport.stop();
        self.transport.said()
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
            Err(e) => Err(self.broken(crate::t!("sync-sending", error = e.to_string()))),
        }
    }

    fn recv(&mut self) -> Result<Msg> {
        match read_frame(&mut self.r) {
            Ok(Frame::Msg(m)) => Ok(m),
            Ok(Frame::Data(_)) => Err(self.broken(crate::t!("sync-unexpected-data"))),
            Err(e) => Err(self.broken(crate::t!("sync-agent-error", error = e.to_string()))),
        }
    }

    /// The target's manifest.
    pub fn list(&mut self) -> Result<Vec<WireEntry>> {
        self.send(&Msg::List)?;
        match self.recv()? {
            Msg::Manifest { entries } => Ok(entries),
            other => Err(self.fail(crate::t!(
                "sync-expected-manifest",
                got = format!("{other:?}")
            ))),
        }
    }

    /// Makes the target hold what `source` holds: changed files sent, missing ones deleted.
    pub fn reconcile(
        &mut self,
        cfg: &Config,
        source: &Path,
        hook: Option<SyncHook>,
        guard: Guard,
    ) -> Result<SyncReport> {
        guard.source(&self.target, source)?;
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
        guard.batch(&self.target, source, keep.len(), remote.len())?;
        let changes = batch(&send, &delete, &remote_by);
        let worth_a_delta: Vec<String> = send
            .iter()
            .filter(|l| {
                remote_by
                    .get(l.path.as_str())
                    .is_some_and(|r| delta::worth_it(l.size, r.size))
            })
            .map(|l| l.path.clone())
            .collect();
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
        let r = self
            .signatures(worth_a_delta)
            .and_then(|sigs| self.transfer(source, &send, sigs, &delete, &mut report));
        report.wire_sent = self.w.get_ref().bytes;
        report.wire_received = self.r.get_ref().bytes;
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

    /// The target's signatures of `paths` (one round trip), for the files it can take as a
    /// delta.
    fn signatures(&mut self, paths: Vec<String>) -> Result<HashMap<String, Vec<u8>>> {
        let mut out = HashMap::new();
        if paths.is_empty() {
            return Ok(out);
        }
        self.send(&Msg::Sign {
            paths: paths.clone(),
        })?;
        for want in paths {
            let bytes = match self.recv()? {
                Msg::Signature { path, bytes } if path == want && bytes <= delta::MAX_SIGNATURE => {
                    bytes
                }
                other => {
                    return Err(self.broken(crate::t!(
                        "sync-unexpected-reply",
                        reply = format!("{other:?}")
                    )));
                }
            };
            let mut sig = Vec::with_capacity(bytes as usize);
            loop {
                match read_frame(&mut self.r) {
                    Ok(Frame::Data(d)) if (sig.len() + d.len()) as u64 <= bytes => {
                        sig.extend_from_slice(&d)
                    }
                    Ok(Frame::Msg(Msg::End)) if sig.len() as u64 == bytes => break,
                    Ok(_) => return Err(self.broken(crate::t!("sync-unexpected-data"))),
                    Err(e) => {
                        return Err(
                            self.broken(crate::t!("sync-agent-error", error = e.to_string()))
                        );
                    }
                }
            }
            if !sig.is_empty() {
                out.insert(want, sig);
            }
        }
        Ok(out)
    }

    /// Sends the changed files, then the deletions, pipelined: requests stream out while a
    /// reader collects the agent's one reply per request, so a batch of many small files is not
    /// a round trip (and a Nagle stall) per file. A file that changes or vanishes while it is
    /// read is sent short or long of its announced size and sha256, and the agent refuses it.
    fn transfer(
        &mut self,
        source: &Path,
        send: &[&WireEntry],
        sigs: HashMap<String, Vec<u8>>,
        delete: &[&str],
        report: &mut SyncReport,
    ) -> Result<()> {
        let progress = Progress::bytes(
            &crate::t!("sync-progress", target = &self.target),
            send.iter().map(|e| e.size).sum(),
        );
        // One reply per put, one for the commit, one per deletion (after the commit, so a file
        // renamed at the source is never missing from the target in between). The reader's
        // failure (`None`: data where a message was due) is put into words here, on this thread,
        // in this thread's language.
        let expected = send.len() + 1 + delete.len();
        let (w, r) = (&mut self.w, &mut self.r);
        let (written, replies) = std::thread::scope(|s| {
            let reader = s.spawn(move || {
                let mut out = Vec::with_capacity(expected);
                while out.len() < expected {
                    match read_frame(r) {
                        Ok(Frame::Msg(m)) => out.push(Ok(m)),
                        Ok(Frame::Data(_)) => {
                            out.push(Err(None));
                            break;
                        }
                        Err(e) => {
                            out.push(Err(Some(e)));
                            break;
                        }
                    }
                }
                out
            });
            let written = write_requests(w, source, send, sigs, delete, &progress);
            (written, reader.join().unwrap_or_default())
        });
        progress.finish();
        let deltas = match written {
            Ok(n) => n,
            Err(e) => return Err(self.broken(crate::t!("sync-sending", error = e.to_string()))),
        };
        if replies.len() < expected || replies.iter().any(|r| r.is_err()) {
            let why = match replies.into_iter().find_map(|r| r.err()) {
                Some(None) => crate::t!("sync-unexpected-data"),
                Some(Some(e)) => crate::t!("sync-agent-error", error = e.to_string()),
                None => crate::t!("sync-agent-stopped"),
            };
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
                    report.delta += deltas;
                }
                Msg::Done { .. } if i > send.len() => report.deleted += 1,
                Msg::Error { message } => refused.push(message),
                other => {
                    return Err(self.broken(crate::t!(
                        "sync-unexpected-reply",
                        reply = format!("{other:?}")
                    )));
                }
            }
        }
        match refused.len() {
            0 => Ok(()),
            1 => Err(self.fail(crate::t!("sync-agent-refused", what = &refused[0]))),
            n => Err(self.fail(crate::t!(
                "sync-agent-refused-many",
                n = n,
                first = &refused[0]
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
            return Err(self.broken(crate::t!("sync-sending", error = e.to_string())));
        }
        loop {
            match read_frame(&mut self.r) {
                Ok(Frame::Msg(Msg::Event { line })) => event(&line),
                Ok(Frame::Msg(Msg::Exited { code, stderr })) => return Ok((code, stderr)),
                Ok(Frame::Msg(Msg::Error { message })) => return Err(self.fail(message)),
                Ok(other) => {
                    return Err(self.broken(crate::t!(
                        "sync-unexpected-during",
                        what = format!("{other:?}"),
                        command = command
                    )));
                }
                Err(e) => {
                    return Err(self.broken(crate::t!(
                        "sync-connection-lost",
                        command = command,
                        error = e.to_string()
                    )));
                }
            }
        }
    }

    /// Ends the session (saying goodbye when it is healthy) and reaps the transport.
    pub fn close(mut self, ok: bool) {
        if ok {
            let _ = write_msg(&mut self.w, &Msg::Bye).and_then(|_| self.w.flush());
        } else {
            self.transport.stop();
        }
        drop(self.w);
        match &mut self.transport {
            Transport::Process { child, .. } => {
                let _ = child.wait();
            }
            Transport::Channel(channel) => channel.close(),
        }
    }
}

impl Transport {
    /// The first hello on it was answered (or was not): the host's other sessions may go.
    fn connected(&mut self, ok: bool) {
        match self {
            Transport::Process {
                shared: Some(shared),
                ..
            } => shared.connected(ok),
            Transport::Process { .. } => {}
            Transport::Channel(channel) => channel.mux().connected(ok),
        }
    }

    /// The transport's exit code (a channel's: the agent's for it, or ssh's when the whole
    /// stream ended). `closed`: it closed its end, so it has exited or is about to (given a
    /// few seconds); otherwise it is stopped first.
    fn exit_code(&mut self, closed: bool) -> Option<i32> {
        let wait = if closed {
            Duration::from_secs(5)
        } else {
            Duration::ZERO
        };
        match self {
            Transport::Process { child, .. } => {
                let deadline = Instant::now() + wait;
                while Instant::now() < deadline {
                    match child.try_wait() {
                        Ok(Some(status)) => return status.code(),
                        Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                        Err(_) => break,
                    }
                }
                let _ = child.kill();
                child.wait().ok().and_then(|s| s.code())
            }
            Transport::Channel(channel) => {
                let (code, _) = channel.status(wait);
                channel.close();
                code
            }
        }
    }

    /// Stops it: the process killed and reaped, the channel closed.
    fn stop(&mut self) {
        match self {
            Transport::Process { child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Transport::Channel(channel) => channel.close(),
        }
    }

    /// What the transport printed on stderr (a channel: what its agent said, and ssh when the
    /// whole stream ended), once it has ended.
    fn said(&mut self) -> String {
        match self {
            Transport::Process {
                stderr,
                stderr_ended,
                ..
            } => {
                if let Some(ended) = stderr_ended.take() {
                    let _ = ended.recv_timeout(STDERR_WAIT);
                }
                stderr
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .trim()
                    .to_string()
            }
            Transport::Channel(channel) => channel.status(Duration::ZERO).1,
        }
    }
}

/// How long what ssh printed is waited for once it has exited: with a shared connection the
/// master holds ssh's stderr for as long as the remote command runs, which a peer that broke the
/// protocol may never end.
pub(super) const STDERR_WAIT: Duration = Duration::from_millis(500);

/// Collects a transport's stderr into `into` as it comes; the receiver returned is told (closed)
/// when it ends.
pub(super) fn collect_stderr(
    mut stderr: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> mpsc::Receiver<()> {
    let (done, ended) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stderr.read(&mut buf) {
            into.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        drop(done);
    });
    ended
}

/// Writes one request per file to send (header, data frames of at most its announced size,
/// end) and one per deletion. A file with a signature goes as a delta when that is smaller.
/// The number of files sent as a delta.
fn write_requests(
    w: &mut impl Write,
    source: &Path,
    send: &[&WireEntry],
    mut sigs: HashMap<String, Vec<u8>>,
    delete: &[&str],
    progress: &Progress,
) -> std::io::Result<usize> {
    let mut buf = vec![0u8; CHUNK];
    let mut deltas = 0;
    for e in send {
        if let Some(sig) = sigs.remove(&e.path) {
            // Short or long of its size, it changed while read: sent as read, and refused.
            let data = read_at_most(&source.join(&e.path), e.size);
            let d = Some(&data)
                .filter(|d| d.len() as u64 == e.size)
                .and_then(|d| delta::diff(sig, d));
            let (m, bytes) = match &d {
                Some(d) => (Msg::PutDelta((*e).clone()), d),
                None => (Msg::Put((*e).clone()), &data),
            };
            write_msg(w, &m)?;
            for c in bytes.chunks(CHUNK) {
                write_data(w, c)?;
            }
            write_msg(w, &Msg::End)?;
            progress.inc(e.size);
            deltas += usize::from(d.is_some());
            continue;
        }
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
    w.flush()?;
    Ok(deltas)
}

/// Up to `size` bytes of the file at `path` (none if it cannot be read).
fn read_at_most(path: &Path, size: u64) -> Vec<u8> {
    let mut data = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(size).read_to_end(&mut data);
    }
    data
}

/// A stream that counts the bytes that went through it: what a session cost on the wire.
struct Counted<T> {
    inner: T,
    bytes: u64,
}

impl<T> Counted<T> {
    fn new(inner: T) -> Counted<T> {
        Counted { inner, bytes: 0 }
    }
}

impl<T: Write> Write for Counted<T> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for Counted<T> {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(b)?;
        self.bytes += n as u64;
        Ok(n)
    }
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
                upgrade_of: None,
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
        upgrade_of: None,
    }));
    out
}

fn with_said(message: String, said: &str) -> String {
    if said.is_empty() {
        message
    } else {
        crate::t!("sync-transport-said", message = message, said = said)
    }
}
