//! Server replay (`-S FILE`, `--set server_replay=FILE`) and the
//! `server_replay_*` options, with mitmdump's flags for the ones it has
//! flags for. The files are read here, once, at start-up; the matching is
//! `waylay_proxy::addons`' (see `ReplayOptions`).
//!
//! Unlike mitmdump without `--keepserving`, a live proxy keeps serving
//! after the recordings are used up; offline, every flow of `-r` is
//! matched, and the ones that match get the recorded response.

use anyhow::{Context as _, Result, bail};
use waylay_proxy::Flow;
use waylay_proxy::addons::{Extra, ReplayOptions};

use crate::cli::Cli;
use crate::output::Output;

use crate::values::switch;

fn extra(how: &str, value: &str) -> Result<Extra> {
    Extra::parse(value).with_context(|| {
        format!(
            "{how} {value:?}: not a value it takes; the values are {}",
            Extra::ACCEPTED.join(", ")
        )
    })
}

/// Reads `-S`, the flags and the `--set server_replay*` values, then the
/// files; says how many flows were read, and warns about the deprecated
/// names as mitmproxy does.
pub fn options(cli: &Cli, output: &Output) -> Result<ReplayOptions> {
    let mut o = ReplayOptions::default();
    let mut files = Vec::new();
    let (mut kill_extra, mut nopop) = (false, false);
    for (name, value) in cli.config.entries() {
        if !name.starts_with("server_replay") {
            continue;
        }
        let text = || match value {
            Some(v) => Ok(v.to_owned()),
            None => bail!("--set {name}: expected {name}=VALUE"),
        };
        let is_switch =
            crate::registry::find(name).is_some_and(|o| o.kind == crate::registry::Kind::Bool);
        if is_switch {
            let on = switch(name, value)?;
            match name {
                "server_replay_ignore_content" => o.ignore_content = on,
                "server_replay_ignore_host" => o.ignore_host = on,
                "server_replay_ignore_port" => o.ignore_port = on,
                "server_replay_kill_extra" => kill_extra = on,
                "server_replay_nopop" => nopop = on,
                "server_replay_refresh" => o.refresh = on,
                _ => o.reuse = on,
            }
            continue;
        }
        match name {
            "server_replay" => files.push(text()?),
            "server_replay_extra" => o.extra = extra("--set server_replay_extra", &text()?)?,
            "server_replay_ignore_params" => o.ignore_params.push(text()?),
            "server_replay_ignore_payload_params" => o.ignore_payload_params.push(text()?),
            "server_replay_use_headers" => o.use_headers.push(text()?),
            _ => {}
        }
    }
    // mitmdump's flags win over `--set` for the same option.
    if !cli.server_replay.is_empty() {
        files = cli.server_replay.clone();
    }
    if let Some(value) = &cli.server_replay_extra {
        o.extra = extra("--server-replay-extra", value)?;
    }
    let flag = |on: bool, off: bool, value: &mut bool| {
        if on {
            *value = true;
        } else if off {
            *value = false;
        }
    };
    flag(
        cli.server_replay_kill_extra,
        cli.no_server_replay_kill_extra,
        &mut kill_extra,
    );
    flag(
        cli.server_replay_reuse,
        cli.no_server_replay_reuse,
        &mut o.reuse,
    );
    flag(
        cli.server_replay_refresh,
        cli.no_server_replay_refresh,
        &mut o.refresh,
    );
    if kill_extra {
        output.problem(
            "runner: warning: server_replay_kill_extra has been deprecated, please update your config to use server_replay_extra='kill'.",
        );
        o.extra = Extra::Kill;
    }
    if nopop {
        output.problem(
            "runner: warning: server_replay_nopop has been renamed to server_replay_reuse, please update your config.",
        );
        o.reuse = true;
    }
    let mut flows = Vec::new();
    for file in &files {
        let before = flows.len();
        read(file, &mut flows)?;
        let n = flows.len() - before;
        output.info(&format!(
            "server replay: {n} flow{} from {file}",
            if n == 1 { "" } else { "s" }
        ));
    }
    o.flows = flows.into();
    Ok(o)
}

/// Every flow of a `-S` file, appended to `flows`: read whole, then on a
/// thread per core (`flowfile::read_all`).
fn read(path: &str, flows: &mut Vec<Flow>) -> Result<()> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("-S {path}: cannot read the flows to replay"))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (read, error) = waylay_proxy::flowfile::read_all(&bytes, threads);
    if let Some(e) = error {
        bail!(
            "-S {path}: {e}; no server replay started (fix or shorten the file, e.g. write it again with runner -n -r)"
        );
    }
    flows.extend(read);
    Ok(())
}
