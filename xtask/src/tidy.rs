//! House rules, checked by plain `cargo test` (see ARCHITECTURE.md).

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::util::root;

    /// Where `unsafe` may appear: the two sides of the script boundary.
    const UNSAFE_HOMES: [&str; 2] = ["script-sdk/src/boundary", "proxy/src/script/ffi"];

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    rust_files(&path, out);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }

    fn sources() -> Vec<(String, String)> {
        let root = root();
        let mut files = Vec::new();
        for dir in ["proxy", "script-sdk", "runner", "examples", "xtask", "fuzz"] {
            rust_files(&root.join(dir), &mut files);
        }
        files
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (
                    p.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    text,
                )
            })
            .collect()
    }

    #[test]
    fn every_file_says_what_it_is_for() {
        let missing: Vec<String> = sources()
            .into_iter()
            .filter(|(_, t)| !t.starts_with("//!"))
            .map(|(p, _)| p)
            .collect();
        assert!(
            missing.is_empty(),
            "start these files with a `//!` line: {missing:?}"
        );
    }

    /// The `.rs` names ARCHITECTURE.md puts in backticks.
    fn named_in_architecture() -> Vec<String> {
        let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
        text.split('`')
            .skip(1)
            .step_by(2)
            .filter(|t| {
                t.ends_with(".rs")
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-'))
            })
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn architecture_names_modules_that_exist() {
        let files: Vec<String> = sources().into_iter().map(|(p, _)| p).collect();
        let missing: Vec<String> = named_in_architecture()
            .into_iter()
            .filter(|name| {
                !files
                    .iter()
                    .any(|f| f == name || f.ends_with(&format!("/{name}")))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "ARCHITECTURE.md names files that are not there (renamed or gone?): {missing:?}"
        );
    }

    #[test]
    fn architecture_names_every_top_level_module() {
        let named = named_in_architecture();
        let mut unnamed = Vec::new();
        for dir in ["proxy/src", "runner/src", "script-sdk/src", "xtask/src"] {
            for entry in std::fs::read_dir(root().join(dir)).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if !name.ends_with(".rs") || name == "lib.rs" || name == "main.rs" {
                    continue;
                }
                let path = format!("{dir}/{name}");
                if !named
                    .iter()
                    .any(|n| *n == name || path.ends_with(n.as_str()))
                {
                    unnamed.push(path);
                }
            }
        }
        assert!(
            unnamed.is_empty(),
            "name these modules in ARCHITECTURE.md's code map: {unnamed:?}"
        );
    }

    #[test]
    fn files_stay_small() {
        let long: Vec<String> = sources()
            .into_iter()
            .filter(|(_, t)| t.lines().count() > 800)
            .map(|(p, _)| p)
            .collect();
        assert!(
            long.is_empty(),
            "split these files (over 800 lines): {long:?}"
        );
    }

    /// Whether Rust source uses the `unsafe` keyword in code: blocks,
    /// `unsafe fn`, `unsafe impl`, `unsafe trait`, `unsafe extern`. Line
    /// comments and string literals don't count, nor do longer words
    /// (`unsafe_code`).
    fn uses_unsafe(text: &str) -> bool {
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        text.lines().any(|line| {
            let mut code = String::with_capacity(line.len());
            let (mut in_string, mut escaped) = (false, false);
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                if in_string {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match c {
                    '"' => in_string = true,
                    '/' if chars.peek() == Some(&'/') => break,
                    _ => code.push(c),
                }
            }
            code.match_indices("unsafe").any(|(i, _)| {
                !ident(code[..i].chars().next_back()) && !ident(code[i + 6..].chars().next())
            })
        })
    }

    #[test]
    fn the_unsafe_check_sees_every_form() {
        for (text, found) in [
            ("unsafe { x() }", true),
            ("pub unsafe fn f() {}", true),
            ("unsafe impl Send for X {}", true),
            ("pub unsafe trait T {}", true),
            ("unsafe extern \"C\" {}", true),
            ("let x = 1; // unsafe {", false),
            ("/// call unsafe fns here", false),
            ("let s = \"unsafe { }\";", false),
            ("#![forbid(unsafe_code)]", false),
            ("unsafe_op_in_unsafe_fn = \"deny\"", false),
        ] {
            assert_eq!(uses_unsafe(text), found, "{text}");
        }
    }

    #[test]
    fn unsafe_lives_at_the_boundary() {
        let stray: Vec<String> = sources()
            .into_iter()
            .filter(|(p, t)| !UNSAFE_HOMES.iter().any(|home| p.starts_with(home)) && uses_unsafe(t))
            .map(|(p, _)| p)
            .collect();
        assert!(
            stray.is_empty(),
            "`unsafe` outside the boundary modules: {stray:?}"
        );
    }

    #[test]
    fn nothing_reads_the_shared_folder() {
        let needle = ["..", "/shared"].concat();
        let readers: Vec<String> = sources()
            .into_iter()
            .filter(|(_, t)| t.contains(&needle))
            .map(|(p, _)| p)
            .collect();
        assert!(
            readers.is_empty(),
            "these read the design folder beside the repository, which users don't have: {readers:?}"
        );
    }

    /// The seed's two examples keep the seed's names (`add_header.py`,
    /// `nonblocking.py`); every other one is named as mitmproxy names its
    /// examples, with hyphens.
    const SEED_EXAMPLES: [&str; 2] = ["add_header", "nonblocking"];

    #[test]
    fn examples_are_named_the_mitmproxy_way() {
        let mut wrong = Vec::new();
        for entry in std::fs::read_dir(root().join("examples")).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().join("Cargo.toml").exists() || SEED_EXAMPLES.contains(&name.as_str()) {
                continue;
            }
            let manifest = std::fs::read_to_string(entry.path().join("Cargo.toml")).unwrap();
            let named_alike = manifest.contains(&format!("name = \"{name}\""));
            let hyphens = name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !named_alike || !hyphens {
                wrong.push(name);
            }
        }
        assert!(
            wrong.is_empty(),
            "these examples are not named like mitmproxy's (lowercase, hyphens, the package named as its folder): {wrong:?}"
        );
    }
}
