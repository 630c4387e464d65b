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

/// Most output values a one-line summary shows.
const SHOWN_OUTPUTS: usize = 16;

/// Output values for a one-line message: all of them when few, else the first
/// [`SHOWN_OUTPUTS`] and how many more `where_all` lists.
pub fn outputs_summary(values: &[f64], where_all: &str) -> String {
    if values.len() <= SHOWN_OUTPUTS {
        return format!("{values:?}");
    }
    let shown: Vec<String> = values[..SHOWN_OUTPUTS].iter().map(|v| format!("{v:?}")).collect();
    format!("[{}, …] ({} more in {where_all})", shown.join(", "), values.len() - SHOWN_OUTPUTS)
}

#[cfg(test)]
mod tests {
    use super::outputs_summary;

    #[test]
    fn long_outputs_are_summarised() {
        assert_eq!(outputs_summary(&[0.5, -1.0], "x"), "[0.5, -1.0]");
        let many: Vec<f64> = (0..20).map(f64::from).collect();
        let s = outputs_summary(&many, "proof.json");
        assert!(s.starts_with("[0.0, 1.0,") && s.ends_with("(4 more in proof.json)"), "{s}");
    }
}
