//! What the user sees: flow lines and script logs, like mitmdump's.
//!
//! Flow lines and script info go to standard output (standard error when
//! flows are written to standard output); warnings and errors always go to
//! standard error, even with -q.

use std::io::Write;
use std::sync::Mutex;

use waylay_proxy::script::{Level, LogSink};

/// How chatty to be, and where.
#[derive(Debug)]
pub struct Output {
    pub quiet: bool,
    pub verbose: bool,
    /// Standard output carries flows; print lines to standard error.
    pub stdout_taken: bool,
    lock: Mutex<()>,
}

impl Output {
    pub fn new(quiet: bool, verbose: bool, stdout_taken: bool) -> Output {
        Output {
            quiet,
            verbose,
            stdout_taken,
            lock: Mutex::new(()),
        }
    }

    /// An informational line (flow lines, script info).
    pub fn info(&self, line: &str) {
        if self.quiet {
            return;
        }
        let _guard = self.lock.lock();
        if self.stdout_taken {
            let _ = writeln!(std::io::stderr(), "{line}");
        } else {
            let _ = writeln!(std::io::stdout(), "{line}");
        }
    }

    /// A warning or error line, always shown.
    pub fn problem(&self, line: &str) {
        let _guard = self.lock.lock();
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

impl LogSink for Output {
    fn log(&self, script: &str, level: Level, msg: &str) {
        match level {
            Level::Debug if self.verbose => self.info(&format!("[{script}] debug: {msg}")),
            Level::Debug => {}
            Level::Info => self.info(&format!("[{script}] {msg}")),
            Level::Warn => self.problem(&format!("[{script}] warning: {msg}")),
            Level::Error => self.problem(&format!("[{script}] error: {msg}")),
        }
    }
}
