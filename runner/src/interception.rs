//! HTTPS interception's set-up: the confdir and the CA in it, and the
//! `Interceptor` the live proxy and replays make TLS connections with.

use std::path::PathBuf;

use anyhow::Result;
use waylay_proxy::live::Options;
use waylay_proxy::tls::{Interceptor, ca};

use crate::cli::Cli;
use crate::output::Output;

/// The confdir: `--confdir`, `--set confdir=`, or `~/.waylay`.
pub fn confdir(cli: &Cli) -> PathBuf {
    let set = cli.config.last("confdir").map(PathBuf::from);
    cli.confdir.clone().or(set).unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
            .join(".waylay")
    })
}

/// Loads (or makes) the CA and sets up interception, telling the user
/// what they need to know about it.
pub fn interceptor(cli: &Cli, options: &Options, output: &Output) -> Result<Interceptor> {
    let dir = confdir(cli);
    let loaded = ca::load_or_create(&dir).map_err(anyhow::Error::msg)?;
    if loaded.created {
        output.info(&format!(
            "Created a CA in {}; clients must trust {} to have HTTPS intercepted (see the README).",
            dir.display(),
            dir.join(ca::CERT_FILE).display()
        ));
    }
    for warning in &loaded.warnings {
        output.problem(&format!("runner: warning: {warning}"));
    }
    let (interceptor, notes) =
        Interceptor::new(loaded.ca, &options.trust).map_err(anyhow::Error::msg)?;
    for note in notes {
        output.problem(&format!("runner: warning: {note}"));
    }
    Ok(interceptor)
}
