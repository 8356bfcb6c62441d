//! `--set NAME=VALUE` and `--options`: the proxy's options and the ones
//! scripts declare, checked together at start-up.

use std::collections::HashMap;

use anyhow::{Result, bail};
use waylay_proxy::live::Options;
use waylay_proxy::script::Scripts;

use crate::cli::Cli;
use crate::proxy_options::PROXY_OPTIONS;

/// Checks every `--set` against the proxy's options and the loaded
/// scripts' declarations, gives the scripts their values, and returns the
/// proxy's options. An unknown name or a malformed value is an error that
/// says what is known or expected.
pub fn resolve(cli: &Cli, scripts: &mut Scripts) -> Result<Options> {
    let declared = scripts.declared();
    let (mut proxy, mut values) = (Vec::new(), HashMap::new());
    for set in &cli.set {
        // Filters, rewriting options and `progress`: `flow_options`.
        let name = set.split_once('=').map_or(set.as_str(), |(n, _)| n);
        if crate::flow_options::known(name).is_some_and(|switch| switch || set.contains('=')) {
            continue;
        }
        // Client replay: `client_replay`.
        if crate::client_replay::known(name) {
            continue;
        }
        // Server replay: `server_replay`.
        if crate::server_replay::known(name).is_some() {
            continue;
        }
        let Some((name, value)) = set.split_once('=') else {
            bail!("--set {set:?}: expected NAME=VALUE");
        };
        if PROXY_OPTIONS.iter().any(|(n, _)| *n == name) {
            proxy.push((name.to_owned(), value.to_owned()));
        } else if let Some(option) = declared.iter().find(|o| o.name == name) {
            option.check(value).map_err(anyhow::Error::msg)?;
            values.insert(name.to_owned(), value.to_owned());
        } else {
            let known: Vec<&str> = PROXY_OPTIONS
                .iter()
                .map(|(n, _)| *n)
                .chain(declared.iter().map(|o| o.name.as_str()))
                .collect();
            let flows: Vec<&str> = crate::flow_options::FLOW_OPTIONS
                .iter()
                .map(|(n, _)| *n)
                .collect();
            let replay: Vec<&str> = crate::client_replay::OPTIONS
                .iter()
                .chain(&crate::server_replay::OPTIONS)
                .map(|(n, _)| *n)
                .collect();
            bail!(
                "--set {name}: no such option; the options here are: {}; for filters and rewriting: {}; and for replay: {}",
                known.join(", "),
                flows.join(", "),
                replay.join(", ")
            );
        }
    }
    scripts.set_options(&values);
    let names = PROXY_OPTIONS
        .iter()
        .chain(&crate::client_replay::OPTIONS)
        .chain(&crate::flow_options::FLOW_OPTIONS)
        .chain(&crate::server_replay::OPTIONS)
        .map(|(name, _)| (*name).to_owned());
    scripts.set_option_names(names);
    crate::proxy_options::options(cli, &proxy)
}

/// `runner --options`: every option with its help.
pub fn list(scripts: &Scripts) -> String {
    let mut out = String::from("proxy options:\n");
    for (name, help) in PROXY_OPTIONS {
        out += &format!("  {name}: {help}\n");
    }
    for (name, help) in crate::client_replay::OPTIONS {
        out += &format!("  {name}: {help}\n");
    }
    out += "flow options (filters, rewriting):\n";
    for (name, help) in crate::flow_options::FLOW_OPTIONS
        .iter()
        .chain(&crate::server_replay::OPTIONS)
    {
        out += &format!("  {name}: {help}\n");
    }
    let declared = scripts.declared();
    if !declared.is_empty() {
        out += "script options:\n";
        for o in declared {
            let kind = format!("{:?}", o.kind).to_lowercase();
            out += &format!(
                "  {} ({kind}, default {:?}, from {}): {}\n",
                o.name, o.default, o.script, o.help
            );
        }
    }
    out
}
