//! The client's side of `runner agent --stdio --mux` (`agent/mux.rs`): the `ssh://` sessions of
//! this process to one host, with one agent command, are channels of one ssh session and one
//! agent there. It is kept while this process runs (a `runner sync -j 1` opens it once for all
//! of a host's rows, and a reloaded `runner watch` keeps it), replaced when its stream ends, and
//! closed by [`keep_only`] when a reload leaves no row to its host.

use std::collections::HashMap;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use super::session::{STDERR_WAIT, collect_stderr};
use super::ssh::{Shared, shell_quote, ssh};
use crate::address::{SshTarget, Url};
use crate::agent::mux::{CLOSE, ChannelReader, DATA, OPEN, SAID, read_mux, write_mux};
use crate::agent::protocol::{CHUNK, ProtoError};
use crate::config::SyncTarget;

/// Bytes a channel may hold unread before its host's stream is treated as broken: the agent
/// only answers what was asked, and a session reads every answer it asks for, so only a
/// misbehaving agent gets near it.
const MAX_UNREAD: usize = 64 << 20;

/// The muxes of this process, by host, ssh options and agent.
static MUXES: Mutex<Option<HashMap<String, Arc<Mux>>>> = Mutex::new(None);

/// Closes the muxes (their agents exit) that none of `rows` would use: after a reload.
pub fn keep_only(rows: &[SyncTarget]) {
    let keep: std::collections::HashSet<String> = rows
        .iter()
        .filter_map(|r| match &r.url {
            Url::Ssh { to, .. } => Some(key(to, &r.ssh_options, &r.agent)),
            _ => None,
        })
        .collect();
    let gone: Vec<Arc<Mux>> = {
        let mut muxes = MUXES.lock().unwrap_or_else(|e| e.into_inner());
        let Some(muxes) = muxes.as_mut() else {
            return;
        };
        let keys: Vec<String> = muxes
            .keys()
            .filter(|k| !keep.contains(*k))
            .cloned()
            .collect();
        keys.iter().filter_map(|k| muxes.remove(k)).collect()
    };
    drop(gone);
}

fn key(to: &SshTarget, options: &[String], agent: &str) -> String {
    format!("{to}\0{}\0{agent}", options.join("\0"))
}

/// One ssh session to a host running `<agent> agent --stdio --mux`.
pub(super) struct Mux {
    stdin: Mutex<Option<BufWriter<ChildStdin>>>,
    inner: Arc<Inner>,
    next: AtomicU32,
    /// Its place on the host's shared ssh connection.
    shared: Mutex<Option<Shared>>,
}

/// What the thread reading the host's stream shares with the sessions.
struct Inner {
    chans: Mutex<HashMap<u32, Chan>>,
    child: Mutex<Child>,
    /// What ssh printed on stderr, and why runner dropped the stream, if it did.
    stderr: Arc<Mutex<String>>,
    /// The stream ended: ssh's exit code, once it exited.
    ended: Mutex<Option<Option<i32>>>,
    ended_cv: Condvar,
    dead: AtomicBool,
}

/// A channel as the reading thread knows it.
struct Chan {
    tx: Sender<Vec<u8>>,
    end: Arc<ChanEnd>,
    unread: Arc<AtomicUsize>,
}

/// How a channel ended, as the agent said.
#[derive(Default)]
pub(super) struct ChanEnd {
    said: Mutex<String>,
    status: OnceLock<i32>,
}

impl Mux {
    /// The host's mux for this agent and these options: the one already open, or a new one.
    pub(super) fn get(to: &SshTarget, options: &[String], agent: &str) -> io::Result<Arc<Mux>> {
        let key = key(to, options, agent);
        let mut guard = MUXES.lock().unwrap_or_else(|e| e.into_inner());
        let muxes = guard.get_or_insert_with(HashMap::new);
        if let Some(m) = muxes.get(&key)
            && !m.inner.dead.load(Ordering::SeqCst)
        {
            return Ok(m.clone());
        }
        let remote = format!(
            "{} agent --stdio --mux", // en: the remote command line
            shell_quote(agent)
        );
        let (cmd, shared) = ssh(to, options, &remote);
        let m = Arc::new(Mux::start(cmd, shared)?);
        let ended = muxes.insert(key, m.clone());
        drop(guard);
        // The one it replaces (its stream ended) is reaped, if no session holds it, outside
        // the lock.
        drop(ended);
        Ok(m)
    }

    fn start(mut cmd: Command, shared: Option<Shared>) -> io::Result<Mux> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().map(BufWriter::new);
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let inner = Arc::new(Inner {
            chans: Mutex::new(HashMap::new()),
            child: Mutex::new(child),
            stderr: Arc::new(Mutex::new(String::new())),
            ended: Mutex::new(None),
            ended_cv: Condvar::new(),
            dead: AtomicBool::new(false),
        });
        let err_ended = collect_stderr(stderr, inner.stderr.clone());
        let reader = inner.clone();
        std::thread::spawn(move || reader.demux(stdout, err_ended));
        Ok(Mux {
            stdin: Mutex::new(stdin),
            inner,
            next: AtomicU32::new(0),
            shared: Mutex::new(shared),
        })
    }

    /// Opens a channel to an agent serving `root`.
    pub(super) fn open(self: &Arc<Mux>, root: &str) -> Channel {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = channel();
        let end = Arc::new(ChanEnd::default());
        let unread = Arc::new(AtomicUsize::new(0));
        self.inner
            .chans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id,
                Chan {
                    tx,
                    end: end.clone(),
                    unread: unread.clone(),
                },
            );
        let _ = self.send(OPEN, id, root.as_bytes());
        Channel {
            mux: self.clone(),
            id,
            end,
            reader: Some(ChannelReader::new(rx, Some(unread))),
            open: true,
        }
    }

    /// The first session is connected (or failed to): the host's other connections may go.
    pub(super) fn connected(&self, ok: bool) {
        if let Some(s) = self
            .shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            s.connected(ok);
        }
    }

    fn send(&self, op: u8, id: u32, payload: &[u8]) -> io::Result<()> {
        if self.inner.dead.load(Ordering::SeqCst) {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let mut stdin = self.stdin.lock().unwrap_or_else(|e| e.into_inner());
        let w = stdin
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::BrokenPipe))?;
        write_mux(w, op, id, payload).and_then(|()| w.flush())
    }

    /// ssh's exit code and stderr, once the stream has ended (waiting up to `wait` for it).
    pub(super) fn ended(&self, wait: Duration) -> Option<(Option<i32>, String)> {
        let ended = self.inner.ended.lock().unwrap_or_else(|e| e.into_inner());
        let (ended, _) = self
            .inner
            .ended_cv
            .wait_timeout_while(ended, wait, |e| e.is_none())
            .unwrap_or_else(|e| e.into_inner());
        let code = (*ended)?;
        let said = self
            .inner
            .stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .trim()
            .to_string();
        Some((code, said))
    }
}

impl Drop for Mux {
    /// The last session is done: the agent sees the end of its stream and exits, and ssh
    /// with it (stopped if it has not within a few seconds).
    fn drop(&mut self) {
        drop(self.stdin.lock().unwrap_or_else(|e| e.into_inner()).take());
        if self.ended(Duration::from_secs(5)).is_none() {
            self.inner.kill();
        }
    }
}

impl Inner {
    /// Reads the host's stream, handing each channel its bytes, until it ends; then reaps ssh.
    fn demux(&self, stdout: impl Read, err_ended: std::sync::mpsc::Receiver<()>) {
        let mut r = BufReader::with_capacity(64 << 10, stdout);
        let broken = loop {
            let f = match read_mux(&mut r) {
                Ok(f) => f,
                Err(ProtoError::Closed) => break None,
                Err(e) => break Some(crate::t!("sync-agent-error", error = e.to_string())),
            };
            let mut chans = self.chans.lock().unwrap_or_else(|e| e.into_inner());
            let Some(c) = chans.get(&f.channel) else {
                continue;
            };
            match f.op {
                DATA => {
                    let n = f.payload.len();
                    if c.unread.fetch_add(n, Ordering::Relaxed) + n > MAX_UNREAD {
                        break Some(crate::t!("sync-agent-unasked", limit = MAX_UNREAD));
                    }
                    let _ = c.tx.send(f.payload);
                }
                SAID => c
                    .end
                    .said
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&String::from_utf8_lossy(&f.payload)),
                CLOSE => {
                    let status = <[u8; 4]>::try_from(&f.payload[..])
                        .map(i32::from_be_bytes)
                        .unwrap_or(1);
                    let _ = c.end.status.set(status);
                    chans.remove(&f.channel);
                }
                op => break Some(crate::t!("fleet-proto-kind", kind = op)),
            }
        };
        self.dead.store(true, Ordering::SeqCst);
        // Every channel's reader sees the end of its stream.
        self.chans.lock().unwrap_or_else(|e| e.into_inner()).clear();
        if let Some(why) = broken {
            tracing::debug!(%why, "agent stream dropped");
            self.kill();
            let mut said = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
            said.insert_str(0, &format!("{why}\n"));
        }
        let code = {
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            child.wait().ok().and_then(|s| s.code())
        };
        // What ssh said last, unless a shared connection's master keeps the pipe open.
        let _ = err_ended.recv_timeout(STDERR_WAIT);
        *self.ended.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
        self.ended_cv.notify_all();
    }

    fn kill(&self) {
        let _ = self.child.lock().unwrap_or_else(|e| e.into_inner()).kill();
    }
}

/// A session's channel: its two ends and how it ended.
pub(super) struct Channel {
    mux: Arc<Mux>,
    id: u32,
    end: Arc<ChanEnd>,
    reader: Option<ChannelReader>,
    open: bool,
}

impl Channel {
    /// Its ends, to read from and to write to (once).
    pub(super) fn streams(&mut self) -> (ChannelReader, ChannelWriter) {
        (
            self.reader.take().expect("streams taken once"),
            ChannelWriter {
                mux: self.mux.clone(),
                id: self.id,
            },
        )
    }

    pub(super) fn mux(&self) -> &Mux {
        &self.mux
    }

    /// Tells the agent this session is over (its staged files not committed are discarded).
    pub(super) fn close(&mut self) {
        if std::mem::take(&mut self.open) {
            let _ = self.mux.send(CLOSE, self.id, &[]);
            self.mux
                .inner
                .chans
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&self.id);
        }
    }

    /// The channel's exit status as the agent gave it, or ssh's when the whole stream ended
    /// (waiting up to `wait` for either); and what the agent or ssh said.
    pub(super) fn status(&self, wait: Duration) -> (Option<i32>, String) {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let said = || {
                self.end
                    .said
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .trim()
                    .to_string()
            };
            if let Some(&status) = self.end.status.get() {
                return (Some(status), said());
            }
            if let Some((code, ssh_said)) = self.mux.ended(Duration::ZERO) {
                let said = [said(), ssh_said]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                return (code, said);
            }
            if std::time::Instant::now() >= deadline {
                return (None, said());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.close();
    }
}

/// What a session writes on its channel: a `DATA` frame per write.
pub(super) struct ChannelWriter {
    mux: Arc<Mux>,
    id: u32,
}

impl Write for ChannelWriter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = b.len().min(CHUNK);
        self.mux.send(DATA, self.id, &b[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
