//! `runner`: Waylay's command line.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::Parser;

/// The host allocates and frees its flows on two threads (read-ahead and
/// scripts); mimalloc frees across threads cheaply. Scripts keep their own
/// allocator: each side frees only what it allocated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod capture;
mod cli;
mod client_replay;
mod flow_options;
mod har_dump;
mod interception;
mod live;
mod new;
mod offline;
mod options_file;
mod output;
mod progress;
mod proxy_options;
mod readfile;
mod registry;
mod reload;
mod scripts;
mod sdk_home;
mod server_replay;
mod settings;
mod signals;
mod values;
mod web;

use cli::{Cli, Command};
use output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("runner: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(mut cli: Cli) -> Result<()> {
    if cli.version {
        print!("{}", sdk_home::version_text());
        return Ok(());
    }
    // The command line's own `--set confdir` says where config.yaml is.
    cli.config = registry::Config::parse(&cli.set)?;
    options_file::apply(&mut cli)?;
    cli.config = registry::Config::parse(&cli.set)?;
    match &cli.command {
        Some(Command::New { path }) => return new::create(path),
        Some(Command::Upgrade { path }) => {
            println!("{}", sdk_home::upgrade(path)?);
            return Ok(());
        }
        None => {}
    }
    let specs = cli
        .scripts
        .iter()
        .map(|s| scripts::parse_spec(s))
        .collect::<Result<Vec<_>>>()?;
    let stdout_taken = cli.wfile.as_deref() == Some("-");
    let output = Arc::new(Output::new(cli.quiet, cli.verbose, stdout_taken));
    if matches!(cli.options, Some(None)) {
        let scripts = scripts::load_all(&specs, &output)?;
        print!("{}", settings::list(&cli, &scripts));
        return Ok(());
    }
    if cli.no_server {
        return offline::run(&cli, &specs, &output);
    }
    let capture = capture::capture_beside(&cli)?;
    live::run(&cli, &specs, &output, capture)
}
