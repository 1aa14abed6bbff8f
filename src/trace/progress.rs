//! Live progress on stderr while probing, only when stderr is a terminal (indicatif).

use std::io::IsTerminal;
use std::net::IpAddr;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::engine::ProbeCounts;

/// A spinner line on stderr, or nothing when stderr is not a terminal.
pub struct LiveProgress {
    bar: Option<ProgressBar>,
    last: ProbeCounts,
}

impl LiveProgress {
    /// Starts the spinner when stderr is a terminal and progress is wanted (not `--quiet`).
    pub fn start(host: &str, address: IpAddr, wanted: bool) -> Self {
        let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_prefix(format!("tracing {host} ({address}):"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        LiveProgress {
            bar,
            last: ProbeCounts::default(),
        }
    }

    /// Shows the latest counters (only redrawn when they change; only computed when there is a bar).
    pub fn update(&mut self, progress: impl FnOnce() -> ProbeCounts) {
        let Some(bar) = &self.bar else { return };
        let p = progress();
        if p == self.last {
            return;
        }
        self.last = p;
        let reached = p
            .reached
            .map_or_else(String::new, |hop| format!(", target answered at hop {hop}"));
        bar.set_message(format!(
            "{} probes sent, {} answered{reached}",
            p.sent, p.answered
        ));
    }

    /// Clears the line before the report is printed.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for LiveProgress {
    fn drop(&mut self) {
        // An error mid-trace must not leave a spinner line behind the error message.
        self.finish();
    }
}
