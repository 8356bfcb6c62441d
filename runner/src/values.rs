//! Option values as the command line gives them.

use anyhow::{Result, bail};

/// A true/false `--set` value (no value: true).
pub fn switch(name: &str, value: Option<&str>) -> Result<bool> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => {
            bail!("--set {name}={other}: expected true or false (or no value, for true)")
        }
    }
}
