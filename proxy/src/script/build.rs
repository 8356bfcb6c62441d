//! Building a script crate with cargo and finding its cdylib.
//!
//! The build pins `waylay-sdk` (and the test harness, `waylay-proxy`) to
//! the host's own copy with cargo's `--config patch...`, so a script is
//! always compiled against the SDK the host speaks. Cargo's progress goes
//! to the user's stderr as cargo prints it (and is kept, to name the cause
//! when cargo fails before compiling); the compiler's diagnostics arrive as
//! JSON, each naming its package, and are printed rendered.

use std::fmt;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::diagnostic::DiagnosticLevel;
use cargo_metadata::{Message, TargetKind};

/// Why a script crate could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// No directory (or file) at the path.
    Missing(PathBuf),
    /// A directory without `Cargo.toml`.
    NotACrate(PathBuf),
    /// cargo could not be started: (the program, why).
    NoCargo(String, String),
    /// The compiler reported errors in the script crate itself.
    Compile(PathBuf),
    /// The compiler reported errors in a dependency (named).
    Dependency(PathBuf, String),
    /// cargo failed before compiling, for the reason given.
    Cargo {
        /// The script crate.
        dir: PathBuf,
        /// What kind of failure it was.
        cause: CargoCause,
        /// cargo's own words for it (its error line, or the deepest cause).
        detail: String,
    },
    /// The crate built, but no cdylib came out of it.
    NotCdylib(PathBuf),
}

/// Why cargo stopped before it compiled the script, read from what it
/// printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CargoCause {
    /// `Cargo.lock` is unreadable or out of date.
    Lockfile,
    /// Two different packages of one name and version (two SDK copies).
    Collision,
    /// No versions satisfy the requirements.
    Resolve,
    /// A download (registry index, crate, git) failed.
    Fetch,
    /// The Rust toolchain is missing or too old.
    Toolchain,
    /// The crate's `Cargo.toml` is invalid.
    Manifest,
    /// Something else; cargo's output above says what.
    Other,
}

impl CargoCause {
    /// Reads the cause from cargo's standard error (no compiler errors
    /// were reported); returns it with cargo's words for it.
    pub fn diagnose(stderr: &str) -> (CargoCause, String) {
        let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
        let Some(start) = lines.iter().position(|l| l.starts_with("error")) else {
            let last = lines.iter().rev().find(|l| !l.is_empty()).unwrap_or(&"");
            return (CargoCause::Other, (*last).to_owned());
        };
        let block: Vec<&str> = lines[start..]
            .iter()
            .copied()
            .filter(|l| !l.is_empty() && *l != "Caused by:")
            .collect();
        let text = block.join("\n").to_ascii_lowercase();
        let mut first = block[0].trim_start_matches("error:").trim().to_owned();
        // "… by the following package:" reads on in the next line.
        if first.ends_with(':')
            && let Some(next) = block.get(1)
        {
            first = format!("{first} {next}");
        }
        let deepest = block.last().copied().unwrap_or_default().to_owned();
        let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
        if has(&["package collision in the lockfile"]) {
            (CargoCause::Collision, first)
        } else if has(&[
            "toolchain",
            "rustup",
            "could not execute process `rustc",
            "requires rustc",
            "no such command",
            "is not installed",
        ]) {
            (CargoCause::Toolchain, first)
        } else if has(&[
            "failed to download",
            "download of",
            "failed to query replaced source",
            "failed to fetch",
            "failed to update",
            "network",
            "couldn't resolve host",
            "couldn't connect",
            "could not resolve host",
            "timed out",
            "ssl connect error",
        ]) {
            (CargoCause::Fetch, deepest)
        } else if has(&["lock file", "lockfile", "cargo.lock"]) {
            (CargoCause::Lockfile, first)
        } else if has(&[
            "failed to select a version",
            "no matching package",
            "failed to resolve patches",
            "version solving",
            "cyclic package dependency",
        ]) {
            (CargoCause::Resolve, first)
        } else if has(&["failed to parse manifest", "failed to load manifest"]) {
            (CargoCause::Manifest, deepest)
        } else {
            (CargoCause::Other, first)
        }
    }
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
            BuildError::NoCargo(program, e) => write!(
                f,
                "cannot run cargo ({program}: {e}); install Rust with rustup (https://rustup.rs) or put cargo on PATH"
            ),
            BuildError::Compile(p) => {
                write!(
                    f,
                    "{}: the script crate does not compile; fix the errors cargo printed above",
                    p.display()
                )
            }
            BuildError::Dependency(p, package) => write!(
                f,
                "{}: its dependency {package} does not compile (errors above), not the script itself; \
                 check that dependency's version in Cargo.toml (for waylay-sdk, `runner upgrade {}`)",
                p.display(),
                p.display()
            ),
            BuildError::Cargo { dir, cause, detail } => {
                let d = dir.display();
                match cause {
                    CargoCause::Lockfile => write!(
                        f,
                        "{d}: cargo cannot use the crate's Cargo.lock ({detail}); delete {d}/Cargo.lock and run again"
                    ),
                    CargoCause::Collision => write!(
                        f,
                        "{d}: cargo found two copies of one package ({detail}); run `runner upgrade {d}` to pin the SDK \
                         and the test harness to this runner's copy, and remove other [patch] entries for them"
                    ),
                    CargoCause::Resolve => write!(
                        f,
                        "{d}: cargo cannot resolve the crate's dependencies ({detail}); check the versions in its \
                         Cargo.toml (`runner upgrade {d}` sets the SDK's)"
                    ),
                    CargoCause::Fetch => write!(
                        f,
                        "{d}: cargo cannot download the crate's dependencies ({detail}); check the network and any \
                         proxy settings, or run `cargo fetch` in {d} once online"
                    ),
                    CargoCause::Toolchain => write!(
                        f,
                        "{d}: cargo cannot use the Rust toolchain ({detail}); install or update it with rustup \
                         (`rustup toolchain install` in {d}, or `rustup update`)"
                    ),
                    CargoCause::Manifest => write!(
                        f,
                        "{d}/Cargo.toml: cargo cannot read it ({detail}); fix it and run again"
                    ),
                    CargoCause::Other => write!(
                        f,
                        "{d}: cargo failed before compiling the script ({detail}); see cargo's output above"
                    ),
                }
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
    /// The SDK source directory scripts are pinned to on cargo's command
    /// line; `None` leaves the crate's own configuration (a workspace's
    /// `[patch]`) to decide.
    pub sdk_dir: Option<PathBuf>,
    /// The test harness (`waylay-proxy`) pinned with it, so that the two
    /// never name different SDK copies.
    pub proxy_dir: Option<PathBuf>,
    /// Silence cargo's progress lines (diagnostics still show).
    pub quiet: bool,
    /// Where cargo's lines and the compiler's diagnostics go instead of
    /// standard error (the web view shows a build's progress); `quiet`
    /// does not apply to them.
    pub lines: Option<BuildLines>,
}

/// Takes each line of a build's output, as plain text.
#[derive(Clone)]
pub struct BuildLines(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl fmt::Debug for BuildLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BuildLines(..)")
    }
}

/// At most this much of cargo's standard error is kept to read the cause.
const KEPT: usize = 64 * 1024;

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
    let crate_dir = manifest.parent().unwrap_or(dir).to_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args(["build", "--release", "--lib"])
        .arg("--manifest-path")
        .arg(&manifest);
    // Diagnostics come as JSON, each with its package and its rendering,
    // which is printed as it comes.
    let sink = options.lines.clone();
    if sink.is_none() && std::io::stderr().is_terminal() {
        command.args([
            "--color=always",
            "--message-format=json-diagnostic-rendered-ansi",
        ]);
    } else {
        command.arg("--message-format=json");
    }
    for (krate, pinned) in [
        ("waylay-sdk", &options.sdk_dir),
        ("waylay-proxy", &options.proxy_dir),
    ] {
        if let Some(pinned) = pinned {
            command.arg("--config").arg(patch_config(krate, pinned));
        }
    }
    // Cargo reads configuration from the working directory: the script's
    // own `.cargo/config.toml` applies, as it would for `cargo build` run
    // there.
    command
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| BuildError::NoCargo(Path::new(&cargo).display().to_string(), e.to_string()))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let quiet = options.quiet;
    let relayed = sink.clone();
    // cargo's own lines: shown as they come (unless quiet), and kept.
    let relay = std::thread::spawn(move || {
        let mut kept = String::new();
        let mut failing = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            // Quiet hides progress, never cargo's error and what follows.
            failing |= line.trim_start().starts_with("error");
            if let Some(BuildLines(sink)) = &relayed {
                sink(&line);
            } else if !quiet || failing {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            if kept.len() < KEPT {
                kept.push_str(&line);
                kept.push('\n');
            }
        }
        kept
    });
    let mut cdylib = None;
    let mut script_errors = false;
    let mut dependency_error: Option<String> = None;
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message {
            Ok(Message::CompilerMessage(msg)) => {
                match (&msg.message.rendered, &sink) {
                    (Some(rendered), Some(BuildLines(sink))) => {
                        rendered.lines().for_each(|l| sink(l));
                    }
                    (Some(rendered), None) => {
                        let _ = std::io::stderr().lock().write_all(rendered.as_bytes());
                    }
                    (None, _) => {}
                }
                if matches!(
                    msg.message.level,
                    DiagnosticLevel::Error | DiagnosticLevel::Ice
                ) {
                    if package_dir(&msg.package_id.repr).as_deref() == Some(crate_dir.as_path()) {
                        script_errors = true;
                    } else if dependency_error.is_none() {
                        dependency_error = Some(package_name(&msg.package_id.repr));
                    }
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
    let status = child
        .wait()
        .map_err(|e| BuildError::NoCargo(Path::new(&cargo).display().to_string(), e.to_string()))?;
    let kept = relay.join().unwrap_or_default();
    if !status.success() {
        if script_errors {
            return Err(BuildError::Compile(dir.to_owned()));
        }
        if let Some(package) = dependency_error {
            return Err(BuildError::Dependency(dir.to_owned(), package));
        }
        let (cause, detail) = CargoCause::diagnose(&kept);
        return Err(BuildError::Cargo {
            dir: dir.to_owned(),
            cause,
            detail,
        });
    }
    cdylib.ok_or_else(|| BuildError::NotCdylib(dir.to_owned()))
}

/// The folder of a path package from its id (`path+file:///dir#…` or the
/// older `name 0.1.0 (path+file:///dir)`); `None` for other sources.
fn package_dir(id: &str) -> Option<PathBuf> {
    let url = match id.split_once(" (") {
        Some((_, tail)) => tail.trim_end_matches(')'),
        None => id.split('#').next()?,
    };
    let path = url.strip_prefix("path+file://")?;
    let path = path.split('#').next()?;
    Some(PathBuf::from(percent_decoded(path)))
}

/// `%20` and the like in a file URL, as bytes.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `waylay-sdk 0.5.0` from a package id (`path+file:///…#waylay-sdk@0.5.0`
/// or the older `waylay-sdk 0.5.0 (path+file:///…)`).
fn package_name(id: &str) -> String {
    if let Some((head, tail)) = id.rsplit_once('#') {
        if let Some((name, version)) = tail.split_once('@') {
            return format!("{name} {version}");
        }
        // The name is left out when it is the folder's.
        let name = head.rsplit('/').next().unwrap_or(head);
        return format!("{name} {tail}");
    }
    id.split(" (").next().unwrap_or(id).to_owned()
}

/// `patch.crates-io.CRATE.path="…"`, quoted for TOML.
fn patch_config(krate: &str, dir: &Path) -> String {
    let path = dir
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!("patch.crates-io.{krate}.path=\"{path}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What cargo 1.95 prints for each cause, and what is read from it.
    #[test]
    fn causes_are_read_from_what_cargo_prints() {
        let cases: [(&str, CargoCause, &str); 7] = [
            (
                "error: failed to parse lock file at: /tmp/s/Cargo.lock\n\nCaused by:\n  TOML parse error at line 1, column 5\n",
                CargoCause::Lockfile,
                "failed to parse lock file at: /tmp/s/Cargo.lock",
            ),
            (
                "error: package collision in the lockfile: packages waylay-sdk v0.1.0 (/A/script-sdk) and waylay-sdk v0.1.0 (/B/script-sdk) are different, but only one can be written to lockfile unambiguously\n",
                CargoCause::Collision,
                "package collision in the lockfile: packages waylay-sdk v0.1.0 (/A/script-sdk) and waylay-sdk v0.1.0 (/B/script-sdk) are different, but only one can be written to lockfile unambiguously",
            ),
            (
                "    Updating crates.io index\nerror: failed to get `insta` as a dependency of package `s v0.1.0 (/tmp/s)`\n\nCaused by:\n  download of config.json failed\n\nCaused by:\n  failed to download from `https://index.crates.io/config.json`\n\nCaused by:\n  [7] Couldn't connect to server (Failed to connect to 127.0.0.1 port 9: Couldn't connect to server)\n",
                CargoCause::Fetch,
                "[7] Couldn't connect to server (Failed to connect to 127.0.0.1 port 9: Couldn't connect to server)",
            ),
            (
                "error: toolchain '1.0.0-x86_64-unknown-linux-gnu' is not installed\nhelp: run `rustup toolchain install` to install it\n",
                CargoCause::Toolchain,
                "toolchain '1.0.0-x86_64-unknown-linux-gnu' is not installed",
            ),
            (
                "error: failed to select a version for the requirement `waylay-sdk = \"^0.9\"`\ncandidate versions found which didn't match: 0.5.0\n",
                CargoCause::Resolve,
                "failed to select a version for the requirement `waylay-sdk = \"^0.9\"`",
            ),
            (
                "error: failed to parse manifest at `/tmp/s/Cargo.toml`\n\nCaused by:\n  missing field `name`\n",
                CargoCause::Manifest,
                "missing field `name`",
            ),
            (
                "warning: something\n",
                CargoCause::Other,
                "warning: something",
            ),
        ];
        for (stderr, cause, detail) in cases {
            assert_eq!(
                CargoCause::diagnose(stderr),
                (cause, detail.to_owned()),
                "{stderr}"
            );
        }
    }

    #[test]
    fn package_names_come_from_either_id_form() {
        assert_eq!(
            package_name("path+file:///home/u/.waylay/sdk/0.5.0-ab/waylay-sdk#waylay-sdk@0.5.0"),
            "waylay-sdk 0.5.0"
        );
        assert_eq!(
            package_name("registry+https://github.com/rust-lang/crates.io-index#insta@1.40.0"),
            "insta 1.40.0"
        );
        assert_eq!(
            package_name("path+file:///home/u/.waylay/sdk/0.5.0-ab/waylay-sdk#0.5.0"),
            "waylay-sdk 0.5.0"
        );
        assert_eq!(
            package_name("insta 1.40.0 (registry+https://…)"),
            "insta 1.40.0"
        );
    }

    #[test]
    fn path_packages_are_found_by_folder() {
        assert_eq!(
            package_dir("path+file:///tmp/my%20dir/script#uses_helper@0.1.0"),
            Some(PathBuf::from("/tmp/my dir/script"))
        );
        assert_eq!(
            package_dir("path+file:///tmp/script/helper#0.3.0"),
            Some(PathBuf::from("/tmp/script/helper"))
        );
        assert_eq!(
            package_dir("helper 0.3.0 (path+file:///tmp/script/helper)"),
            Some(PathBuf::from("/tmp/script/helper"))
        );
        assert_eq!(
            package_dir("registry+https://github.com/rust-lang/crates.io-index#insta@1.40.0"),
            None
        );
    }
}
