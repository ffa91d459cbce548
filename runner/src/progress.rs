//! Progress bars for long work (hashing, copying, syncing): on stderr, in a terminal only.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Hashing or copying below this many bytes is quick enough to need no bar.
const BAR_THRESHOLD: u64 = 64 << 20;

/// A byte-count progress bar on stderr, shown only in a terminal and for big jobs.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn bytes(label: &str, total: u64) -> Progress {
        if total < BAR_THRESHOLD || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        // One shared set of bars: targets synced in parallel each get a line.
        static BARS: std::sync::OnceLock<MultiProgress> = std::sync::OnceLock::new();
        let bar = BARS
            .get_or_init(MultiProgress::new)
            .add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>16} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(label.to_string());
        Progress(Some(bar))
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
