//! `-r FILE` without `-n`: the saved flows go through the scripts in the
//! offline event order, then to `-w` and the flow lines, while the proxy
//! serves, as mitmdump's `readfile` does once it is running.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result};
use waylay_proxy::filter::Filter;
use waylay_proxy::flowfile::FlowReader;
use waylay_proxy::live::Live;
use waylay_proxy::script::Level;

/// `-r`'s file, opened before the proxy listens: a path that can't be read
/// stops start-up with one line.
pub struct Saved {
    file: File,
    path: String,
}

/// Opens `-r`'s file, if there is one.
pub fn open(rfile: Option<&str>) -> Result<Option<Saved>> {
    let Some(path) = rfile else {
        return Ok(None);
    };
    if path == "-" {
        anyhow::bail!(
            "-r -: the live proxy reads saved flows from a file, not standard input; name the file, or add -n for an offline run"
        );
    }
    let file = File::open(path).with_context(|| format!("{path}: cannot read flows"))?;
    Ok(Some(Saved {
        file,
        path: path.to_owned(),
    }))
}

/// The thread reading `-r`; [`Reading::stop`] ends it at shutdown.
pub struct Reading {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reading {
    /// Stops at the next flow; with `wait`, waits for the one under way
    /// (its hooks finish and it is recorded) before `done` fires.
    pub fn stop(mut self, wait: bool) {
        self.stop.store(true, Ordering::Release);
        if let (Some(thread), true) = (self.thread.take(), wait) {
            let _ = thread.join();
        }
    }
}

/// Starts reading on a thread of its own: each flow `read` matches gets its
/// events (hooks may block, so not on an I/O thread), then is recorded
/// like a live flow. A file that breaks off is reported in one line; the
/// flows before it stay loaded and the proxy keeps serving.
pub fn start(saved: Saved, live: &Arc<Live>, read: Option<Arc<Filter>>) -> Reading {
    let stop = Arc::new(AtomicBool::new(false));
    let (live, stopped) = (live.clone(), stop.clone());
    let spawned = std::thread::Builder::new()
        .name("waylay-readfile".into())
        .spawn(move || {
            let Saved { file, path } = saved;
            let mut loaded = 0usize;
            for flow in FlowReader::new(file) {
                if stopped.load(Ordering::Acquire) {
                    return;
                }
                let mut flow = match flow {
                    Ok(flow) => flow,
                    Err(e) => {
                        live.scripts().log().log(
                            "readfile",
                            Level::Warn,
                            &format!(
                                "-r {path}: {e}; the {loaded} flow(s) before it were loaded, and the proxy goes on serving"
                            ),
                        );
                        return;
                    }
                };
                if read.as_ref().is_some_and(|f| !f.matches(&flow)) {
                    continue;
                }
                waylay_proxy::offline::replay_events(live.scripts(), &mut flow);
                loaded += 1;
                live.record_blocking(&flow);
            }
        });
    let thread = match spawned {
        Ok(thread) => Some(thread),
        Err(e) => {
            eprintln!("runner: warning: cannot start reading the saved flows: {e}");
            None
        }
    };
    Reading { stop, thread }
}
