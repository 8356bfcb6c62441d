//! `runner new NAME`: a script crate that builds and whose test passes as
//! created.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

const CARGO_TOML: &str = include_str!("../template/Cargo.toml.in");
const LIB_RS: &str = include_str!("../template/lib.rs");
const FLOWS_RS: &str = include_str!("../template/flows.rs.in");
const SNAPSHOT: &str =
    include_str!("../template/tests/snapshots/flows__response_hook_adds_a_header.snap");
const GITIGNORE: &str = include_str!("../template/gitignore");
const SAMPLE: &[u8] = include_bytes!("../../testdata/flows/all.mitm");

/// Rust's keywords, strict and reserved: cargo refuses them as package
/// names (`cargo new fn`).
const KEYWORDS: &[&str] = &[
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Why cargo would refuse `name` or the crate's test would not build, in
/// cargo's words where cargo has them.
fn refused_by_cargo(name: &str) -> Option<&'static str> {
    if KEYWORDS.contains(&name) {
        return Some("it is a Rust keyword");
    }
    if name == "test" {
        return Some("it conflicts with Rust's built-in test library");
    }
    // Cargo only warns for these, but a test that names the crate then
    // reaches the standard library's crate of that name instead.
    if ["core", "std", "alloc", "proc_macro", "proc-macro"].contains(&name) {
        return Some("it is the name of a crate in Rust's standard library");
    }
    None
}

pub fn create(path: &Path) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphabetic());
    if !valid {
        bail!(
            "{}: a crate name is letters, digits, '_' and '-', starting with a letter",
            path.display()
        );
    }
    if let Some(why) = refused_by_cargo(name) {
        bail!(
            "{}: cargo refuses the name `{name}`: {why}; pick another",
            path.display()
        );
    }
    if path.exists()
        && fs::read_dir(path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{}: already exists and is not empty; pick a new name",
            path.display()
        );
    }
    // Pinned to the SDK copy this runner carries, not to a checkout.
    let sdk = crate::sdk_home::ensure()?;
    let files: [(&str, Vec<u8>); 7] = [
        (
            "Cargo.toml",
            CARGO_TOML
                .replace("{name}", name)
                .replace("{sdk}", &crate::sdk_home::requirement())
                .into_bytes(),
        ),
        (
            ".cargo/config.toml",
            crate::sdk_home::pin_file(&sdk).into_bytes(),
        ),
        ("src/lib.rs", LIB_RS.as_bytes().to_vec()),
        (
            "tests/flows.rs",
            FLOWS_RS
                .replace("{lib}", &name.replace('-', "_"))
                .into_bytes(),
        ),
        (
            "tests/snapshots/flows__response_hook_adds_a_header.snap",
            SNAPSHOT.as_bytes().to_vec(),
        ),
        ("tests/data/sample.mitm", SAMPLE.to_vec()),
        (".gitignore", GITIGNORE.as_bytes().to_vec()),
    ];
    for (file, contents) in files {
        let target = path.join(file);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        fs::write(&target, contents)
            .with_context(|| format!("{}: cannot write", target.display()))?;
    }
    println!("Created script crate {name} in {}.", path.display());
    println!("  test it:  cd {} && cargo test", path.display());
    println!(
        "  run it:   runner -n -r {}/tests/data/sample.mitm -s {} -w out.mitm",
        path.display(),
        path.display()
    );
    Ok(())
}
