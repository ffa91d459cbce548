//! One agent serving several roots over one stream: `runner agent --stdio --mux`, which
//! `ssh://` sync rows to one host share, so that a host costs one ssh session and one agent
//! process however many of its dirs runner keeps in sync.
//!
//! The stream carries channels; each channel is one session of the sync protocol
//! (`protocol.rs`) with an agent serving one root, exactly as `runner agent --stdio --root`
//! would serve it: the same checks, the same refusals. A mux frame: `u32` big-endian length
//! of what follows, one op byte, a `u32` big-endian channel number, then the payload:
//! - `OPEN` (client → agent): open the channel; the payload is its root (UTF-8).
//! - `DATA` (both ways): bytes of the channel's stream.
//! - `CLOSE` (both ways): the sender is done with the channel. From the agent its payload is
//!   the channel's exit status (`i32` big-endian: 0 served, 1 failed).
//! - `SAID` (agent → client): what the channel's agent would have printed on stderr.
//!
//! Bounded as the sync protocol is: a frame larger than `MAX_FRAME`, an unknown op or a
//! channel opened twice ends the stream; at most `MAX_CHANNELS` channels are served at once;
//! the agent holds at most `QUEUE` frames of a channel that its session has not read yet, so a
//! client sending faster than a disk writes waits, as it would on a pipe.

use std::collections::HashMap;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::protocol::{CHUNK, MAX_FRAME, ProtoError, read_len};
use super::{AgentError, ReleaseCache};

pub const OPEN: u8 = 0;
pub const DATA: u8 = 1;
pub const CLOSE: u8 = 2;
pub const SAID: u8 = 3;

/// The largest mux frame either side accepts (op, channel and payload).
pub const MAX_MUX_FRAME: usize = MAX_FRAME + 5;
/// Channels one agent serves at once; an `OPEN` past it is answered with `SAID` and `CLOSE`.
pub const MAX_CHANNELS: usize = 256;
/// Frames of one channel the agent holds before it stops reading the stream.
const QUEUE: usize = 4;

/// One mux frame.
#[derive(Debug, PartialEq, Eq)]
pub struct MuxFrame {
    pub op: u8,
    pub channel: u32,
    pub payload: Vec<u8>,
}

/// Reads one mux frame. `Closed` on a clean end of stream between frames.
pub fn read_mux(r: &mut impl Read) -> Result<MuxFrame, ProtoError> {
    let len = read_len(r, 5, MAX_MUX_FRAME)?;
    let mut head = [0u8; 5];
    r.read_exact(&mut head)?;
    let op = head[0];
    if op > SAID {
        return Err(ProtoError::Kind(op));
    }
    let mut payload = vec![0u8; len - 5];
    r.read_exact(&mut payload)?;
    Ok(MuxFrame {
        op,
        channel: u32::from_be_bytes([head[1], head[2], head[3], head[4]]),
        payload,
    })
}

/// Writes one mux frame (not flushed).
pub fn write_mux(w: &mut impl Write, op: u8, channel: u32, payload: &[u8]) -> io::Result<()> {
    let len = payload.len() + 5;
    if len > MAX_MUX_FRAME {
        return Err(io::Error::other(crate::t!(
            "fleet-proto-frame-too-large",
            size = len
        )));
    }
    let mut head = [0u8; 9];
    head[..4].copy_from_slice(&(len as u32).to_be_bytes());
    head[4] = op;
    head[5..].copy_from_slice(&channel.to_be_bytes());
    w.write_all(&head)?;
    w.write_all(payload)
}

/// The bytes a peer sends a channel, as a stream: ends when the peer closes the channel (or
/// the whole stream ends).
pub struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    /// Bytes received and not read yet, when the sender keeps count.
    pending: Option<std::sync::Arc<AtomicUsize>>,
}

impl ChannelReader {
    pub fn new(rx: Receiver<Vec<u8>>, pending: Option<std::sync::Arc<AtomicUsize>>) -> Self {
        ChannelReader {
            rx,
            buf: Vec::new(),
            pos: 0,
            pending,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(b) => {
                    if let Some(p) = &self.pending {
                        p.fetch_sub(b.len(), Ordering::Relaxed);
                    }
                    self.buf = b;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The agent's side of one channel: what its session writes goes out as `DATA` frames.
struct ChannelWriter<'a, W: Write> {
    channel: u32,
    out: &'a Mutex<W>,
}

impl<W: Write> Write for ChannelWriter<'_, W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = b.len().min(CHUNK);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        write_mux(&mut *out, DATA, self.channel, &b[..n])?;
        out.flush()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Serves channels until the client closes the stream; then waits for the sessions still
/// running to end. Err when the client broke the framing (every channel is then ended).
/// `cache_for` gives the release cache of a root, as for `--root`.
pub fn serve<W: Write + Send>(
    input: impl Read,
    output: W,
    cache_for: &(dyn Fn(&Path) -> Option<ReleaseCache> + Sync),
) -> Result<(), AgentError> {
    let out = Mutex::new(BufWriter::new(output));
    let live = AtomicUsize::new(0);
    let mut r = BufReader::new(input);
    std::thread::scope(|s| {
        let mut chans: HashMap<u32, SyncSender<Vec<u8>>> = HashMap::new();
        let end = loop {
            let f = match read_mux(&mut r) {
                Ok(f) => f,
                Err(ProtoError::Closed) => break Ok(()),
                Err(e) => break Err(AgentError::BadFrame(e)),
            };
            let channel = f.channel;
            match f.op {
                OPEN if chans.contains_key(&channel) => {
                    break Err(AgentError::Unexpected(format!(
                        // en: on the wire, English as all of it
                        "open of channel {channel}, which is open"
                    )));
                }
                OPEN => {
                    let root = match String::from_utf8(f.payload) {
                        Ok(root) if !root.is_empty() => PathBuf::from(root),
                        _ => {
                            // en: on the wire
                            let why = "the root is not a UTF-8 path";
                            end_channel(&out, channel, Some(why));
                            continue;
                        }
                    };
                    if live.load(Ordering::SeqCst) >= MAX_CHANNELS {
                        end_channel(&out, channel, Some("too many channels")); // en: on the wire
                        continue;
                    }
                    live.fetch_add(1, Ordering::SeqCst);
                    let (tx, rx) = sync_channel(QUEUE);
                    chans.insert(channel, tx);
                    let (out, live) = (&out, &live);
                    s.spawn(move || {
                        session(channel, &root, rx, out, cache_for);
                        live.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                DATA => {
                    // A session that ended takes no more: its data is dropped.
                    if let Some(tx) = chans.get(&channel)
                        && tx.send(f.payload).is_err()
                    {
                        chans.remove(&channel);
                    }
                }
                CLOSE => {
                    chans.remove(&channel);
                }
                op => break Err(AgentError::BadFrame(ProtoError::Kind(op))),
            }
        };
        // Every session still running sees the end of its stream.
        drop(chans);
        end
    })
}

/// One channel's session, then its end.
fn session<W: Write>(
    channel: u32,
    root: &Path,
    rx: Receiver<Vec<u8>>,
    out: &Mutex<W>,
    cache_for: &(dyn Fn(&Path) -> Option<ReleaseCache> + Sync),
) {
    let cache = cache_for(root);
    let w = ChannelWriter { channel, out };
    match super::serve(root, ChannelReader::new(rx, None), w, None, cache.as_ref()) {
        Ok(()) => end_channel(out, channel, None),
        Err(e) => end_channel(out, channel, Some(&crate::i18n::english(|| e.to_string()))),
    }
}

/// Ends a channel: `CLOSE` with status 0, or with 1 after a `SAID` of why it failed (or why
/// its `OPEN` is not served).
fn end_channel<W: Write>(out: &Mutex<W>, channel: u32, failed: Option<&str>) {
    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(why) = failed {
        let _ = write_mux(&mut *out, SAID, channel, why.as_bytes());
    }
    let status: i32 = failed.map_or(0, |_| 1);
    let _ = write_mux(&mut *out, CLOSE, channel, &status.to_be_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_are_bounded() {
        let mut buf = Vec::new();
        write_mux(&mut buf, OPEN, 7, b"/srv/a").unwrap();
        write_mux(&mut buf, CLOSE, 7, &[]).unwrap();
        let mut r = &buf[..];
        assert_eq!(
            read_mux(&mut r).unwrap(),
            MuxFrame {
                op: OPEN,
                channel: 7,
                payload: b"/srv/a".to_vec()
            }
        );
        assert_eq!(read_mux(&mut r).unwrap().op, CLOSE);
        assert!(matches!(read_mux(&mut r), Err(ProtoError::Closed)));
        let huge = u32::MAX.to_be_bytes();
        assert!(matches!(
            read_mux(&mut &huge[..]),
            Err(ProtoError::TooLarge(_))
        ));
        assert!(matches!(
            read_mux(&mut &[0, 0, 0, 4, 1, 0, 0, 0][..]),
            Err(ProtoError::Empty)
        ));
        assert!(matches!(
            read_mux(&mut &[0, 0, 0, 5, 9, 0, 0, 0, 1][..]),
            Err(ProtoError::Kind(9))
        ));
        assert!(read_mux(&mut &[0, 0, 0, 9, 1, 0, 0, 0, 1, 2][..]).is_err());
    }
}
