//! `runner`: Waylay's command line.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Parser;

/// The host allocates and frees its flows on two threads (read-ahead and
/// scripts); mimalloc frees across threads cheaply. Scripts keep their own
/// allocator: each side frees only what it allocated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod new;
mod offline;
mod output;
mod scripts;

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

fn run(cli: Cli) -> Result<()> {
    if let Some(Command::New { path }) = &cli.command {
        return new::create(path);
    }
    let specs = cli
        .scripts
        .iter()
        .map(|s| scripts::parse_spec(s))
        .collect::<Result<Vec<_>>>()?;
    let stdout_taken = cli.wfile.as_deref() == Some("-");
    let output = Arc::new(Output::new(cli.quiet, cli.verbose, stdout_taken));
    if !cli.no_server {
        bail!(
            "the live proxy is not part of this build yet; pass -n to run scripts over saved flows (-r FILE)"
        );
    }
    offline::run(&cli, &specs, &output)
}
