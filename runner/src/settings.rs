//! `--set NAME=VALUE` and `--options`: the registry's options and the
//! ones scripts declare, checked together at start-up.

use anyhow::Result;
use waylay_proxy::live::Options;
use waylay_proxy::script::Scripts;

use crate::cli::Cli;
use crate::registry::{Applies, OPTIONS};

/// Checks the `--set` names the registry does not know against the
/// loaded scripts' declarations, gives the scripts their values, and
/// returns the proxy's options. An unknown name or a malformed value is
/// an error that says what is known or expected.
pub fn resolve(cli: &Cli, scripts: &mut Scripts) -> Result<Options> {
    let values = cli.config.script_values(&scripts.declared())?;
    scripts.set_options(&values);
    scripts.set_option_names(OPTIONS.iter().map(|o| o.name.to_owned()));
    let proxy: Vec<(String, String)> = cli
        .config
        .pairs()
        .filter(|(name, _)| {
            crate::registry::find(name)
                .is_some_and(|o| matches!(o.applies, Applies::Proxy | Applies::Web))
        })
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    crate::proxy_options::options(cli, &proxy)
}

/// `runner --options`: every option with its help and current value,
/// then the scripts' own.
pub fn list(cli: &Cli, scripts: &Scripts) -> String {
    let mut out = cli.config.describe();
    let declared = scripts.declared();
    if !declared.is_empty() {
        out += "script options:\n";
        for o in declared {
            let kind = format!("{:?}", o.kind).to_lowercase();
            let now = cli
                .config
                .other(&o.name)
                .map(|v| format!(", now {v:?}"))
                .unwrap_or_default();
            out += &format!(
                "  {} ({kind}, default {:?}{now}, from {}): {}\n",
                o.name, o.default, o.script, o.help
            );
        }
    }
    out
}
