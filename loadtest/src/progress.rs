//! Progress bars on stderr (hidden with `--quiet`), one per thing a scenario waits for.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one run.
pub struct Bars {
    multi: MultiProgress,
    style: ProgressStyle,
}

impl Bars {
    /// Bars drawn on stderr, or nowhere when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let style = ProgressStyle::with_template(
            "{prefix:>24} [{bar:36}] {pos:>8}/{len:8} {per_sec:>11} {elapsed:>4} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        Self {
            multi: MultiProgress::with_draw_target(target),
            style,
        }
    }

    /// A new bar of `len` steps.
    pub fn bar(&self, prefix: &str, len: u64) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(self.style.clone());
        bar.set_prefix(prefix.to_owned());
        bar
    }

    /// A line printed above the bars.
    pub fn note(&self, line: &str) {
        let _ = self.multi.println(line);
    }
}
