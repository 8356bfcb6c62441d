//! The interop peer: mitmproxy 11.0.2 in `target/mitmproxy-venv`, with
//! Python's `websockets` beside it.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::util::{root, run};

pub const VERSION: &str = "11.0.2";

/// Python's `websockets`, beside it: a real WebSocket client and server
/// that speak permessage-deflate, for the live proxy's tests.
pub const WEBSOCKETS: &str = "15.0.1";

/// The venv's Python, installing mitmproxy first if it is missing.
pub fn ensure() -> Result<PathBuf> {
    let venv = root().join("target/mitmproxy-venv");
    let python = venv.join("bin/python");
    let installed = Command::new(&python)
        .args([
            "-c",
            &format!(
                "import mitmproxy.version as v, websockets as w; assert v.VERSION == '{VERSION}' and w.__version__ == '{WEBSOCKETS}'"
            ),
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
            &format!("websockets=={WEBSOCKETS}"),
        ]))?;
    }
    Ok(python)
}
