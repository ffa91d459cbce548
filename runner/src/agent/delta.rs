//! Delta transfer of a file the target already holds, as rsync does it: the agent sends the
//! signature of its copy (a rolling checksum and a truncated MD4 per block, by `fast_rsync`),
//! runner answers with a delta (copies of the target's blocks, literal bytes for the rest), and
//! the agent rebuilds the file into its temp name. MD4 is weak, so the rebuilt file is trusted
//! only once its size and sha256 match the source's, exactly as a file sent whole.
//!
//! Generic rather than zip-aware: a jar whose one entry changed keeps every other entry as the
//! same bytes at a shifted offset, which the rolling checksum finds wherever it moved, and the
//! same code serves every other file type (config files, fat jars, native libs).

use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use fast_rsync::{Signature, SignatureOptions};

/// Files smaller than this go whole. A jar below it is usually rewritten whole by its build, so
/// its signature and delta only cost CPU at both ends, and sent whole it is at most 8 ms of a
/// 1 Gbit/s link (bench/oneshot.py's burst: 50 rewritten 500 KB jars, see the README).
pub const MIN: u64 = 1 << 20;
/// Files larger than this go whole: each end holds the old and the new copy in memory.
pub const MAX: u64 = 512 << 20;
/// The largest signature runner reads (a 512 MiB file at the smallest block size is 7.5 MiB).
pub const MAX_SIGNATURE: u64 = 16 << 20;
/// Bytes of the MD4 kept per block: with the 32-bit rolling checksum, 96 bits per block.
const STRONG: u32 = 8;

/// Whether a file of `size` whose target copy has `remote` bytes goes as a delta.
pub fn worth_it(size: u64, remote: u64) -> bool {
    (MIN..=MAX).contains(&size) && (MIN..=MAX).contains(&remote)
}

/// rsync's block size: the square root of the file's length, a multiple of 8, at least 700
/// bytes, at most 128 KiB.
fn block_size(len: u64) -> u32 {
    let root = (len as f64).sqrt() as u32 & !7;
    root.clamp(700, 128 << 10)
}

/// The content of the regular file at `path` (never through a symlink), if it is at most `MAX`.
pub fn read_base(path: &Path) -> std::io::Result<Vec<u8>> {
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    let md = f.metadata()?;
    if !md.is_file() || md.len() > MAX {
        return Err(std::io::Error::other(
            // en: like an OS error text (the agent's refusals are English on the wire)
            "not a regular file of a delta's size",
        ));
    }
    let mut buf = Vec::with_capacity(md.len() as usize);
    f.take(MAX + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The signature of `base`, serialized for the wire.
pub fn signature(base: &[u8]) -> Vec<u8> {
    Signature::calculate(
        base,
        SignatureOptions {
            block_size: block_size(base.len() as u64),
            crypto_hash_size: STRONG,
        },
    )
    .into_serialized()
}

/// The delta that turns the signed file into `data`; None when the signature does not parse
/// or the delta would not be smaller than `data` (then the file goes whole).
pub fn diff(signature: Vec<u8>, data: &[u8]) -> Option<Vec<u8>> {
    let sig = Signature::deserialize(signature).ok()?;
    let mut out = Vec::new();
    fast_rsync::diff(&sig.index(), data, &mut out).ok()?;
    (out.len() < data.len()).then_some(out)
}

/// `base` rebuilt with `delta`, refusing to produce more than `size` bytes (itself at most
/// `MAX`). The error is English, as fast_rsync words it.
pub fn apply(base: &[u8], delta: &[u8], size: u64) -> Result<Vec<u8>, String> {
    if size > MAX {
        return Err(format!("{size} bytes is more than a delta may rebuild")); // en: like fast_rsync's own errors
    }
    let mut out = Vec::with_capacity(size as usize);
    fast_rsync::apply_limited(base, delta, &mut out, size as usize).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn a_small_change_travels_as_a_small_delta() {
        let old = noise(4 << 20, 7);
        let mut new = old.clone();
        // 4 KiB replaced in the middle, 100 bytes inserted near the start: later blocks move.
        new[2 << 20..(2 << 20) + 4096].copy_from_slice(&noise(4096, 9));
        new.splice(1000..1000, noise(100, 11));
        let d = diff(signature(&old), &new).expect("a delta");
        assert!(d.len() < 32 << 10, "delta of {} bytes", d.len());
        assert_eq!(apply(&old, &d, new.len() as u64).unwrap(), new);
    }

    #[test]
    fn hostile_input_is_refused_not_obeyed() {
        let old = noise(1 << 20, 3);
        let new = noise(1 << 20, 5);
        // Unrelated content: no delta is smaller than the file.
        assert!(diff(signature(&old), &new).is_none());
        assert!(diff(b"not a signature".to_vec(), &new).is_none());
        let mut changed = old.clone();
        changed[10] ^= 1;
        let d = diff(signature(&old), &changed).unwrap();
        // More output than announced, garbage, a truncated delta: errors, no panic.
        assert!(apply(&old, &d, 10).is_err());
        assert!(apply(&old, b"garbage", 1 << 20).is_err());
        assert!(apply(&old, &d[..d.len() / 2], 1 << 20).is_err());
        // An announced size no delta may rebuild is refused before anything is allocated.
        assert!(apply(&old, &d, u64::MAX).is_err());
        // A delta against another base rebuilds the wrong bytes, which the sha256 check refuses.
        let other = apply(&new, &d, 1 << 20);
        assert!(other.is_err() || other.unwrap() != changed);
    }
}
