//! `-w`: the flow file being written, for offline runs and the live proxy.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use waylay_proxy::flowfile::FlowWriter;

use crate::cli::Cli;

/// Where -w points.
pub enum Destination<'a> {
    Stdout,
    File { path: &'a Path, append: bool },
}

/// A flow file being written (-w).
pub type Capture = FlowWriter<Box<dyn Write + Send>>;

/// Opens -w's destination, truncating or appending, and making its folder
/// if it is missing.
pub fn open_output(dest: Option<&Destination<'_>>) -> Result<Option<Capture>> {
    Ok(match dest {
        None => None,
        Some(Destination::Stdout) => Some(FlowWriter::new(
            Box::new(std::io::stdout()) as Box<dyn Write + Send>
        )),
        Some(Destination::File { path, append }) => {
            // A missing folder is made, as mitmdump makes it.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!(
                        "{}: cannot make the folder {} to write flows into",
                        path.display(),
                        dir.display()
                    )
                })?;
            }
            let file = OpenOptions::new()
                .write(true)
                .create(true)
                .append(*append)
                .truncate(!*append)
                .open(path)
                .with_context(|| format!("{}: cannot write flows", path.display()))?;
            Some(FlowWriter::new(Box::new(file) as Box<dyn Write + Send>))
        }
    })
}

/// Opens -w for the live proxy.
pub fn capture(cli: &Cli) -> Result<Option<Capture>> {
    open_output(cli.wfile.as_deref().map(destination).as_ref())
}

pub fn destination(wfile: &str) -> Destination<'_> {
    match wfile {
        "-" => Destination::Stdout,
        w => match w.strip_prefix('+') {
            Some(path) => Destination::File {
                path: Path::new(path),
                append: true,
            },
            None => Destination::File {
                path: Path::new(w),
                append: false,
            },
        },
    }
}

/// Whether `a` and `b` name one file (both exist).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Opens -w for the live proxy, refusing the file `-r` reads from: it
/// would be emptied before it is read (or, appended to, read forever).
pub fn capture_beside(cli: &Cli) -> Result<Option<Capture>> {
    if let (Some(rfile), Some(Destination::File { path, .. })) =
        (cli.rfile.as_deref(), cli.wfile.as_deref().map(destination))
        && same_file(Path::new(rfile), path)
    {
        anyhow::bail!(
            "{rfile}: refusing to write flows to the file they are read from; pass another -w path"
        );
    }
    capture(cli)
}
