//! `-r FILE` without `-n`: the saved flows go through the scripts in the
//! offline event order, then to `-w` and the flow lines, while the proxy
//! serves, as mitmdump's `readfile` does once it is running.

use std::fs::File;
use std::sync::Arc;

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

/// Starts reading on a thread of its own: each flow `read` matches gets its
/// events (hooks may block, so not on an I/O thread), then is recorded
/// like a live flow. A file that breaks off is reported in one line; the
/// flows before it stay loaded and the proxy keeps serving.
pub fn start(saved: Saved, live: &Arc<Live>, read: Option<Arc<Filter>>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let recording = live.clone();
    tokio::spawn(async move {
        while let Some(flow) = rx.recv().await {
            recording.record(&flow).await;
        }
    });
    let reading = live.clone();
    let spawned = std::thread::Builder::new()
        .name("waylay-readfile".into())
        .spawn(move || {
            let Saved { file, path } = saved;
            let mut loaded = 0usize;
            for flow in FlowReader::new(file) {
                let mut flow = match flow {
                    Ok(flow) => flow,
                    Err(e) => {
                        reading.scripts().log().log(
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
                waylay_proxy::offline::replay_events(reading.scripts(), &mut flow);
                loaded += 1;
                if tx.blocking_send(flow).is_err() {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        live.scripts().log().log(
            "readfile",
            Level::Error,
            &format!("cannot start reading the saved flows: {e}"),
        );
    }
}
