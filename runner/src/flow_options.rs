//! The options that choose and rewrite flows: the positional FILTER and
//! `save_stream_filter`, `readfile_filter`, `view_filter` (mitmdump's
//! `dumper_filter`), the rewriting options and their mitmdump flags,
//! `script_error` and `progress`. Checked at start-up; the rewriting options become the
//! scripts' addons.

use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};
use waylay_proxy::Flow;
use waylay_proxy::addons::{self, Addons};
use waylay_proxy::filter::Filter;
use waylay_proxy::script::{OnPanic, Scripts};

use crate::capture::Capture;
use crate::cli::Cli;
use crate::output::Output;
use crate::values::switch;

/// What the options chose.
#[derive(Debug)]
pub struct FlowSettings {
    /// Flows from -r it does not match are skipped.
    pub read: Option<Arc<Filter>>,
    /// Flows it does not match are not written.
    pub save: Option<Arc<Filter>>,
    /// Flows it does not match are not shown.
    pub view: Option<Arc<Filter>>,
    /// Draw the offline progress bar (when stderr is a terminal).
    pub progress: bool,
    /// The rule options as started (`block_list`, `map_*`, `modify_*`):
    /// the web view's rules table begins with them.
    pub rules: addons::Options,
}

fn filter(what: &str, expression: &str) -> Result<Option<Arc<Filter>>> {
    if expression.is_empty() {
        return Ok(None);
    }
    match Filter::parse(expression) {
        Ok(f) => Ok(Some(Arc::new(f))),
        // The positional FILTER's error is the filter's own line.
        Err(e) if what.is_empty() => bail!("{e}"),
        Err(e) => bail!("{what}: {e}"),
    }
}

/// Reads the positional FILTER, the mitmdump flags and this module's
/// `--set` values, gives the scripts their addons, and returns the
/// filters. A malformed value stops start-up with one line naming it.
pub fn resolve(cli: &Cli, scripts: &mut Scripts, output: &Output) -> Result<FlowSettings> {
    let mut rewrite = addons::Options {
        server_replay: crate::server_replay::options(cli, output)?,
        ..addons::Options::default()
    };
    let (mut read, mut save, mut view) = (String::new(), String::new(), String::new());
    let mut progress = true;
    let mut repeated: [Vec<String>; 5] = Default::default();
    for (name, value) in cli.config.entries() {
        let text = || value.unwrap_or_default().to_owned();
        match name {
            "anticache" => rewrite.anticache = switch(name, value)?,
            "anticomp" => rewrite.anticomp = switch(name, value)?,
            "progress" => progress = switch(name, value)?,
            "stickycookie" => rewrite.stickycookie = Some(text()),
            "stickyauth" => rewrite.stickyauth = Some(text()),
            "readfile_filter" => read = text(),
            "save_stream_filter" => save = text(),
            "view_filter" | "dumper_filter" => view = text(),
            "hardump" => {} // har_dump reads it
            "script_error" => match OnPanic::parse(&text()) {
                Some(on_panic) => scripts.set_script_error(on_panic),
                None => bail!(
                    "--set script_error={}: expected fail (the default: a live flow fails with a 502) or continue (mitmproxy's: the flow goes on)",
                    text()
                ),
            },
            "map_remote" => repeated[0].push(text()),
            "map_local" => repeated[1].push(text()),
            "modify_headers" => repeated[2].push(text()),
            "modify_body" => repeated[3].push(text()),
            "block_list" => repeated[4].push(text()),
            // Another part's option.
            _ => {}
        }
    }
    // mitmdump's flags win over `--set` for the same option.
    let flag = |given: &Vec<String>, set: &mut Vec<String>| {
        if !given.is_empty() {
            *set = given.clone();
        }
    };
    let [
        map_remote,
        map_local,
        modify_headers,
        modify_body,
        block_list,
    ] = &mut repeated;
    flag(&cli.map_remote, map_remote);
    flag(&cli.map_local, map_local);
    flag(&cli.modify_headers, modify_headers);
    flag(&cli.modify_body, modify_body);
    rewrite.map_remote = std::mem::take(map_remote);
    rewrite.map_local = std::mem::take(map_local);
    rewrite.modify_headers = std::mem::take(modify_headers);
    rewrite.modify_body = std::mem::take(modify_body);
    rewrite.block_list = std::mem::take(block_list);
    rewrite.anticache |= cli.anticache;
    rewrite.anticomp |= cli.anticomp;
    if cli.stickycookie.is_some() {
        rewrite.stickycookie = cli.stickycookie.clone();
    }
    if cli.stickyauth.is_some() {
        rewrite.stickyauth = cli.stickyauth.clone();
    }
    let addons = Addons::new(&rewrite).map_err(|e| anyhow::anyhow!("{e}"))?;
    scripts.set_addons(addons);
    let rules = addons::Options {
        map_remote: rewrite.map_remote,
        map_local: rewrite.map_local,
        modify_headers: rewrite.modify_headers,
        modify_body: rewrite.modify_body,
        block_list: rewrite.block_list,
        ..addons::Options::default()
    };
    let settings = if cli.filter.is_empty() {
        FlowSettings {
            read: filter("--set readfile_filter", &read)?,
            save: filter("--set save_stream_filter", &save)?,
            view: filter("--set view_filter", &view)?,
            progress,
            rules,
        }
    } else {
        // As mitmdump: the words make one expression that sets all three.
        let words = cli.filter.join(" ");
        let one = filter("", &words)?;
        FlowSettings {
            read: one.clone(),
            save: one.clone(),
            view: one,
            progress,
            rules,
        }
    };
    Ok(settings)
}

/// The live proxy's capture and flow lines with a save filter: the capture
/// is written here, flow by flow (and flushed), for the flows it matches.
pub fn filtered_capture(
    capture: Option<Capture>,
    on_flow: Option<waylay_proxy::live::OnFlow>,
    save: Option<Arc<Filter>>,
    output: Arc<Output>,
) -> (Option<Capture>, Option<waylay_proxy::live::OnFlow>) {
    let (save, capture) = match (save, capture) {
        (Some(save), Some(capture)) => (save, capture),
        (_, capture) => return (capture, on_flow),
    };
    let writer = Mutex::new(capture);
    let both = move |flow: &Flow| {
        if save.matches(flow) {
            let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = w.write_flow(flow).and_then(|()| w.flush()) {
                output.problem(&format!(
                    "runner: error: cannot write flow {}: {e}",
                    flow.id()
                ));
            }
        }
        if let Some(lines) = &on_flow {
            lines(flow);
        }
    };
    (None, Some(Box::new(both)))
}
