//! What the user sees: flow lines and script logs, like mitmdump's.
//!
//! Flow lines and script info go to standard output (standard error when
//! flows are written to standard output); warnings and errors always go to
//! standard error, even with -q.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use waylay_proxy::script::{Level, LogSink};

/// How chatty to be, and where.
#[derive(Debug)]
pub struct Output {
    pub quiet: bool,
    pub verbose: bool,
    /// Standard output carries flows; print lines to standard error.
    pub stdout_taken: bool,
    lock: Mutex<()>,
    /// The offline progress bar, which lines bound for the terminal it is
    /// drawn on are printed above.
    bar: Mutex<Option<indicatif::ProgressBar>>,
    /// Whether standard output is that terminal too.
    stdout_terminal: bool,
    /// Where log lines also go (the web view's event pane): the level's
    /// name and the line.
    tap: TapSlot,
}

/// A copy of every log line and warning, with its level.
pub type Tap = Arc<dyn Fn(&'static str, &str) + Send + Sync>;

/// Where the tap is, once set.
#[derive(Default)]
struct TapSlot(OnceLock<Tap>);

impl std::fmt::Debug for TapSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "TapSlot(set)"
        } else {
            "TapSlot(none)"
        })
    }
}

impl Output {
    pub fn new(quiet: bool, verbose: bool, stdout_taken: bool) -> Output {
        Output {
            quiet,
            verbose,
            stdout_taken,
            lock: Mutex::new(()),
            bar: Mutex::new(None),
            stdout_terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            tap: TapSlot::default(),
        }
    }

    /// Sends a copy of every log line and warning to `tap` from now on.
    pub fn set_tap(&self, tap: Tap) {
        let _ = self.tap.0.set(tap);
    }

    fn tapped(&self, level: &'static str, line: &str) {
        if let Some(tap) = self.tap.0.get() {
            tap(level, line);
        }
    }

    /// Prints lines above `bar` from now on (`None`: no bar any more).
    pub fn set_bar(&self, bar: Option<indicatif::ProgressBar>) {
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = bar;
    }

    /// Writes with the bar out of the way when the line goes to its
    /// terminal.
    fn above_bar(&self, to_terminal: bool, write: impl FnOnce()) {
        let bar = self.bar.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bar {
            Some(bar) if to_terminal => bar.suspend(write),
            _ => write(),
        }
    }

    /// An informational line (flow lines, script info).
    pub fn info(&self, line: &str) {
        if self.quiet {
            return;
        }
        let _guard = self.lock.lock();
        if self.stdout_taken {
            self.above_bar(true, || {
                let _ = writeln!(std::io::stderr(), "{line}");
            });
        } else {
            self.above_bar(self.stdout_terminal, || {
                let _ = writeln!(std::io::stdout(), "{line}");
            });
        }
    }

    /// A line the user needs even with -q (where the web view is).
    pub fn notice(&self, line: &str) {
        let _guard = self.lock.lock();
        if self.stdout_taken {
            let _ = writeln!(std::io::stderr(), "{line}");
        } else {
            self.above_bar(self.stdout_terminal, || {
                let _ = writeln!(std::io::stdout(), "{line}");
            });
        }
    }

    /// A warning or error line, always shown.
    pub fn problem(&self, line: &str) {
        let level = if line.contains("error") {
            "error"
        } else {
            "warn"
        };
        self.tapped(level, line);
        let _guard = self.lock.lock();
        self.above_bar(true, || {
            let _ = writeln!(std::io::stderr(), "{line}");
        });
    }
}

impl LogSink for Output {
    fn log(&self, script: &str, level: Level, msg: &str) {
        if matches!(level, Level::Debug | Level::Info) {
            let name = if level == Level::Debug {
                "debug"
            } else {
                "info"
            };
            self.tapped(name, &format!("[{script}] {msg}"));
        }
        match level {
            Level::Debug if self.verbose => self.info(&format!("[{script}] debug: {msg}")),
            Level::Debug => {}
            Level::Info => self.info(&format!("[{script}] {msg}")),
            Level::Warn => self.problem(&format!("[{script}] warning: {msg}")),
            Level::Error => self.problem(&format!("[{script}] error: {msg}")),
        }
    }
}
