//! The gallery: each of mitmproxy's examples ported to Rust under
//! `examples/`, run offline over the golden flows beside mitmdump running
//! the Python original (`runner/tests/interop/gallery/`), and the flows
//! both write compared field by field with mitmproxy's reader.

use std::process::Command;

use crate::interop::peer;
use crate::offline_run::Offline;
use crate::support::{golden, path_in, root, scratch};

/// The ported examples: every `examples/NAME` whose Python original is
/// `runner/tests/interop/gallery/NAME.py` (sorted).
fn ported() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("runner/tests/interop/gallery"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".py").map(str::to_owned)
        })
        .filter(|name| root().join("examples").join(name).is_dir())
        .collect();
    names.sort();
    names
}

/// Inputs an original cannot run over, and why: mitmdump stops at the
/// error (it counts errors logged while reading `-r` as start-up errors).
const SKIPPED: [(&str, &str); 1] = [(
    "internet-in-mirror",
    "filters.mitm", // its broken gzip body makes the original raise
)];

/// The inputs: every kind of HTTP flow the golden files hold.
const INPUTS: [&str; 4] = ["gallery.mitm", "filters.mitm", "all.mitm", "post.mitm"];

#[test]
fn each_example_writes_what_its_python_original_writes() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let mut failures = Vec::new();
    let ported = ported();
    assert!(ported.len() >= 3, "{ported:?}");
    for example in &ported {
        for input in INPUTS {
            if SKIPPED.contains(&(example.as_str(), input)) {
                continue;
            }
            let input_path = golden(input);
            let ours = path_in(&dir, &format!("{example}-{input}.waylay"));
            let theirs = path_in(&dir, &format!("{example}-{input}.mitmproxy"));
            let result = Offline::read(&input_path)
                .args(&["-q"])
                .script(&format!("examples/{example}"))
                .args(&["-w", &ours])
                .run();
            assert_eq!(result.code, 0, "{example} over {input}: {}", result.stderr);
            let original = root()
                .join("runner/tests/interop/gallery")
                .join(format!("{example}.py"));
            let out = Command::new(python.with_file_name("mitmdump"))
                .args(["-n", "-q", "-r"])
                .arg(&input_path)
                .arg("-s")
                .arg(&original)
                .args(["-w", &theirs])
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(format!(
                    "mitmdump -s {example}.py over {input}: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
            let compared = Command::new(&python)
                .arg(root().join("runner/tests/interop/gallery_compare.py"))
                .args([&ours, &theirs])
                .output()
                .unwrap();
            if !compared.status.success() {
                failures.push(format!(
                    "{example} over {input}:\n{}{}",
                    String::from_utf8_lossy(&compared.stdout),
                    String::from_utf8_lossy(&compared.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
