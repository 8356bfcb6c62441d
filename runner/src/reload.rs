//! Hot reload, live and offline: watch each script crate, rebuild it in
//! the background when its files change, and swap the new build in for
//! later events while the old one keeps serving until then.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use waylay_proxy::script::build::build;
use waylay_proxy::script::{Script, Scripts};

use crate::output::Output;
use crate::scripts::ScriptSpec;

/// How often crates are checked for changes.
const POLL: Duration = Duration::from_millis(300);

/// What a crate's sources looked like: the newest change and how many.
/// Sources are `Cargo.toml` and `.rs` files outside `target/` and hidden
/// folders, so files the run writes (a `-w` capture) never trigger one.
type Stamp = (SystemTime, usize);

fn stamp(dir: &Path) -> Stamp {
    fn walk(dir: &Path, newest: &mut SystemTime, count: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name == "target" || name.starts_with('.') {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                walk(&entry.path(), newest, count);
            } else if name.ends_with(".rs") || name == "Cargo.toml" {
                *count += 1;
                if let Ok(modified) = meta.modified() {
                    *newest = (*newest).max(modified);
                }
            }
        }
    }
    let (mut newest, mut count) = (SystemTime::UNIX_EPOCH, 0);
    walk(dir, &mut newest, &mut count);
    (newest, count)
}

struct Watched {
    index: usize,
    dir: PathBuf,
    name: String,
    argv: Vec<String>,
    stamp: Stamp,
}

/// Starts watching every `-s` that is a crate directory.
pub fn spawn(specs: &[ScriptSpec], scripts: Arc<Scripts>, output: Arc<Output>) {
    let mut watched: Vec<Watched> = specs
        .iter()
        .enumerate()
        .filter(|(_, spec)| spec.path.is_dir())
        .map(|(index, spec)| Watched {
            index,
            dir: spec.path.clone(),
            name: spec.path.display().to_string(),
            argv: spec.argv.clone(),
            stamp: stamp(&spec.path),
        })
        .collect();
    if watched.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        let mut generation = 0u32;
        loop {
            std::thread::sleep(POLL);
            for w in &mut watched {
                let now = stamp(&w.dir);
                if now == w.stamp {
                    continue;
                }
                w.stamp = now;
                generation += 1;
                reload(w, generation, &scripts, &output);
            }
        }
    });
}

fn reload(w: &Watched, generation: u32, scripts: &Scripts, output: &Output) {
    output.problem(&format!(
        "runner: {} changed; rebuilding (the running build keeps serving)",
        w.name
    ));
    let built = match crate::scripts::build_options(&w.dir, output)
        .and_then(|options| Ok(build(&w.dir, &options)?))
    {
        Ok(library) => library,
        Err(e) => {
            output.problem(&format!(
                "runner: warning: the rebuild of {} failed, so the previous build of it still runs: {e}",
                w.name
            ));
            return;
        }
    };
    // The dynamic loader hands back the old code for a path it has open,
    // so each build is loaded from a copy under a new name.
    let copy = fresh_name(&built, generation);
    if let Err(e) = std::fs::copy(&built, &copy) {
        output.problem(&format!(
            "runner: warning: cannot copy {} to {}, so the previous build of {} still runs: {e}",
            built.display(),
            copy.display(),
            w.name
        ));
        return;
    }
    match Script::load(&copy, &w.name, w.argv.clone(), output) {
        Ok(script) => {
            scripts.replace(w.index, script);
            output.problem(&format!("runner: {} reloaded", w.name));
        }
        Err(e) => output.problem(&format!(
            "runner: warning: the new build of {} did not load, so the previous build still runs: {e}",
            w.name
        )),
    }
}

fn fresh_name(library: &Path, generation: u32) -> PathBuf {
    let stem = library
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = library
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    library.with_file_name(format!(
        "{stem}-reload-{}-{generation}.{ext}",
        std::process::id()
    ))
}
