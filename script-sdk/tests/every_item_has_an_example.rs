//! Every public item of the SDK shows an example in its documentation
//! (a code block, run as a doctest), as `cargo doc -p waylay-sdk` shows it.
//! The hidden `abi` module (the host's side of the boundary) is left out.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "boundary") {
                continue;
            }
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_public_item_has_an_example() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut missing = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let item = line.trim_start();
            let public = [
                "pub fn ",
                "pub struct ",
                "pub enum ",
                "pub trait ",
                "pub type ",
            ]
            .iter()
            .any(|p| item.starts_with(p));
            if !public {
                continue;
            }
            // The doc comment above it, attributes skipped.
            let mut j = i;
            let mut doc = String::new();
            while j > 0 {
                j -= 1;
                let above = lines[j].trim_start();
                if above.starts_with("#[") {
                    continue;
                }
                match above.strip_prefix("///") {
                    Some(d) => doc.insert_str(0, d),
                    None => break,
                }
            }
            // Methods of a trait impl (Deref, Display...) are documented
            // on the trait.
            let in_trait_impl = lines[..i]
                .iter()
                .rev()
                .find(|l| l.starts_with("impl"))
                .is_some_and(|l| l.contains(" for "));
            if !doc.contains("```") && !in_trait_impl {
                let name = file
                    .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap()
                    .display()
                    .to_string();
                missing.push(format!("{name}:{}: {}", i + 1, item));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "public items without an example:\n{}",
        missing.join("\n")
    );
}
