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

/// The `--set` names this module owns.
pub const FLOW_OPTIONS: [(&str, &str); 15] = [
    (
        "anticache",
        "true/false: strip If-Modified-Since and If-None-Match from requests (as --anticache)",
    ),
    (
        "anticomp",
        "true/false: ask servers for uncompressed responses (as --anticomp)",
    ),
    (
        "dumper_filter",
        "filter: show only the flows it matches (mitmdump's name for view_filter)",
    ),
    (
        "hardump",
        "file: write the flows as a HAR file at exit (- for standard output, .zhar compressed)",
    ),
    (
        "map_local",
        "[/filter]/url-regex/file-or-directory, repeatable: answer live requests from local files",
    ),
    (
        "map_remote",
        "[/filter]/url-regex/replacement, repeatable: rewrite live request URLs",
    ),
    (
        "modify_body",
        "[/filter]/regex/[@]replacement, repeatable: rewrite live bodies",
    ),
    (
        "modify_headers",
        "[/filter]/name/[@]value, repeatable: set (or, empty, remove) live headers",
    ),
    (
        "progress",
        "true/false: show a progress bar on a terminal during offline runs over a file (true)",
    ),
    (
        "readfile_filter",
        "filter: read only the flows of -r it matches; the others get no events and are not written",
    ),
    (
        "save_stream_filter",
        "filter: write only the flows it matches to -w",
    ),
    (
        "script_error",
        "fail/continue: after a hook panics, undo its changes and fail a live flow with a 502 (fail), or let the flow go on as the hook left it, as mitmproxy does (continue)",
    ),
    (
        "stickyauth",
        "filter: requests it matches get their host's last Authorization",
    ),
    (
        "stickycookie",
        "filter: requests it matches get the cookies earlier responses set",
    ),
    ("view_filter", "filter: show only the flows it matches"),
];

/// Whether `name` is one of these options, and a switch (`--set NAME`
/// alone means true).
pub fn known(name: &str) -> Option<bool> {
    FLOW_OPTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, _)| matches!(*n, "anticache" | "anticomp" | "progress"))
}

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
    let mut repeated: [Vec<String>; 4] = Default::default();
    for set in &cli.set {
        let (name, value) = match set.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (set.as_str(), None),
        };
        if known(name).is_none() {
            continue;
        }
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
            _ => repeated[3].push(text()),
        }
    }
    // mitmdump's flags win over `--set` for the same option.
    let flag = |given: &Vec<String>, set: &mut Vec<String>| {
        if !given.is_empty() {
            *set = given.clone();
        }
    };
    let [map_remote, map_local, modify_headers, modify_body] = &mut repeated;
    flag(&cli.map_remote, map_remote);
    flag(&cli.map_local, map_local);
    flag(&cli.modify_headers, modify_headers);
    flag(&cli.modify_body, modify_body);
    rewrite.map_remote = std::mem::take(map_remote);
    rewrite.map_local = std::mem::take(map_local);
    rewrite.modify_headers = std::mem::take(modify_headers);
    rewrite.modify_body = std::mem::take(modify_body);
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
    let settings = if cli.filter.is_empty() {
        FlowSettings {
            read: filter("--set readfile_filter", &read)?,
            save: filter("--set save_stream_filter", &save)?,
            view: filter("--set view_filter", &view)?,
            progress,
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
