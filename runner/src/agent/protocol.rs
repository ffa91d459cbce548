//! The sync wire protocol between runner and `runner agent --stdio`: length-prefixed frames,
//! each a JSON control message or a chunk of file data. Bounded and versioned: a frame larger
//! than `MAX_FRAME`, an unknown kind or bad JSON is an error, never a panic or an allocation
//! the peer chose.
//!
//! Frame: `u32` big-endian length of what follows, then one kind byte (`0` message, `1` data),
//! then the payload.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change; both sides say theirs in `Hello`.
pub const VERSION: u32 = 6;
/// The largest frame either side accepts (payload + kind byte).
pub const MAX_FRAME: usize = 4 << 20;
/// File data is sent in chunks of this size.
pub const CHUNK: usize = 1 << 20;

const KIND_MSG: u8 = 0;
const KIND_DATA: u8 = 1;

/// A file as the manifest describes it; `path` is relative and `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEntry {
    pub path: String,
    pub size: u64,
    pub mode: u32,
    pub mtime_ns: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "kebab-case")]
pub enum Msg {
    Hello {
        version: u32,
        runner: String,
    },
    /// Ask for the manifest of the agent's root.
    List,
    Manifest {
        entries: Vec<WireEntry>,
    },
    /// A file follows as data frames totalling `size` bytes, then `End`. The agent answers
    /// `Staged` once it holds the file, checked against `sha256`, under a temp name.
    Put(WireEntry),
    /// Like `Put`, but the data frames are a delta against the target's current copy of the
    /// file (since protocol 6; `agent/delta.rs`). The rebuilt file is checked against `size`
    /// and `sha256` as a `Put` is.
    PutDelta(WireEntry),
    End,
    /// Ask for the signatures of the target's copies of `paths` (since protocol 6): answered
    /// by one `Signature` per path, in order.
    Sign {
        paths: Vec<String>,
    },
    /// `bytes` of signature follow as data frames, then `End`; 0 when the target holds no
    /// copy a delta can start from (the file then goes whole).
    Signature {
        path: String,
        bytes: u64,
    },
    Staged {
        path: String,
    },
    /// Make every staged file durable and visible (fsync each, rename each into place, fsync
    /// their dirs); answered by `Committed`. Files staged but never committed are discarded.
    Commit,
    Committed {
        files: u64,
    },
    Delete {
        path: String,
    },
    /// The `Delete` is done (and durable).
    Done {
        path: String,
    },
    Error {
        message: String,
    },
    /// Run the release or rollback of the agent's app on its host (only for an agent started
    /// with `--app`), as `runner <kind> <app> --local --yes --events` with `options`. Each line
    /// it prints comes back as an `Event`, then `Exited`.
    Run {
        kind: RunKind,
        options: RunOptions,
    },
    Event {
        line: String,
    },
    Exited {
        code: i32,
        /// The end of what it printed on stderr.
        stderr: String,
    },
    Bye,
}

/// What a fleet release runs on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    Release,
    Rollback,
    /// Since protocol 4.
    Restart,
    /// `runner --json status <app>` there (since protocol 4): its document, line by line.
    Status,
}

impl RunKind {
    /// The runner command it is on the host.
    pub fn command(self) -> &'static str {
        match self {
            RunKind::Release => "release",
            RunKind::Rollback => "rollback",
            RunKind::Restart => "restart",
            RunKind::Status => "status",
        }
    }
}

/// The options a fleet release passes to the host's own release: these and nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    pub dry_run: bool,
    pub no_restart: bool,
    pub no_rollback: bool,
    /// The language of the central runner, for what the host's runner prints (since protocol
    /// 5; what it records stays English either way). None: English.
    #[serde(default)]
    pub lang: Option<crate::i18n::Lang>,
}

impl RunOptions {
    /// The command-line flags they are on the host.
    pub fn flags(self) -> Vec<&'static str> {
        let mut flags = Vec::new();
        if self.dry_run {
            flags.push("--dry-run");
        }
        if self.no_restart {
            flags.push("--no-restart");
        }
        if self.no_rollback {
            flags.push("--no-rollback");
        }
        flags
    }
}

#[derive(Debug)]
pub enum Frame {
    Msg(Msg),
    Data(Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    #[error("{}", crate::t!("fleet-proto-closed"))]
    Closed,
    #[error("{}", crate::t!("fleet-proto-too-large", size = .0, limit = MAX_FRAME))]
    TooLarge(usize),
    #[error("{}", crate::t!("fleet-proto-empty"))]
    Empty,
    #[error("{}", crate::t!("fleet-proto-kind", kind = .0))]
    Kind(u8),
    #[error("{}", crate::t!("fleet-proto-malformed", error = .0))]
    Malformed(String),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Reads one frame. `Closed` on a clean end of stream between frames.
pub fn read_frame(r: &mut impl Read) -> Result<Frame, ProtoError> {
    let len = read_len(r, 1, MAX_FRAME)?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    decode(&buf)
}

/// Reads a frame's length prefix (`u32` big-endian) and checks it against `min` (`Empty`
/// below) and `max` (`TooLarge` above). `Closed` on a clean end of stream before it.
pub(crate) fn read_len(r: &mut impl Read, min: usize, max: usize) -> Result<usize, ProtoError> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(ProtoError::Closed),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(ProtoError::TooLarge(len));
    }
    if len < min {
        return Err(ProtoError::Empty);
    }
    Ok(len)
}

/// Decodes a frame body (kind byte + payload); the fuzz target's entry point.
pub fn decode(buf: &[u8]) -> Result<Frame, ProtoError> {
    let (&kind, payload) = buf.split_first().ok_or(ProtoError::Empty)?;
    match kind {
        KIND_MSG => serde_json::from_slice(payload)
            .map(Frame::Msg)
            .map_err(|e| ProtoError::Malformed(e.to_string())),
        KIND_DATA => Ok(Frame::Data(payload.to_vec())),
        k => Err(ProtoError::Kind(k)),
    }
}

pub fn write_msg(w: &mut impl Write, m: &Msg) -> io::Result<()> {
    let body = serde_json::to_vec(m).map_err(io::Error::other)?;
    write_frame(w, KIND_MSG, &body)
}

pub fn write_data(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    write_frame(w, KIND_DATA, data)
}

fn write_frame(w: &mut impl Write, kind: u8, body: &[u8]) -> io::Result<()> {
    let len = body.len() + 1;
    if len > MAX_FRAME {
        return Err(io::Error::other(crate::t!(
            "fleet-proto-frame-too-large",
            size = len
        )));
    }
    w.write_all(&(len as u32).to_be_bytes())?;
    w.write_all(&[kind])?;
    w.write_all(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let mut buf = Vec::new();
        write_msg(
            &mut buf,
            &Msg::Delete {
                path: "a/b.jar".into(),
            },
        )
        .unwrap();
        write_data(&mut buf, b"bytes").unwrap();
        let mut r = &buf[..];
        assert!(
            matches!(read_frame(&mut r).unwrap(), Frame::Msg(Msg::Delete { path }) if path == "a/b.jar")
        );
        assert!(matches!(read_frame(&mut r).unwrap(), Frame::Data(d) if d == b"bytes"));
        assert!(matches!(read_frame(&mut r), Err(ProtoError::Closed)));

        let huge = (u32::MAX).to_be_bytes();
        assert!(matches!(
            read_frame(&mut &huge[..]),
            Err(ProtoError::TooLarge(_))
        ));
        let bad = [0, 0, 0, 3, 0, b'{', b'x'];
        assert!(matches!(
            read_frame(&mut &bad[..]),
            Err(ProtoError::Malformed(_))
        ));
        let kind = [0, 0, 0, 1, 9];
        assert!(matches!(
            read_frame(&mut &kind[..]),
            Err(ProtoError::Kind(9))
        ));
        let short = [0, 0, 0, 9, 0, b'{'];
        assert!(read_frame(&mut &short[..]).is_err());
    }
    #[test]
    fn a_run_carries_a_kind_and_known_options_only() {
        let m = Msg::Run {
            kind: RunKind::Rollback,
            options: RunOptions {
                dry_run: true,
                ..RunOptions::default()
            },
        };
        let mut buf = Vec::new();
        write_msg(&mut buf, &m).unwrap();
        assert!(matches!(read_frame(&mut &buf[..]).unwrap(), Frame::Msg(got) if got == m));
        assert_eq!(
            RunOptions {
                dry_run: true,
                no_restart: true,
                no_rollback: true,
                lang: Some(crate::i18n::Lang::ZhCn),
            }
            .flags(),
            ["--dry-run", "--no-restart", "--no-rollback"]
        );
        // Anything else a client might slip in is not a message at all.
        for bad in [
            r#"{"t":"run","kind":"release","options":{"dry_run":false,"no_restart":false,"no_rollback":false,"config":"/etc/shadow"}}"#,
            r#"{"t":"run","kind":"shell","options":{"dry_run":false,"no_restart":false,"no_rollback":false}}"#,
            r#"{"t":"run","command":"release","flags":["--yes"]}"#,
            r#"{"t":"run","kind":"release","options":{"dry_run":false,"no_restart":false,"no_rollback":false,"lang":"--yes"}}"#,
        ] {
            let mut frame = ((bad.len() + 1) as u32).to_be_bytes().to_vec();
            frame.push(0);
            frame.extend_from_slice(bad.as_bytes());
            assert!(
                matches!(read_frame(&mut &frame[..]), Err(ProtoError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
