//! `runner -n`: scripts over saved flows, from -r to -w.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use waylay_proxy::flowfile::FlowReader;
use waylay_proxy::offline::{self, OfflineError};
use waylay_proxy::script::OnPanic;
use waylay_proxy::summary::flow_detail;

use crate::capture::{Destination, destination, open_output};
use crate::cli::Cli;
use crate::output::Output;
use crate::progress::Progress;
use crate::scripts::{ScriptSpec, load_all};

/// Whether the file starts as a HAR file does (`{`, maybe after a BOM).
fn looks_like_har(path: &str) -> bool {
    let mut first = [0u8; 1];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut first))
        .is_ok()
        && matches!(first[0], b'{' | 0xEF)
}

pub fn run(cli: &Cli, specs: &[ScriptSpec], output: &Arc<Output>) -> Result<()> {
    let dest = cli.wfile.as_deref().map(destination);
    // Check the input before building anything, and never truncate it.
    // The size of a regular input file, for the progress bar.
    let mut size = None;
    let input: Option<(Box<dyn Read + Send>, String)> = match cli.rfile.as_deref() {
        None => None,
        Some("-") => Some((Box::new(std::io::stdin()), "standard input".to_owned())),
        Some(path) => {
            let file = File::open(path).with_context(|| format!("{path}: cannot read flows"))?;
            size = file
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len());
            if let Some(Destination::File { path: out, .. }) = &dest
                && crate::capture::same_file(Path::new(path), out)
            {
                bail!(
                    "{path}: refusing to write flows to the file they are read from; pass another -w path"
                );
            }
            Some((Box::new(file), path.to_owned()))
        }
    };
    let mut scripts = load_all(specs, output)?;
    // The proxy's options serve replays only, but a typo is always an error.
    let options = crate::settings::resolve(cli, &mut scripts)?;
    let flows = crate::flow_options::resolve(cli, &mut scripts, output)?;
    let har = crate::har_dump::open(cli, flows.save.clone())?;
    let replay = crate::client_replay::settings(cli)?;
    let scripts = std::sync::Arc::new(scripts);
    // `--web -n -r FILE` and nothing else: the file is browsed where it is.
    let plain = specs.is_empty()
        && cli.wfile.is_none()
        && har.is_none()
        && replay.flows.is_empty()
        && flows.read.is_none()
        && flows.save.is_none();
    if let (true, true, Some(path)) = (cli.web, plain, cli.rfile.as_deref())
        && path != "-"
        && !looks_like_har(path)
    {
        let file = File::open(path).with_context(|| format!("{path}: cannot read flows"))?;
        let web = crate::web::Web::start_over(cli, output, Some(file))?;
        web.set_engine(scripts.clone(), &flows.rules);
        web.set_replay(crate::web::replay_offline(
            cli,
            scripts.clone(),
            options,
            output,
            web.feed().clone(),
        ));
        web.index(path)?;
        return web.serve_until_signal();
    }
    let web_options = options.clone();
    let replays =
        crate::client_replay::Offline::new(cli, &scripts, options, output, replay.concurrency);
    let replaying = !replay.flows.is_empty();
    replays.replay_file(replay.flows);
    if !cli.no_reload && input.is_some() {
        // A long run picks up edits to its scripts, like the live proxy.
        crate::reload::spawn(specs, scripts.clone(), output.clone());
    }
    let mut writer = open_output(dest.as_ref())?;
    let web = match cli.web {
        true => Some(crate::web::Web::start(cli, output)?),
        false => None,
    };
    if let Some(web) = &web {
        web.set_engine(scripts.clone(), &flows.rules);
        web.set_replay(crate::web::replay_offline(
            cli,
            scripts.clone(),
            web_options,
            output,
            web.feed().clone(),
        ));
    }
    let (input, name) = match input {
        Some(input) => input,
        // -C alone: the replays are the run.
        None if replaying => (
            Box::new(std::io::empty()) as Box<dyn Read + Send>,
            "-C".to_owned(),
        ),
        None => {
            // No -r: only start and done, as mitmdump -n does.
            scripts.start();
            scripts.running();
            scripts.done();
            return har.map_or(Ok(()), |har| har.finish());
        }
    };
    let mut reader = FlowReader::new(input);
    let detail = if output.quiet { 0 } else { cli.flow_detail };
    let mut progress = Progress::new(size, flows.progress, Progress::stderr_is_terminal());
    output.set_bar(progress.bar().cloned());
    let selection = offline::Selection {
        read: flows.read.as_deref(),
        save: flows.save.as_deref(),
    };
    let view = flows.view.as_deref();
    let result = offline::run_selected(
        &scripts,
        &mut reader,
        writer.as_mut(),
        selection,
        Some(&*replays),
        |flow, stats| {
            progress.update(stats.bytes, stats.flows + stats.skipped);
            if let (Some(har), Some(flow)) = (&har, flow) {
                har.add(flow);
            }
            if let (Some(web), Some(flow)) = (&web, flow) {
                web.add(flow);
            }
            let Some(flow) = flow.filter(|f| detail > 0 && view.is_none_or(|v| v.matches(f)))
            else {
                return;
            };
            if let Some(text) = flow_detail(flow, detail) {
                output.info(&text);
            }
        },
    );
    replays.finish();
    progress.finish();
    output.set_bar(None);
    // Written whatever happened to the run; its error, if any, is said
    // first.
    let har_written = har.as_ref().map_or(Ok(()), |har| har.finish());
    let panics = scripts.panics();
    if panics > 0 {
        let kept = match scripts.on_panic() {
            OnPanic::Fail => "as they were before the hook",
            OnPanic::Continue => "as the hook left them (script_error=continue)",
        };
        output.problem(&format!(
            "runner: {panics} hook call(s) panicked; those flows were written {kept}"
        ));
    }
    let ran = match result {
        Ok(_) => Ok(()),
        Err(OfflineError::Read(e, stats)) => {
            let kept = if writer.is_some() {
                "processed and written"
            } else {
                "processed"
            };
            Err(anyhow::anyhow!(
                "{name}: {e}; the {} flow(s) before it were {kept}",
                stats.flows
            ))
        }
        Err(OfflineError::Write(e, stats)) => Err(anyhow::anyhow!(
            "{}: cannot write flows: {e}; {} flow(s) were written before it",
            cli.wfile.as_deref().unwrap_or("-"),
            stats.flows
        )),
    };
    let result = match (ran, har_written) {
        (Err(e), Err(har)) => {
            output.problem(&format!("runner: error: {har:#}"));
            Err(e)
        }
        (Err(e), Ok(())) => Err(e),
        (Ok(()), har) => har,
    };
    // The view goes on showing what was read, a bad flow's error said.
    if let Some(web) = web {
        if let Err(e) = &result {
            output.problem(&format!("runner: error: {e:#}"));
        }
        web.serve_until_signal()?;
    }
    result
}
