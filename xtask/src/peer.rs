//! The interop peer: mitmproxy 11.0.2 in `target/mitmproxy-venv`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::util::{root, run};

pub const VERSION: &str = "11.0.2";

/// The venv's Python, installing mitmproxy first if it is missing.
pub fn ensure() -> Result<PathBuf> {
    let venv = root().join("target/mitmproxy-venv");
    let python = venv.join("bin/python");
    let installed = Command::new(&python)
        .args([
            "-c",
            &format!("import mitmproxy.version as v; assert v.VERSION == '{VERSION}'"),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!(
            "xtask: installing mitmproxy=={VERSION} into {}",
            venv.display()
        );
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            &format!("mitmproxy=={VERSION}"),
        ]))?;
    }
    Ok(python)
}
