//! `--set hardump=FILE`: the flows as a HAR file, written at exit, offline
//! and live (mitmproxy's `savehar`; `-` is standard output, a `.zhar` name
//! is zlib-compressed). The file is created at start-up, so a path that
//! cannot be written stops the run before any flow; each flow's entry is
//! made as it finishes, the file written once at the end.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use waylay_proxy::Flow;
use waylay_proxy::filter::Filter;
use waylay_proxy::har::HarDump;
use waylay_proxy::live::OnFlow;

use crate::cli::Cli;

enum Destination {
    Stdout,
    File { file: File, path: PathBuf },
}

/// The HAR being collected and where it goes.
pub struct HarOutput {
    dump: Mutex<HarDump>,
    dest: Mutex<Option<Destination>>,
    /// `save_stream_filter`: savehar keeps only the flows it matches.
    save: Option<Arc<Filter>>,
}

/// The last `--set hardump=...`; `None` when unset or empty.
fn setting(cli: &Cli) -> Option<&str> {
    cli.config.last("hardump").filter(|v| !v.is_empty())
}

/// Opens `--set hardump`'s destination, if there is one.
pub fn open(cli: &Cli, save: Option<Arc<Filter>>) -> Result<Option<Arc<HarOutput>>> {
    let Some(value) = setting(cli) else {
        return Ok(None);
    };
    let dest = if value == "-" {
        Destination::Stdout
    } else {
        let path = PathBuf::from(value);
        let file = File::create(&path).with_context(|| {
            format!("--set hardump={value}: cannot create the HAR file; pass a path in a writable directory")
        })?;
        Destination::File { file, path }
    };
    Ok(Some(Arc::new(HarOutput {
        dump: Mutex::new(HarDump::new()),
        dest: Mutex::new(Some(dest)),
        save,
    })))
}

impl HarOutput {
    /// A finished flow: its entries, as savehar's hooks would add them.
    pub fn add(&self, flow: &Flow) {
        if self.save.as_ref().is_none_or(|f| f.matches(flow)) {
            self.dump
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(flow);
        }
    }

    /// Writes the HAR (once; later calls do nothing).
    pub fn finish(&self) -> Result<()> {
        let Some(dest) = self.dest.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return Ok(());
        };
        let dump = self.dump.lock().unwrap_or_else(|e| e.into_inner());
        match dest {
            Destination::Stdout => {
                let mut out = std::io::stdout().lock();
                dump.finish(&mut out)
                    .and_then(|()| out.write_all(b"\n"))
                    .and_then(|()| out.flush())
                    .context("--set hardump=-: cannot write the HAR to standard output")
            }
            Destination::File { file, path } => {
                let mut out = std::io::BufWriter::new(file);
                let zhar = path.extension().is_some_and(|e| e == "zhar");
                let written = if zhar {
                    dump.finish_zlib(&mut out)
                } else {
                    dump.finish(&mut out)
                };
                written
                    .and_then(|()| out.flush())
                    .with_context(|| format!("{}: cannot write the HAR file", path.display()))
            }
        }
    }
}

/// The live proxy's flow callback with the HAR collected in it.
pub fn hook(har: Option<&Arc<HarOutput>>, on_flow: Option<OnFlow>) -> Option<OnFlow> {
    let Some(har) = har.cloned() else {
        return on_flow;
    };
    Some(Box::new(move |flow: &Flow| {
        har.add(flow);
        if let Some(lines) = &on_flow {
            lines(flow);
        }
    }))
}
