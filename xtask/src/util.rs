//! Running commands and finding the workspace.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("xtask lives in the workspace")
}

/// Runs a command from the workspace root; fails on a non-zero exit.
pub fn run(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// `cargo ARGS` from the workspace root.
pub fn cargo(args: &[&str]) -> Result<()> {
    run(Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())).args(args))
}

/// The number after `name` in `args`, or `default`.
pub fn arg_value(args: &[&str], name: &str, default: usize) -> Result<usize> {
    match args.iter().position(|a| *a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{name} takes a number")),
        None => Ok(default),
    }
}

/// The word after `name` in `args`, if `name` is there; an error if
/// nothing follows it.
pub fn arg_text<'a>(args: &[&'a str], name: &str) -> Result<Option<&'a str>> {
    match args.iter().position(|a| *a == name) {
        Some(i) => args
            .get(i + 1)
            .copied()
            .map(Some)
            .with_context(|| format!("{name} takes a value")),
        None => Ok(None),
    }
}

/// mitmproxy's add_header example, as the peer runs it in the benches:
/// written into `dir`, its path returned.
pub fn add_header_py(dir: &std::path::Path) -> Result<PathBuf> {
    let path = dir.join("add_header.py");
    std::fs::write(
        &path,
        "def response(flow):\n    flow.response.headers[\"newheader\"] = \"foo\"\n",
    )?;
    Ok(path)
}
