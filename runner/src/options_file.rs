//! Options files in mitmproxy's `config.yaml` format: a YAML mapping of
//! option names to a value, or a list of values for a repeatable option.
//! `runner --options FILE` reads FILE; otherwise `CONFDIR/config.yaml`
//! (`~/.waylay/config.yaml`) is read when it exists, as mitmproxy reads
//! `~/.mitmproxy/config.yaml`. The file's values come before `--set`'s:
//! an option given on the command line takes none of the file's values.
//! The web view's rules are saved back into such a file ([`save`]).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader, yaml::Hash};

use crate::cli::Cli;

/// Where the web view saves its rules: `--options FILE`, else
/// `CONFDIR/config.yaml`.
pub fn save_path(cli: &Cli) -> PathBuf {
    match &cli.options {
        Some(Some(file)) => PathBuf::from(file),
        _ => crate::interception::confdir(cli).join("config.yaml"),
    }
}

/// The file to read: `--options FILE`, else `CONFDIR/config.yaml` if it
/// exists. `None`: there is none.
pub fn path(cli: &Cli) -> Option<PathBuf> {
    let path = save_path(cli);
    (matches!(cli.options, Some(Some(_))) || path.is_file()).then_some(path)
}

/// A scalar as `--set` would carry it.
fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The `NAME=VALUE` pairs `text` holds, in the file's order; why not, in
/// one line naming `path`.
pub fn parse(text: &str, path: &Path) -> Result<Vec<String>> {
    let shown = path.display();
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "{shown}: not YAML ({e}); an options file maps option names to values, as mitmproxy's config.yaml does"
        )
    })?;
    let mut sets = Vec::new();
    let Some(doc) = docs.first() else {
        return Ok(sets);
    };
    let map = match doc {
        Yaml::Hash(map) => map,
        Yaml::Null => return Ok(sets),
        _ => bail!(
            "{shown}: expected a mapping of option names to values (`anticache: true`), as mitmproxy's config.yaml"
        ),
    };
    for (key, value) in map {
        let Some(name) = key.as_str() else {
            bail!("{shown}: an option name must be text, not {key:?}");
        };
        match value {
            Yaml::Null => {}
            Yaml::Array(items) => {
                for item in items {
                    let item = scalar(item).with_context(|| {
                        format!("{shown}: {name}: a list of values must hold text, numbers or true/false")
                    })?;
                    sets.push(format!("{name}={item}"));
                }
            }
            other => {
                let value = scalar(other).with_context(|| {
                    format!("{shown}: {name}: expected a value or a list of values")
                })?;
                sets.push(format!("{name}={value}"));
            }
        }
    }
    Ok(sets)
}

/// The name of a `--set` item (`NAME=VALUE`, or a switch's `NAME`).
fn name_of(set: &str) -> &str {
    set.split_once('=').map_or(set, |(n, _)| n)
}

/// The file's pairs first, without those of any option `--set` names.
pub fn merged(file: Vec<String>, command_line: &[String]) -> Vec<String> {
    let named: std::collections::HashSet<&str> = command_line.iter().map(|s| name_of(s)).collect();
    file.into_iter()
        .filter(|s| !named.contains(name_of(s)))
        .chain(command_line.iter().cloned())
        .collect()
}

/// Reads the options file, if there is one, into `cli.set`.
pub fn apply(cli: &mut Cli) -> Result<()> {
    let Some(path) = path(cli) else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("--options {}: cannot read the options file", path.display()))?;
    let file = parse(&text, &path)?;
    cli.set = merged(file, &cli.set);
    Ok(())
}

/// Writes `values` (name, values; an empty list takes the option out)
/// into the options file at `path`, keeping its other options.
pub fn save(path: &Path, values: &[(&str, Vec<String>)]) -> Result<()> {
    let shown = path.display();
    let mut map = match std::fs::read_to_string(path) {
        Ok(text) => match YamlLoader::load_from_str(&text) {
            Ok(docs) => match docs.into_iter().next() {
                Some(Yaml::Hash(map)) => map,
                None | Some(Yaml::Null) => Hash::new(),
                Some(_) => bail!("{shown}: not a mapping of options; not overwritten"),
            },
            Err(e) => bail!("{shown}: not YAML ({e}); not overwritten"),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Hash::new(),
        Err(e) => bail!("{shown}: cannot read it: {e}"),
    };
    for (name, list) in values {
        let key = Yaml::String((*name).to_owned());
        if list.is_empty() {
            map.remove(&key);
        } else if *name == "intercept" {
            map.insert(key, Yaml::String(list[0].clone()));
        } else {
            let items = list.iter().map(|v| Yaml::String(v.clone())).collect();
            map.insert(key, Yaml::Array(items));
        }
    }
    let mut text = String::new();
    YamlEmitter::new(&mut text)
        .dump(&Yaml::Hash(map))
        .map_err(|e| anyhow::anyhow!("{shown}: cannot write YAML: {e}"))?;
    let text = text.strip_prefix("---\n").unwrap_or(&text).to_owned() + "\n";
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("{shown}: cannot make its folder"))?;
    }
    std::fs::write(path, text).with_context(|| format!("{shown}: cannot write it"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mitmproxys_config_yaml_reads_as_set() {
        let text = "# mitmproxy\nanticache: true\nblock_list:\n  - /~d ads/404\n  - '|~all|444'\nmap_remote: [\"|example.com|example.org\"]\nbody_size_limit: 10m\nio_threads: 2\nweb_host:\n";
        let sets = parse(text, Path::new("config.yaml")).unwrap();
        assert_eq!(
            sets,
            [
                "anticache=true",
                "block_list=/~d ads/404",
                "block_list=|~all|444",
                "map_remote=|example.com|example.org",
                "body_size_limit=10m",
                "io_threads=2",
            ]
        );
        // The command line's options take none of the file's values.
        let merged = merged(sets, &["block_list=/~all/403".into(), "anticomp".into()]);
        assert_eq!(
            merged,
            [
                "anticache=true",
                "map_remote=|example.com|example.org",
                "body_size_limit=10m",
                "io_threads=2",
                "block_list=/~all/403",
                "anticomp",
            ]
        );
    }

    #[test]
    fn bad_files_get_one_line() {
        for (text, says) in [
            ("anticache: [true", "config.yaml: not YAML"),
            (
                "- a\n- b\n",
                "config.yaml: expected a mapping of option names",
            ),
            (
                "map_remote: [[1]]\n",
                "config.yaml: map_remote: a list of values must hold",
            ),
            (
                "map_remote: {a: 1}\n",
                "config.yaml: map_remote: expected a value or a list",
            ),
            ("1: x\n", "config.yaml: an option name must be text"),
        ] {
            let why = format!("{:#}", parse(text, Path::new("config.yaml")).unwrap_err());
            assert!(why.contains(says), "{text:?}: {why}");
            assert!(!why.contains('\n'), "{why}");
        }
    }

    #[test]
    fn saving_keeps_the_other_options_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.yaml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "anticache: true\nmap_local: [\"/x/y\"]\n").unwrap();
        save(
            &path,
            &[
                ("map_local", vec![]),
                (
                    "modify_headers",
                    vec!["/~q/x-a/1".into(), "/~s/x-b/: 2".into()],
                ),
                ("intercept", vec!["( ~q & ( ~d a ) )".into()]),
            ],
        )
        .unwrap();
        let sets = parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
        assert_eq!(
            sets,
            [
                "anticache=true",
                "modify_headers=/~q/x-a/1",
                "modify_headers=/~s/x-b/: 2",
                "intercept=( ~q & ( ~d a ) )",
            ]
        );
        std::fs::write(&path, "[1, 2]\n").unwrap();
        let why = save(&path, &[("intercept", vec![])])
            .unwrap_err()
            .to_string();
        assert!(
            why.ends_with("not a mapping of options; not overwritten"),
            "{why}"
        );
    }
}
