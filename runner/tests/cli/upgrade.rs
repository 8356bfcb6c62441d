//! Script crates and the SDK copy the runner carries: `--version`, pins
//! moved or refused, `runner upgrade`, and the one line for each way cargo
//! fails that is not the script's fault.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::offline_run::{Offline, Ran};
use crate::support::{golden, manifest, path_in, run, scratch, write_crate};

/// The SDK copy this runner pins scripts to (from `runner --version`).
fn own_copy() -> PathBuf {
    let version = run(&["--version"]);
    let line = version
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("scripts are pinned to "))
        .expect("--version names the copy");
    PathBuf::from(line.split(" (").next().unwrap())
}

/// `runner -n -q -r get.mitm -s DIR`.
fn run_over_get(dir: &str) -> Ran {
    Offline::golden("get.mitm").args(&["-q"]).script(dir).run()
}

/// A crate made by `runner new` in `scratch`, named `name`.
fn new_crate(scratch: &tempfile::TempDir, name: &str) -> String {
    let path = path_in(scratch, name);
    let made = run(&["new", &path]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    path
}

fn pin_of(dir: &str) -> String {
    std::fs::read_to_string(Path::new(dir).join(".cargo/config.toml")).unwrap()
}

#[test]
fn version_names_waylay_the_sdk_the_abi_and_the_copy() {
    let version = run(&["--version"]);
    assert_eq!(version.code, 0, "{}", version.stderr);
    let lines: Vec<&str> = version.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", version.stdout);
    assert_eq!(
        lines[0],
        format!("runner (Waylay) {}", env!("CARGO_PKG_VERSION"))
    );
    let abi = waylay_sdk::abi::ABI_VERSION;
    assert_eq!(lines[1], format!("waylay-sdk 0.{abi}.0, ABI {abi}"));
    assert!(
        lines[2].starts_with("scripts are pinned to /"),
        "{}",
        lines[2]
    );
    assert!(
        lines[2].contains(&format!("/.waylay/sdk/0.{abi}.0-")),
        "{}",
        lines[2]
    );
    assert_eq!(run(&["-V"]).stdout, version.stdout);
}

#[test]
fn a_new_crate_is_pinned_to_the_copy_not_to_a_checkout() {
    let dir = scratch();
    let path = new_crate(&dir, "pinned");
    let copy = own_copy();
    let pin = pin_of(&path);
    assert!(
        pin.contains(&format!(
            "{:?}",
            copy.join("waylay-sdk").display().to_string()
        )),
        "{pin}"
    );
    assert!(copy.join("waylay-sdk/Cargo.toml").is_file());
    assert!(copy.join("waylay-proxy/src/testing.rs").is_file());
    let manifest = std::fs::read_to_string(copy.join("waylay-proxy/Cargo.toml")).unwrap();
    assert!(!manifest.contains("workspace"), "{manifest}");
    let ours = std::fs::read_to_string(Path::new(&path).join("Cargo.toml")).unwrap();
    let abi = waylay_sdk::abi::ABI_VERSION;
    assert!(
        ours.contains(&format!("waylay-sdk = \"0.{abi}\"")),
        "{ours}"
    );
}

#[test]
fn a_pin_to_another_compatible_copy_is_moved_in_one_line() {
    let dir = scratch();
    let path = new_crate(&dir, "moved");
    // Another runner's copy of a compatible SDK: a copy of ours elsewhere.
    let other = dir.path().join("other-runner-copy");
    let copied = Command::new("cp")
        .args(["-r", own_copy().to_str().unwrap(), other.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(copied.success());
    let config = Path::new(&path).join(".cargo/config.toml");
    let pin = pin_of(&path).replace(own_copy().to_str().unwrap(), other.to_str().unwrap());
    std::fs::write(&config, pin).unwrap();

    let result = Offline::golden("get.mitm").script(&path).run().ok();
    let moved: Vec<&str> = result
        .stderr
        .lines()
        .filter(|l| l.contains("moved its SDK pin"))
        .collect();
    assert_eq!(
        moved,
        [format!(
            "runner: {path}: moved its SDK pin to this runner's waylay-sdk 0.{abi}.0 at {} (it was {})",
            own_copy().display(),
            other.join("waylay-sdk").display(),
            abi = waylay_sdk::abi::ABI_VERSION
        )]
    );
    assert!(pin_of(&path).contains(own_copy().to_str().unwrap()));
    // Moved once: the next run says nothing about it.
    let again = run_over_get(&path);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        !again.stderr.contains("moved its SDK pin"),
        "{}",
        again.stderr
    );
}

#[test]
fn an_incompatible_crate_is_refused_then_upgraded() {
    let dir = scratch();
    let path = new_crate(&dir, "old_script");
    let abi = waylay_sdk::abi::ABI_VERSION;
    let cargo_toml = Path::new(&path).join("Cargo.toml");
    let current = std::fs::read_to_string(&cargo_toml).unwrap();
    // As an older Waylay made it: an older SDK, pinned to a checkout.
    std::fs::write(
        &cargo_toml,
        current.replace(&format!("waylay-sdk = \"0.{abi}\""), "waylay-sdk = \"0.1\""),
    )
    .unwrap();
    std::fs::write(
        Path::new(&path).join(".cargo/config.toml"),
        "[patch.crates-io]\nwaylay-sdk = { path = \"/gone/waylay/script-sdk\" }\n\
         waylay-proxy = { path = \"/gone/waylay/proxy\" }\n",
    )
    .unwrap();

    let refused = run_over_get(&path);
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.error_line(),
        format!(
            "runner: error: {path}: made for waylay-sdk 0.1 (its Cargo.toml), and this runner has waylay-sdk 0.{abi}.0 \
             (ABI {abi}); run `runner upgrade {path}` to move it to 0.{abi}, then fix what the compiler reports"
        )
    );

    let upgraded = run(&["upgrade", &path]);
    assert_eq!(upgraded.code, 0, "{}", upgraded.stderr);
    assert_eq!(
        upgraded.stdout.trim_end(),
        format!(
            "Upgraded {path}: waylay-sdk \"0.1\" -> \"0.{abi}\" (this runner's 0.{abi}.0, ABI {abi}), pinned to {}. \
             Build it with `runner -n -r FLOWS -s {path}` and fix what the compiler reports.",
            own_copy().display()
        )
    );
    let after = std::fs::read_to_string(&cargo_toml).unwrap();
    assert!(
        after.contains(&format!("waylay-sdk = \"0.{abi}\"")),
        "{after}"
    );
    assert!(
        after.contains("# The SDK's minor version is its ABI"),
        "comments are kept: {after}"
    );
    let built = run_over_get(&path);
    assert_eq!(built.code, 0, "{}", built.stderr);

    let again = run(&["upgrade", &path]);
    assert_eq!(
        again.stdout.trim_end(),
        format!(
            "{path} already builds against this runner's waylay-sdk 0.{abi}.0 (ABI {abi}); nothing to do"
        )
    );
    let nothing = run(&["upgrade", &path_in(&dir, "nothing_here")]);
    assert_eq!(nothing.code, 1);
    assert!(
        nothing
            .error_line()
            .ends_with("nothing_here: no Cargo.toml here; give the folder of a script crate (one `runner new` made)"),
        "{}",
        nothing.error_line()
    );
}

#[test]
fn a_broken_lockfile_is_named_not_called_a_compile_error() {
    let dir = scratch();
    let path = new_crate(&dir, "locked");
    std::fs::write(
        Path::new(&path).join("Cargo.lock"),
        "this is [not a lock file\n",
    )
    .unwrap();
    let result = run_over_get(&path);
    assert_eq!(result.code, 1);
    assert_eq!(
        result.error_line(),
        format!(
            "runner: error: {path}: cargo cannot use the crate's Cargo.lock (failed to parse lock file at: {path}/Cargo.lock); \
             delete {path}/Cargo.lock and run again"
        )
    );
}

#[test]
fn a_failed_download_is_named_not_called_a_compile_error() {
    let dir = scratch();
    let path = new_crate(&dir, "offline_script");
    // An empty cargo home and a proxy that refuses: the index can't be had.
    let home = dir.path().join("empty-cargo-home");
    let out = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args([
            "-n",
            "-q",
            "-r",
            golden("get.mitm").to_str().unwrap(),
            "-s",
            &path,
        ])
        .env("CARGO_HOME", &home)
        .env("CARGO_HTTP_PROXY", "http://127.0.0.1:9")
        .env("CARGO_NET_RETRY", "0")
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().last().unwrap_or("");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let start = format!("runner: error: {path}: cargo cannot download the crate's dependencies (");
    let end = format!(
        "); check the network and any proxy settings, or run `cargo fetch` in {path} once online"
    );
    assert!(line.starts_with(&start) && line.ends_with(&end), "{line}");
}

#[test]
fn a_missing_or_too_old_toolchain_is_named() {
    let dir = scratch();
    let path = new_crate(&dir, "toolchain");
    let out = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args([
            "-n",
            "-q",
            "-r",
            golden("get.mitm").to_str().unwrap(),
            "-s",
            &path,
        ])
        .env("CARGO", "/nonexistent/bin/cargo")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr.lines().last().unwrap_or(""),
        "runner: error: cannot run cargo (/nonexistent/bin/cargo: No such file or directory (os error 2)); \
         install Rust with rustup (https://rustup.rs) or put cargo on PATH"
    );

    // A crate that needs a newer compiler than the one installed.
    let cargo_toml = Path::new(&path).join("Cargo.toml");
    let text = std::fs::read_to_string(&cargo_toml).unwrap();
    std::fs::write(
        &cargo_toml,
        text.replace(
            "edition = \"2024\"",
            "edition = \"2024\"\nrust-version = \"1.999\"",
        ),
    )
    .unwrap();
    let result = run_over_get(&path);
    assert_eq!(result.code, 1);
    let line = result.error_line();
    assert!(
        line.starts_with(&format!("runner: error: {path}: cargo cannot use the Rust toolchain ("))
            && line.contains("1.999")
            && line.ends_with(&format!(
                "); install or update it with rustup (`rustup toolchain install` in {path}, or `rustup update`)"
            )),
        "{line}"
    );
}

#[test]
fn a_dependency_that_does_not_compile_is_not_the_script() {
    let dir = scratch();
    let root = dir.path().join("script");
    let manifest = manifest("uses_helper", "\"cdylib\"", true).replace(
        "[dependencies]\n",
        "[dependencies]\nhelper = { path = \"helper\" }\n",
    );
    write_crate(
        &root,
        &[
            ("Cargo.toml", &manifest),
            ("src/lib.rs", "pub use helper::answer;\n"),
            (
                "helper/Cargo.toml",
                "[package]\nname = \"helper\"\nversion = \"0.3.0\"\nedition = \"2024\"\n",
            ),
            (
                "helper/src/lib.rs",
                "pub fn answer() -> u32 { \"forty-two\" }\n",
            ),
        ],
    );
    let path = root.to_str().unwrap();
    let result = run_over_get(path);
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("error[E0308]"), "{}", result.stderr);
    assert_eq!(
        result.error_line(),
        format!(
            "runner: error: {path}: its dependency helper 0.3.0 does not compile (errors above), not the script itself; \
             check that dependency's version in Cargo.toml (for waylay-sdk, `runner upgrade {path}`)"
        )
    );
}

#[test]
fn unresolvable_versions_and_two_copies_of_a_package_are_named() {
    let dir = scratch();
    let root = dir.path().join("resolve");
    let wants_nine = manifest("wants_nine", "\"cdylib\"", true).replace(
        "[dependencies]\n",
        "[dependencies]\nhelper = { path = \"helper\", version = \"9\" }\n",
    );
    write_crate(
        &root,
        &[
            ("Cargo.toml", &wants_nine),
            ("src/lib.rs", "\n"),
            (
                "helper/Cargo.toml",
                "[package]\nname = \"helper\"\nversion = \"0.3.0\"\nedition = \"2024\"\n",
            ),
            ("helper/src/lib.rs", "\n"),
        ],
    );
    let path = root.to_str().unwrap();
    let result = run_over_get(path);
    assert_eq!(result.code, 1);
    let line = result.error_line();
    assert!(
        line.starts_with(&format!(
            "runner: error: {path}: cargo cannot resolve the crate's dependencies (failed to select a version for the requirement `helper = \"^9\"`"
        )) && line.ends_with(&format!(
            "); check the versions in its Cargo.toml (`runner upgrade {path}` sets the SDK's)"
        )),
        "{line}"
    );

    // The issue's collision, made by hand: one package, two folders (both
    // outside the crate's workspace).
    let root = dir.path().join("collision/script");
    let two_copies = manifest("two_copies", "\"cdylib\"", true).replace(
        "[dependencies]\n",
        "[dependencies]\na = { path = \"a\" }\nb = { path = \"b\" }\n",
    );
    let lib = |name: &str, dup: &str| {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\ndup = {{ path = \"{dup}\" }}\n"
        )
    };
    let dup = "[package]\nname = \"dup\"\nversion = \"0.1.0\"\nedition = \"2024\"\n";
    write_crate(
        &root,
        &[
            ("Cargo.toml", &two_copies),
            ("src/lib.rs", "\n"),
            ("a/Cargo.toml", &lib("a", "../../a-dup")),
            ("a/src/lib.rs", "\n"),
            ("../a-dup/Cargo.toml", dup),
            ("../a-dup/src/lib.rs", "\n"),
            ("b/Cargo.toml", &lib("b", "../../b-dup")),
            ("b/src/lib.rs", "\n"),
            ("../b-dup/Cargo.toml", dup),
            ("../b-dup/src/lib.rs", "\n"),
        ],
    );
    let path = root.to_str().unwrap();
    let result = run_over_get(path);
    assert_eq!(result.code, 1);
    let line = result.error_line();
    assert!(
        line.starts_with(&format!(
            "runner: error: {path}: cargo found two copies of one package ("
        )) && line.ends_with(&format!(
            "); run `runner upgrade {path}` to pin the SDK and the test harness to this runner's copy, and remove other [patch] entries for them"
        )),
        "{line}"
    );
}
