//! Building a script crate with cargo and finding its cdylib.
//!
//! The build pins `waylay-sdk` to the host's own copy with cargo's
//! `--config patch...`, so a script is always compiled against the SDK the
//! host speaks. Cargo's progress goes to the user's stderr as cargo prints
//! it; its diagnostics arrive as JSON and are printed rendered.

use std::fmt;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::{Message, TargetKind};

/// Why a script crate could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// No directory (or file) at the path.
    Missing(PathBuf),
    /// A directory without `Cargo.toml`.
    NotACrate(PathBuf),
    /// cargo could not be started.
    Cargo(String),
    /// The crate failed to compile.
    Compile(PathBuf),
    /// The crate built, but no cdylib came out of it.
    NotCdylib(PathBuf),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Missing(p) => {
                write!(
                    f,
                    "{}: no such script crate; pass the directory of a script's Cargo.toml to -s",
                    p.display()
                )
            }
            BuildError::NotACrate(p) => write!(
                f,
                "{}: not a Rust crate (no Cargo.toml); a script is a crate, create one with `runner new NAME`",
                p.display()
            ),
            BuildError::Cargo(e) => write!(
                f,
                "cannot run cargo: {e}; is the Rust toolchain installed and on PATH?"
            ),
            BuildError::Compile(p) => {
                write!(
                    f,
                    "{}: the script crate does not compile; fix the errors cargo printed above",
                    p.display()
                )
            }
            BuildError::NotCdylib(p) => write!(
                f,
                "{}: the crate builds no cdylib; add `[lib] crate-type = [\"cdylib\", \"rlib\"]` to its Cargo.toml",
                p.display()
            ),
        }
    }
}

impl std::error::Error for BuildError {}

/// How to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The SDK source directory scripts are pinned to.
    pub sdk_dir: PathBuf,
    /// The engine's source directory, for scripts whose tests use its
    /// harness (`waylay-proxy` as a dev-dependency).
    pub proxy_dir: Option<PathBuf>,
    /// Silence cargo's progress lines (diagnostics still show).
    pub quiet: bool,
}

/// Builds the script crate at `dir` in release mode; returns the cdylib.
pub fn build(dir: &Path, options: &BuildOptions) -> Result<PathBuf, BuildError> {
    if !dir.exists() {
        return Err(BuildError::Missing(dir.to_owned()));
    }
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(BuildError::NotACrate(dir.to_owned()));
    }
    let manifest = manifest
        .canonicalize()
        .map_err(|_| BuildError::Missing(dir.to_owned()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--release",
            "--lib",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--config")
        .arg(patch_config("waylay-sdk", &options.sdk_dir))
        // Cargo reads configuration from the working directory: the
        // script's own `.cargo/config.toml` applies, as it would for
        // `cargo build` run there.
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(if options.quiet {
            Stdio::null()
        } else {
            Stdio::inherit()
        });
    let mut child = command
        .spawn()
        .map_err(|e| BuildError::Cargo(e.to_string()))?;
    let stdout = child.stdout.take().expect("piped");
    let mut cdylib = None;
    let mut stderr = std::io::stderr().lock();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message {
            Ok(Message::CompilerMessage(msg)) => {
                if let Some(rendered) = &msg.message.rendered {
                    let _ = stderr.write_all(rendered.as_bytes());
                }
            }
            Ok(Message::CompilerArtifact(artifact))
                if artifact.manifest_path.as_std_path() == manifest
                    && artifact.target.kind.contains(&TargetKind::CDyLib) =>
            {
                cdylib = artifact
                    .filenames
                    .iter()
                    .find(|f| {
                        f.extension()
                            .is_some_and(|e| matches!(e, "so" | "dylib" | "dll"))
                    })
                    .map(|f| f.clone().into_std_path_buf());
            }
            _ => {}
        }
    }
    drop(stderr);
    let status = child.wait().map_err(|e| BuildError::Cargo(e.to_string()))?;
    if !status.success() {
        return Err(BuildError::Compile(dir.to_owned()));
    }
    cdylib.ok_or_else(|| BuildError::NotCdylib(dir.to_owned()))
}

/// `patch.crates-io.CRATE.path="…"`, quoted for TOML.
fn patch_config(krate: &str, dir: &Path) -> String {
    let path = dir
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!("patch.crates-io.{krate}.path=\"{path}\"")
}
