//! Terminal feedback: a spinner with elapsed time for each long step when stderr is
//! a terminal; nothing when it is not (logs, CI) or with `--quiet`.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Output settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ui {
    /// Suppress progress display.
    pub quiet: bool,
}

/// A running step.
pub struct Step {
    bar: ProgressBar,
    start: Instant,
}

impl Ui {
    /// Starts a step named `msg`.
    pub fn step(&self, msg: &str) -> Step {
        let target = if self.quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(msg.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Step { bar, start: Instant::now() }
    }

    /// A warning, always shown on stderr.
    pub fn warn(&self, msg: &str) {
        eprintln!("warning: {msg}");
    }
}

impl Step {
    /// Finishes the step; returns its duration in seconds.
    pub fn done(self) -> f64 {
        let secs = self.start.elapsed().as_secs_f64();
        let msg = self.bar.message();
        self.bar.finish_and_clear();
        if !self.bar.is_hidden() {
            eprintln!("✓ {msg} ({secs:.2} s)");
        }
        secs
    }
}
