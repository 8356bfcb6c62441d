//! The offline progress bar: bytes of the input file, flows per second
//! and the time left, drawn on standard error below the flow lines, and
//! only when standard error is a terminal (logs and pipes stay clean).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether a run gets a bar: over a regular file of known size, not
/// switched off (`--set progress=false`), with standard error a terminal.
/// `-q` does not matter: it hides flow lines, not the bar.
pub fn wanted(regular_file_size: Option<u64>, enabled: bool, stderr_is_terminal: bool) -> bool {
    regular_file_size.is_some() && enabled && stderr_is_terminal
}

/// How often the bar is updated, at most: a run of small flows would
/// otherwise take a lock per flow.
const EVERY: Duration = Duration::from_millis(50);

/// A bar, or nothing at all.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last: Instant,
}

impl Progress {
    /// A bar over `total` bytes drawn to `target` when [`wanted`], else
    /// a `Progress` that draws nothing.
    pub fn new(total: Option<u64>, enabled: bool, stderr_is_terminal: bool) -> Progress {
        Progress::with_target(
            total,
            enabled,
            stderr_is_terminal,
            ProgressDrawTarget::stderr(),
        )
    }

    fn with_target(
        total: Option<u64>,
        enabled: bool,
        stderr_is_terminal: bool,
        target: ProgressDrawTarget,
    ) -> Progress {
        let bar = wanted(total, enabled, stderr_is_terminal).then(|| {
            let bar = ProgressBar::with_draw_target(total, target);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} ({binary_bytes_per_sec}) {msg}, ETA {eta}",
                )
                .expect("a valid template"),
            );
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            started: now,
            last: now,
        }
    }

    /// For the terminal check: standard error's.
    pub fn stderr_is_terminal() -> bool {
        std::io::stderr().is_terminal()
    }

    /// The bar, for output to print above it.
    pub fn bar(&self) -> Option<&ProgressBar> {
        self.bar.as_ref()
    }

    /// `bytes` of the input read, `flows` of them done.
    pub fn update(&mut self, bytes: u64, flows: u64) {
        let Some(bar) = &self.bar else {
            return;
        };
        let now = Instant::now();
        if now.duration_since(self.last) < EVERY {
            return;
        }
        self.last = now;
        bar.set_position(bytes);
        let secs = now.duration_since(self.started).as_secs_f64().max(1e-3);
        bar.set_message(format!("{flows} flows, {:.0} flows/s", flows as f64 / secs));
    }

    /// Clears the bar at the end of the run.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Progress, wanted};
    use indicatif::ProgressDrawTarget;

    #[test]
    fn only_on_a_terminal_over_a_file_unless_switched_off() {
        assert!(wanted(Some(10), true, true));
        assert!(
            !wanted(Some(10), true, false),
            "standard error is a pipe or a file"
        );
        assert!(
            !wanted(None, true, true),
            "standard input, or not a regular file"
        );
        assert!(!wanted(Some(10), false, true), "--set progress=false");
    }

    #[test]
    fn a_bar_counts_bytes_and_flows() {
        let mut p = Progress::with_target(Some(1000), true, true, ProgressDrawTarget::hidden());
        p.last -= super::EVERY;
        p.update(500, 7);
        let bar = p.bar().expect("a bar");
        assert_eq!((bar.position(), bar.length()), (500, Some(1000)));
        assert!(bar.message().starts_with("7 flows, "), "{}", bar.message());
        p.finish();
        let none = Progress::with_target(Some(1000), true, false, ProgressDrawTarget::hidden());
        assert!(none.bar().is_none());
    }
}
