//! `-s` options: parsing "DIR arg1 arg2", building each crate, loading it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};
use waylay_proxy::script::build::{BuildLines, BuildOptions, build};
use waylay_proxy::script::{LogSink, Script, Scripts};

use crate::output::Output;

/// One `-s`: the crate (or a prebuilt library) and the words for `start`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptSpec {
    pub path: PathBuf,
    pub argv: Vec<String>,
}

/// Splits a `-s` value the way a POSIX shell (and mitmproxy's `shlex`) would.
pub fn parse_spec(spec: &str) -> Result<ScriptSpec> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => bail!("-s {spec:?}: unclosed single quote"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => bail!("-s {spec:?}: unclosed double quote"),
                        },
                        Some(c) => word.push(c),
                        None => bail!("-s {spec:?}: unclosed double quote"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    let mut words = words.into_iter();
    let Some(path) = words.next() else {
        bail!("-s needs a script crate directory")
    };
    Ok(ScriptSpec {
        path: PathBuf::from(path),
        argv: words.collect(),
    })
}

/// How this runner builds the script crate at `dir`: checked against its
/// SDK and pinned to its copy (`sdk_home`).
pub fn build_options(dir: &Path, output: &Output) -> Result<BuildOptions> {
    crate::sdk_home::build_options(dir, output.quiet)
}

/// The library a `-s` path names: a built `.so` (`.dylib`, `.dll`) as it
/// is, else the crate there, built as `-s` builds it (cargo's lines to
/// `lines` instead of standard error when given).
pub fn library(path: &Path, output: &Output, lines: Option<BuildLines>) -> Result<PathBuf> {
    let is_library = path
        .extension()
        .is_some_and(|e| e == "so" || e == "dylib" || e == "dll");
    if is_library && path.is_file() {
        return Ok(path.to_owned());
    }
    let mut options = build_options(path, output)?;
    options.lines = lines;
    Ok(build(path, &options)?)
}

/// Builds (or opens, for a `.so` path) and loads every script, in order.
pub fn load_all(specs: &[ScriptSpec], output: &Arc<Output>) -> Result<Scripts> {
    let mut scripts = Scripts::new(output.clone());
    if specs.is_empty() {
        return Ok(scripts);
    }
    for spec in specs {
        let name = spec.path.display().to_string();
        let library = library(&spec.path, output, None)?;
        let sink: &dyn LogSink = &**output;
        let script = Script::load(&library, &name, spec.argv.clone(), sink)?;
        scripts.push(script);
    }
    Ok(scripts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_split_like_a_shell() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("examples/add_header", "examples/add_header", &[]),
            ("dir a b", "dir", &["a", "b"]),
            (
                "  dir   'two words' \"x\\\"y\" z\\ w ",
                "dir",
                &["two words", "x\"y", "z w"],
            ),
            ("'my dir' ''", "my dir", &[""]),
        ];
        for (spec, path, argv) in cases {
            let parsed = parse_spec(spec).unwrap();
            assert_eq!(parsed.path, PathBuf::from(path), "{spec}");
            assert_eq!(parsed.argv, *argv, "{spec}");
        }
        assert_eq!(
            parse_spec("dir 'open").unwrap_err().to_string(),
            "-s \"dir 'open\": unclosed single quote"
        );
        assert_eq!(
            parse_spec("   ").unwrap_err().to_string(),
            "-s needs a script crate directory"
        );
    }
}
