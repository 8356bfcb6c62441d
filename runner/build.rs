//! Packs what script crates compile against into the runner: the SDK
//! (`waylay-sdk`) and the test harness (`waylay-proxy`), as standalone
//! crates. At run time `sdk_home.rs` writes them once per content to
//! `~/.waylay/sdk/VERSION-HASH/` and script crates are pinned there, so the
//! checkout the runner was built from can be deleted.
//!
//! A manifest here inherits from the workspace (`version.workspace = true`,
//! `dep.workspace = true`); the packed copy gets the values written out, the
//! way `cargo package` does it, without dev-dependencies, benches or lints.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

/// The crates packed, each as (its folder in the checkout, its folder in
/// the copy).
const CRATES: [(&str, &str); 2] = [("script-sdk", "waylay-sdk"), ("proxy", "waylay-proxy")];

/// Files outside the crates that their sources include (`include_bytes!`
/// with a path relative to the source file), as (checkout path, copy path).
const EXTRA: [(&str, &str); 1] = [("testdata/flows/filters.mitm", "testdata/flows/filters.mitm")];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_owned();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let workspace: Table = read_toml(&root.join("Cargo.toml"));
    println!("cargo:rerun-if-changed=../Cargo.toml");

    // (path in the copy, file on disk) for every packed file.
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut sdk_version = String::new();
    for (from, to) in CRATES {
        let dir = root.join(from);
        println!("cargo:rerun-if-changed=../{from}/Cargo.toml");
        println!("cargo:rerun-if-changed=../{from}/src");
        let manifest = standalone(&read_toml(&dir.join("Cargo.toml")), &workspace);
        if to == "waylay-sdk" {
            sdk_version = manifest["package"]["version"]
                .as_str()
                .expect("waylay-sdk has a version")
                .to_owned();
        }
        let written = out.join(format!("{to}.Cargo.toml"));
        fs::write(&written, toml::to_string(&manifest).unwrap()).unwrap();
        files.insert(format!("{to}/Cargo.toml"), written);
        collect(&dir.join("src"), &format!("{to}/src"), &mut files);
    }
    for (from, to) in EXTRA {
        println!("cargo:rerun-if-changed=../{from}");
        files.insert(to.to_owned(), root.join(from));
    }

    // The copy's name: the SDK's version and a hash of every file, so two
    // different builds of one version never share a folder.
    let mut hash = Fnv::new();
    for (path, file) in &files {
        hash.write(path.as_bytes());
        hash.write(&[0]);
        hash.write(&fs::read(file).unwrap());
        hash.write(&[0]);
    }
    let mut code = String::new();
    writeln!(code, "/// `waylay-sdk`'s version, as packed.").unwrap();
    writeln!(code, "pub const SDK_VERSION: &str = {sdk_version:?};").unwrap();
    writeln!(
        code,
        "/// The packed copy's folder name: version and content hash."
    )
    .unwrap();
    writeln!(
        code,
        "pub const SDK_ID: &str = \"{sdk_version}-{:012x}\";",
        hash.finish() & 0xffff_ffff_ffff
    )
    .unwrap();
    writeln!(code, "/// Every packed file: (path in the copy, contents).").unwrap();
    writeln!(code, "pub const FILES: &[(&str, &[u8])] = &[").unwrap();
    for (path, file) in &files {
        writeln!(
            code,
            "    ({path:?}, include_bytes!({:?})),",
            file.display().to_string()
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
    fs::write(out.join("packed_sdk.rs"), code).unwrap();
}

fn read_toml(path: &Path) -> Table {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir`, named `prefix/relative path`.
fn collect(dir: &Path, prefix: &str, files: &mut BTreeMap<String, PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            collect(&path, &format!("{prefix}/{name}"), files);
        } else {
            files.insert(format!("{prefix}/{name}"), path);
        }
    }
}

/// A member's manifest with what it inherits from the workspace written
/// out; sibling crates are found by path in the copy.
fn standalone(member: &Table, workspace: &Table) -> Table {
    let ws = workspace["workspace"].as_table().unwrap();
    let ws_package = ws["package"].as_table().unwrap();
    let ws_deps = ws["dependencies"].as_table().unwrap();
    let mut package = member["package"].as_table().unwrap().clone();
    for (key, value) in package.iter_mut() {
        if is_inherited(value) {
            *value = ws_package[key.as_str()].clone();
        }
    }
    package.insert("publish".into(), Value::Boolean(false));
    let mut dependencies = Table::new();
    if let Some(deps) = member.get("dependencies").and_then(Value::as_table) {
        for (name, spec) in deps {
            let mut resolved = match spec {
                Value::Table(t) if is_inherited(spec) => {
                    let mut base = as_table(&ws_deps[name.as_str()]);
                    for (k, v) in t {
                        match k.as_str() {
                            "workspace" => {}
                            "features" => {
                                let mut all = base
                                    .get("features")
                                    .and_then(Value::as_array)
                                    .cloned()
                                    .unwrap_or_default();
                                all.extend(v.as_array().unwrap().iter().cloned());
                                base.insert("features".into(), Value::Array(all));
                            }
                            _ => {
                                base.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    base
                }
                other => as_table(other),
            };
            resolved.remove("path");
            if let Some((_, copy)) = CRATES.iter().find(|(_, copy)| copy == name) {
                resolved.insert("path".into(), Value::String(format!("../{copy}")));
            }
            dependencies.insert(name.clone(), Value::Table(resolved));
        }
    }
    let mut manifest = Table::new();
    manifest.insert("package".into(), Value::Table(package));
    for key in ["lib", "features"] {
        if let Some(value) = member.get(key) {
            manifest.insert(key.into(), value.clone());
        }
    }
    manifest.insert("dependencies".into(), Value::Table(dependencies));
    manifest
}

/// `{ workspace = true }` (or `key.workspace = true`).
fn is_inherited(value: &Value) -> bool {
    value
        .as_table()
        .and_then(|t| t.get("workspace"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// A dependency spec as a table (`"1"` is `{ version = "1" }`).
fn as_table(spec: &Value) -> Table {
    match spec {
        Value::String(version) => {
            let mut t = Table::new();
            t.insert("version".into(), Value::String(version.clone()));
            t
        }
        Value::Table(t) => t.clone(),
        other => panic!("a dependency spec is a string or a table, not {other}"),
    }
}

/// FNV-1a, 64 bits: a stable hash with no dependency.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
