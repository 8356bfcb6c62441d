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
        for dir in ["proxy", "script-sdk", "runner", "examples", "xtask"] {
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

    #[test]
    fn unsafe_lives_at_the_boundary() {
        let needle = ["unsafe", " {"].concat();
        let stray: Vec<String> = sources()
            .into_iter()
            .filter(|(p, t)| {
                !UNSAFE_HOMES.iter().any(|home| p.starts_with(home)) && t.contains(&needle)
            })
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
}
