//! ScanProgress of a long scan on stderr (indicatif), shown only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Scans with fewer probes than this finish too fast for a bar to help.
const MIN_PROBES: u64 = 200;

/// A progress bar, or nothing when stderr is not a terminal or the scan is short.
#[derive(Clone)]
pub struct ScanProgress {
    bar: Option<ProgressBar>,
}

impl ScanProgress {
    /// A bar for `total` probes when it is worth showing; `repeating` scans (--count) always get one.
    pub fn new(total: u64, repeating: bool) -> Self {
        let show = std::io::stderr().is_terminal() && (total >= MIN_PROBES || repeating);
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} probing {pos}/{len} [{bar:30}] {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ScanProgress { bar }
    }

    /// One probe finished.
    pub fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Removes the bar before the report is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
