//! Log lines held back while a flow's hooks run on a worker thread of an
//! offline run (`offline::parallel`), so that they can be said in the
//! flows' order rather than as the workers happen to finish.

use std::cell::RefCell;
use std::sync::Arc;

use crate::event::{Level, LogSink};

/// One log line: the script (or addon) that said it, its level, its text.
pub(crate) type Line = (String, Level, String);

thread_local! {
    /// Lines held on this thread, while it holds them.
    static HELD: RefCell<Option<Vec<Line>>> = const { RefCell::new(None) };
}

/// From now on, this thread's log lines are kept for [`take`] instead of
/// said.
pub(crate) fn hold() {
    HELD.with(|held| *held.borrow_mut() = Some(Vec::new()));
}

/// The lines held since [`hold`]; this thread's lines are said again from
/// now on.
pub(crate) fn take() -> Vec<Line> {
    HELD.with(|held| held.borrow_mut().take().unwrap_or_default())
}

/// The sink every script and addon of a [`super::Scripts`] logs to: the
/// run's own, unless the calling thread holds its lines.
pub(super) struct Holding(pub(super) Arc<dyn LogSink>);

impl LogSink for Holding {
    fn log(&self, script: &str, level: Level, msg: &str) {
        let held = HELD.with(|held| match held.borrow_mut().as_mut() {
            Some(lines) => {
                lines.push((script.to_owned(), level, msg.to_owned()));
                true
            }
            None => false,
        });
        if !held {
            self.0.log(script, level, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Said(Mutex<Vec<String>>);

    impl LogSink for Said {
        fn log(&self, _script: &str, _level: Level, msg: &str) {
            self.0.lock().unwrap().push(msg.to_owned());
        }
    }

    /// Held lines are kept in order and not said; other threads' lines
    /// are said as usual.
    #[test]
    fn a_holding_thread_keeps_its_lines() {
        let said = Arc::new(Said(Mutex::new(Vec::new())));
        let sink = Arc::new(Holding(said.clone()));
        hold();
        sink.log("s", Level::Info, "one");
        let other = sink.clone();
        std::thread::spawn(move || other.log("s", Level::Warn, "elsewhere"))
            .join()
            .unwrap();
        sink.log("s", Level::Info, "two");
        let lines: Vec<String> = take().into_iter().map(|(_, _, m)| m).collect();
        assert_eq!(lines, ["one", "two"]);
        sink.log("s", Level::Info, "three");
        assert_eq!(*said.0.lock().unwrap(), ["elsewhere", "three"]);
    }
}
