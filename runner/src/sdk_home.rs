//! What script crates compile against, carried by the runner: the SDK and
//! the test harness (packed by `build.rs`), written once per content to
//! `~/.waylay/sdk/VERSION-HASH/` (`WAYLAY_SDK_HOME` moves it), and the pin
//! that points a script crate there (its `.cargo/config.toml`).
//!
//! Compatibility is cargo's semver on `waylay-sdk`, whose minor version is
//! the ABI version (a test in the SDK keeps them equal): a crate asking for
//! `waylay-sdk = "0.5"` builds with any runner whose SDK is 0.5.x, and this
//! module moves its pin there; it is refused, with `runner upgrade` named,
//! by a runner whose SDK is 0.7.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use toml_edit::{DocumentMut, value};

use waylay_proxy::script::build::BuildOptions;

mod packed {
    include!(concat!(env!("OUT_DIR"), "/packed_sdk.rs"));
}

pub use packed::SDK_VERSION;

/// The ABI scripts built against this SDK speak.
pub const ABI_VERSION: u32 = waylay_sdk::abi::ABI_VERSION;

/// The folder the packed copies live in: `WAYLAY_SDK_HOME`, or
/// `~/.waylay/sdk`.
pub fn home() -> PathBuf {
    if let Some(dir) = std::env::var_os("WAYLAY_SDK_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    base.join(".waylay").join("sdk")
}

/// This runner's copy of the SDK and harness (which may not be written
/// yet): `home()/VERSION-HASH`.
pub fn copy_dir() -> PathBuf {
    home().join(packed::SDK_ID)
}

/// The requirement a new script crate writes for the SDK: `"0.5"`.
pub fn requirement() -> String {
    let mut parts = SDK_VERSION.split('.');
    let major = parts.next().unwrap_or("0");
    let minor = parts.next().unwrap_or("0");
    format!("{major}.{minor}")
}

/// Writes this runner's copy unless it is there; returns its folder.
/// Written beside and renamed into place, so a reader never sees half.
pub fn ensure() -> Result<PathBuf> {
    let dir = copy_dir();
    if dir.join("waylay-sdk/Cargo.toml").is_file() {
        return Ok(dir);
    }
    let home = home();
    let fail = |e: std::io::Error, what: &Path| {
        anyhow::anyhow!(
            "cannot write the script SDK to {} ({e}); make the folder writable or set WAYLAY_SDK_HOME to one that is",
            what.display()
        )
    };
    fs::create_dir_all(&home).map_err(|e| fail(e, &home))?;
    let staging = home.join(format!(".{}.{}.tmp", packed::SDK_ID, std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    for (path, contents) in packed::FILES {
        let target = staging.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| fail(e, parent))?;
        }
        fs::write(&target, contents).map_err(|e| fail(e, &target))?;
    }
    if let Err(e) = fs::rename(&staging, &dir) {
        let _ = fs::remove_dir_all(&staging);
        // Another runner of this build got there first: same content.
        if !dir.join("waylay-sdk/Cargo.toml").is_file() {
            return Err(fail(e, &dir));
        }
    }
    Ok(dir)
}

/// A crate's `.cargo/config.toml` pinning it to the copy in `dir`.
pub fn pin_file(dir: &Path) -> String {
    let quote = |p: PathBuf| toml_edit::Value::from(p.to_string_lossy().into_owned()).to_string();
    format!(
        "# Where cargo finds the Waylay SDK and test harness this crate builds\n\
         # against: a copy the runner wrote (waylay-sdk {SDK_VERSION}). `runner -s`\n\
         # moves this pin to its own copy when the SDK versions are compatible;\n\
         # `runner upgrade .` moves it when they are not.\n\
         [patch.crates-io]\n\
         waylay-sdk = {{ path = {} }}\n\
         waylay-proxy = {{ path = {} }}\n",
        quote(dir.join("waylay-sdk")),
        quote(dir.join("waylay-proxy")),
    )
}

/// The SDK folder a crate's `.cargo/config.toml` pins it to, if it has one.
pub fn read_pin(crate_dir: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(crate_dir.join(".cargo/config.toml")).ok()?;
    let doc: DocumentMut = text.parse().ok()?;
    let path = doc
        .get("patch")?
        .get("crates-io")?
        .get("waylay-sdk")?
        .get("path")?
        .as_str()?;
    Some(PathBuf::from(path))
}

/// What a crate's `Cargo.toml` asks of `waylay-sdk` under
/// `[dependencies]`: `"0.5"` from `waylay-sdk = "0.5"` or from
/// `waylay-sdk = { version = "0.5" }`.
pub fn asked_version(manifest: &str) -> Option<String> {
    let doc: DocumentMut = manifest.parse().ok()?;
    let spec = doc.get("dependencies")?.get("waylay-sdk")?;
    spec.as_str()
        .or_else(|| spec.get("version")?.as_str())
        .map(str::to_owned)
}

/// Whether a requirement accepts this runner's SDK, by cargo's rules.
pub fn accepts(asked: &str) -> bool {
    let Ok(req) = semver::VersionReq::parse(asked) else {
        return false;
    };
    semver::Version::parse(SDK_VERSION).is_ok_and(|v| req.matches(&v))
}

/// How `runner -s DIR` builds `DIR`: checked against this runner's SDK,
/// its pin moved here if it points elsewhere (said in one line on
/// standard error, even when `quiet`).
pub fn build_options(crate_dir: &Path, quiet: bool) -> Result<BuildOptions> {
    let options = BuildOptions {
        sdk_dir: None,
        proxy_dir: None,
        quiet,
        lines: None,
    };
    let Ok(manifest) = fs::read_to_string(crate_dir.join("Cargo.toml")) else {
        // `build` says what is missing.
        return Ok(options);
    };
    if in_own_workspace(crate_dir, &manifest) {
        // A member of a Waylay checkout's workspace (the examples, the
        // test fixtures): its `[patch]` pins them.
        return Ok(options);
    }
    let name = crate_dir.display();
    let dir = ensure()?;
    let pinned_here = BuildOptions {
        sdk_dir: Some(dir.join("waylay-sdk")),
        proxy_dir: Some(dir.join("waylay-proxy")),
        quiet,
        lines: None,
    };
    let Some(asked) = asked_version(&manifest) else {
        // Not a script crate, as far as the SDK goes: the loader will say.
        return Ok(pinned_here);
    };
    if !accepts(&asked) {
        bail!(
            "{name}: made for waylay-sdk {asked} (its Cargo.toml), and this runner has waylay-sdk {SDK_VERSION} (ABI {ABI_VERSION}); \
             run `runner upgrade {name}` to move it to {}, then fix what the compiler reports",
            requirement()
        );
    }
    match read_pin(crate_dir) {
        Some(pinned) if pinned == dir.join("waylay-sdk") => {}
        Some(pinned) => {
            write_pin(crate_dir, &dir)?;
            // Said even with -q: the runner changed a file of the user's.
            eprintln!(
                "runner: {name}: moved its SDK pin to this runner's waylay-sdk {SDK_VERSION} at {} (it was {})",
                dir.display(),
                pinned.display()
            );
        }
        None => {}
    }
    // Pinned on the command line as well: a crate with no pin of its own
    // builds against this copy too, and the two patches always agree.
    Ok(pinned_here)
}

/// `runner upgrade DIR`: asks for this runner's SDK in `Cargo.toml` and
/// pins the crate to its copy. Returns what it did, as one line.
pub fn upgrade(crate_dir: &Path) -> Result<String> {
    let name = crate_dir.display();
    let manifest_path = crate_dir.join("Cargo.toml");
    let Ok(text) = fs::read_to_string(&manifest_path) else {
        bail!(
            "{name}: no Cargo.toml here; give the folder of a script crate (one `runner new` made)"
        );
    };
    let mut doc = text.parse::<DocumentMut>().map_err(|e| {
        anyhow::anyhow!(
            "{}: not valid TOML ({}); fix it and run `runner upgrade {name}` again",
            manifest_path.display(),
            first_line(&e.to_string())
        )
    })?;
    let Some(spec) = doc
        .get_mut("dependencies")
        .and_then(|d| d.get_mut("waylay-sdk"))
    else {
        bail!(
            "{name}: Cargo.toml has no waylay-sdk dependency; a script crate needs `waylay-sdk = \"{}\"` under [dependencies]",
            requirement()
        );
    };
    let asked = spec
        .as_str()
        .or_else(|| spec.get("version")?.as_str())
        .unwrap_or("")
        .to_owned();
    let wanted = requirement();
    let dir = ensure()?;
    let already = asked == wanted && read_pin(crate_dir) == Some(dir.join("waylay-sdk"));
    if already {
        return Ok(format!(
            "{name} already builds against this runner's waylay-sdk {SDK_VERSION} (ABI {ABI_VERSION}); nothing to do"
        ));
    }
    if let Some(table) = spec.as_table_like_mut() {
        table.insert("version", value(wanted.clone()));
    } else {
        *spec = value(wanted.clone());
    }
    fs::write(&manifest_path, doc.to_string())
        .with_context(|| format!("{}: cannot write", manifest_path.display()))?;
    write_pin(crate_dir, &dir)?;
    Ok(format!(
        "Upgraded {name}: waylay-sdk \"{asked}\" -> \"{wanted}\" (this runner's {SDK_VERSION}, ABI {ABI_VERSION}), pinned to {}. \
         Build it with `runner -n -r FLOWS -s {name}` and fix what the compiler reports.",
        dir.display()
    ))
}

/// Writes `crate_dir/.cargo/config.toml` pinning it to `dir`. A config
/// that holds more than our pin keeps the rest, comments included.
fn write_pin(crate_dir: &Path, dir: &Path) -> Result<()> {
    let path = crate_dir.join(".cargo/config.toml");
    let existing = fs::read_to_string(&path)
        .ok()
        .and_then(|t| t.parse::<DocumentMut>().ok());
    let text = match existing {
        Some(mut doc) => {
            let pin: DocumentMut = pin_file(dir).parse().expect("our pin is TOML");
            let patch = doc
                .entry("patch")
                .or_insert(toml_edit::table())
                .as_table_like_mut()
                .and_then(|t| {
                    t.entry("crates-io")
                        .or_insert(toml_edit::table())
                        .as_table_like_mut()
                });
            let Some(patch) = patch else {
                bail!(
                    "{}: its [patch] is not a table; fix it or delete the file, and run again",
                    path.display()
                );
            };
            for krate in ["waylay-sdk", "waylay-proxy"] {
                patch.insert(krate, pin["patch"]["crates-io"][krate].clone());
            }
            doc.to_string()
        }
        None => pin_file(dir),
    };
    fs::create_dir_all(crate_dir.join(".cargo"))
        .and_then(|()| fs::File::create(&path)?.write_all(text.as_bytes()))
        .with_context(|| format!("{}: cannot write the SDK pin", path.display()))
}

/// Whether `crate_dir` is a member of a Waylay checkout's workspace (this
/// runner's or another's): not a workspace of its own, and under a folder
/// whose `Cargo.toml` is a workspace beside a `script-sdk/` that is
/// `waylay-sdk`. That workspace's `[patch]` pins its members to its own
/// sources; pinning them here as well would put two SDKs in one graph.
fn in_own_workspace(crate_dir: &Path, manifest: &str) -> bool {
    let own_workspace = manifest
        .parse::<DocumentMut>()
        .is_ok_and(|doc| doc.contains_key("workspace"));
    if own_workspace {
        return false;
    }
    let Ok(dir) = crate_dir.canonicalize() else {
        return false;
    };
    dir.ancestors().skip(1).any(is_waylay_checkout)
}

/// A folder holding Waylay's workspace: `Cargo.toml` with `[workspace]`
/// and `script-sdk/Cargo.toml` naming `waylay-sdk`.
fn is_waylay_checkout(dir: &Path) -> bool {
    let read = |p: PathBuf| {
        fs::read_to_string(p)
            .ok()
            .and_then(|t| t.parse::<DocumentMut>().ok())
    };
    let Some(root) = read(dir.join("Cargo.toml")) else {
        return false;
    };
    root.contains_key("workspace")
        && read(dir.join("script-sdk/Cargo.toml")).is_some_and(|sdk| {
            sdk.get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                == Some("waylay-sdk")
        })
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
}

/// `runner --version`: Waylay's version, the SDK and ABI, and where the
/// SDK copy scripts are pinned to lives.
pub fn version_text() -> String {
    let dir = copy_dir();
    let state = if dir.join("waylay-sdk/Cargo.toml").is_file() {
        ""
    } else {
        " (written when a script is first built or made)"
    };
    format!(
        "runner (Waylay) {}\nwaylay-sdk {SDK_VERSION}, ABI {ABI_VERSION}\nscripts are pinned to {}{state}\n",
        env!("CARGO_PKG_VERSION"),
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requirement_is_the_sdk_minor_and_accepts_its_own_version() {
        assert_eq!(requirement(), format!("0.{ABI_VERSION}"));
        assert!(accepts(&requirement()));
        assert!(accepts(SDK_VERSION));
        assert!(!accepts("0.1"));
        assert!(!accepts(&format!("0.{}", ABI_VERSION + 1)));
        assert!(!accepts("not a version"));
    }

    #[test]
    fn the_asked_version_is_read_from_either_form() {
        assert_eq!(
            asked_version("[dependencies]\nwaylay-sdk = \"0.5\"\n").as_deref(),
            Some("0.5")
        );
        assert_eq!(
            asked_version("[dependencies]\nwaylay-sdk = { version = \"=0.5.1\" }\n").as_deref(),
            Some("=0.5.1")
        );
        assert_eq!(asked_version("[dependencies]\nother = \"1\"\n"), None);
        assert_eq!(asked_version("not toml ["), None);
    }

    #[test]
    fn a_pin_file_reads_back_and_quotes_odd_paths() {
        let dir = tempfile::tempdir().unwrap();
        let odd = Path::new("/tmp/a \"quoted\" \\ dir");
        fs::create_dir_all(dir.path().join(".cargo")).unwrap();
        fs::write(dir.path().join(".cargo/config.toml"), pin_file(odd)).unwrap();
        assert_eq!(read_pin(dir.path()), Some(odd.join("waylay-sdk")));
    }

    #[test]
    fn moving_a_pin_keeps_the_rest_of_a_config() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".cargo")).unwrap();
        fs::write(
            dir.path().join(".cargo/config.toml"),
            pin_file(Path::new("/old")) + "\n[build]\njobs = 1\n",
        )
        .unwrap();
        write_pin(dir.path(), Path::new("/new")).unwrap();
        let text = fs::read_to_string(dir.path().join(".cargo/config.toml")).unwrap();
        assert!(text.contains("jobs = 1"), "{text}");
        assert_eq!(read_pin(dir.path()), Some(PathBuf::from("/new/waylay-sdk")));
    }

    #[test]
    fn members_of_any_waylay_checkout_are_left_to_its_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let member = "[package]\nname = \"ex\"\nversion = \"0.1.0\"\n\n[dependencies]\nwaylay-sdk = \"0.5\"\n";
        fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"examples/ex\"]\n",
        )
        .unwrap();
        fs::create_dir_all(root.join("script-sdk")).unwrap();
        fs::create_dir_all(root.join("examples/ex")).unwrap();
        fs::write(root.join("examples/ex/Cargo.toml"), member).unwrap();
        // Not yet a Waylay checkout: no SDK beside the workspace.
        assert!(!in_own_workspace(&root.join("examples/ex"), member));
        fs::write(
            root.join("script-sdk/Cargo.toml"),
            "[package]\nname = \"waylay-sdk\"\nversion = \"0.5.0\"\n",
        )
        .unwrap();
        assert!(in_own_workspace(&root.join("examples/ex"), member));
        // A crate that is its own workspace is pinned like any other.
        let alone = format!("{member}\n[workspace]\n");
        assert!(!in_own_workspace(&root.join("examples/ex"), &alone));
        // And this checkout's examples are members of this checkout.
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/add_header");
        let text = fs::read_to_string(example.join("Cargo.toml")).unwrap();
        assert!(in_own_workspace(&example, &text));
    }

    #[test]
    fn the_packed_copy_is_whole() {
        let names: Vec<&str> = packed::FILES.iter().map(|(p, _)| *p).collect();
        for needed in [
            "waylay-sdk/Cargo.toml",
            "waylay-sdk/src/lib.rs",
            "waylay-proxy/Cargo.toml",
            "waylay-proxy/src/lib.rs",
            "waylay-proxy/src/testing.rs",
        ] {
            assert!(names.contains(&needed), "{needed} is packed");
        }
        let manifest = packed::FILES
            .iter()
            .find(|(p, _)| *p == "waylay-proxy/Cargo.toml")
            .unwrap()
            .1;
        let manifest = std::str::from_utf8(manifest).unwrap();
        assert!(!manifest.contains("workspace"), "{manifest}");
        assert!(manifest.contains("path = \"../waylay-sdk\""), "{manifest}");
    }
}
