//! `runner new NAME`: a script crate that builds and whose test passes as
//! created.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

const CARGO_TOML: &str = include_str!("../template/Cargo.toml.in");
const CONFIG_TOML: &str = include_str!("../template/config.toml.in");
const LIB_RS: &str = include_str!("../template/lib.rs");
const FLOWS_RS: &str = include_str!("../template/flows.rs.in");
const SNAPSHOT: &str =
    include_str!("../template/tests/snapshots/flows__response_hook_adds_a_header.snap");
const GITIGNORE: &str = include_str!("../template/gitignore");
const SAMPLE: &[u8] = include_bytes!("../../testdata/flows/all.mitm");

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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sdk = root
        .join("script-sdk")
        .canonicalize()
        .context("finding the script SDK this runner was built from")?;
    let proxy = root
        .join("proxy")
        .canonicalize()
        .context("finding the engine this runner was built from")?;
    let toml_path = |p: &Path| {
        p.to_string_lossy()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    };
    let files: [(&str, Vec<u8>); 7] = [
        (
            "Cargo.toml",
            CARGO_TOML.replace("{name}", name).into_bytes(),
        ),
        (
            ".cargo/config.toml",
            CONFIG_TOML
                .replace("{sdk}", &toml_path(&sdk))
                .replace("{proxy}", &toml_path(&proxy))
                .into_bytes(),
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
