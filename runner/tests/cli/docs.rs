//! Every command in README.md and docs/: run, so the docs cannot drift.
//! Each ```sh block runs in a sandbox holding the files the docs name
//! (`in.mitm`, `capture.mitm`, `from-devtools.har`, `my_script/`,
//! `testdata/`, `examples/`). An offline command must exit 0; a live one
//! (or `--web`) must come up, on a free port, and is then stopped. A
//! command that is not run says why, in [`NOT_RUN`]; any other command
//! fails the test until it is run or explained.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{root, scratch};

/// Commands not run, by their first words, and why.
const NOT_RUN: &[(&str, &str)] = &[
    ("cargo xtask test", "it is the test suite this runs in"),
    ("cargo install", "it installs into ~/.cargo"),
    (
        "cargo test",
        "runner/tests/cli/new.rs runs a new crate's tests",
    ),
    (
        "curl",
        "the examples reach hosts beyond loopback; the live tests send the same requests to an origin of their own",
    ),
    ("sudo", "it changes the system's trust store or firewall"),
    ("certutil", "it changes a browser's trust store"),
];

/// One command of a ```sh block.
struct Line {
    at: String,
    text: String,
}

/// The ```sh blocks of README.md and docs/*.md, each as its commands.
fn blocks() -> Vec<Vec<Line>> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    files.extend(pages);
    let mut blocks = Vec::new();
    for file in files {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let mut block: Option<Vec<Line>> = None;
        for (i, line) in text.lines().enumerate() {
            match (&mut block, line.trim_end()) {
                (None, "```sh") => block = Some(Vec::new()),
                (Some(_), "```") => blocks.push(block.take().unwrap()),
                (Some(lines), command) => {
                    // A comment runs to the end of the line after two spaces.
                    let command = command.split("  #").next().unwrap().trim();
                    if !command.is_empty() && !command.starts_with('#') {
                        lines.push(Line {
                            at: format!("{name}:{}", i + 1),
                            text: command.to_owned(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    blocks
}

/// A folder with the files the docs' commands name (`my_script/` only
/// when the block does not make one with `runner new`).
fn sandbox(makes_a_script: bool) -> tempfile::TempDir {
    let dir = scratch();
    let root = root();
    let flows = root.join("testdata/flows");
    for (name, from) in [
        ("in.mitm", "all.mitm"),
        ("capture.mitm", "all.mitm"),
        ("from-devtools.har", "all.har"),
    ] {
        std::fs::copy(flows.join(from), dir.path().join(name)).unwrap();
    }
    let mut links = vec![
        ("testdata", root.join("testdata")),
        ("examples", root.join("examples")),
    ];
    if !makes_a_script {
        links.push(("my_script", root.join("examples/add_header")));
    }
    for (name, to) in links {
        std::os::unix::fs::symlink(to, dir.path().join(name)).unwrap();
    }
    std::fs::create_dir(dir.path().join("home")).unwrap();
    std::fs::create_dir(dir.path().join("target")).unwrap();
    dir
}

/// The command as run: `cargo run … -p runner --` is the runner built for
/// these tests; a live listener's port is a free one.
fn as_run(text: &str) -> String {
    let mut text = text.replace("cargo run --release -p runner --", "runner");
    if text.contains("--web") {
        text += " --set web_port=0";
    }
    if !is_live(&text) {
        return text;
    }
    let mut words: Vec<&str> = Vec::new();
    let mut split = text.split(' ').peekable();
    while let Some(word) = split.next() {
        if word == "-p" {
            split.next();
            continue;
        }
        words.push(word);
    }
    words.join(" ") + " -p 0"
}

/// Whether the command starts the proxy (it then serves until stopped).
fn is_live(text: &str) -> bool {
    !text.contains(" -n ") && !text.starts_with("runner new")
}

/// Runs one command in `dir`: offline to its end, live until it listens.
fn run(line: &Line, dir: &Path, home: &Path) {
    let text = as_run(&line.text);
    let runner = PathBuf::from(env!("CARGO_BIN_EXE_runner"));
    let path = format!(
        "{}:{}",
        runner.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let real_home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut command = Command::new("sh");
    command
        .args(["-c", &format!("exec {text}")])
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", home)
        .env("WAYLAY_SDK_HOME", real_home.join(".waylay/sdk"))
        .env("CARGO_TARGET_DIR", root().join("target/test-scripts"))
        .stdin(Stdio::null());
    // A live proxy, or a view, serves until it is stopped.
    if !is_live(&text) && !text.contains("--web") {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}: `{}` failed:\n{}",
            line.at,
            line.text,
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if l.contains(" listening at ") || l.starts_with("Web view at ") {
                let _ = tx.send(l);
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let up = loop {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            break Some(line);
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break None;
        }
    };
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        up.is_some(),
        "{}: `{}` did not come up:\n{}",
        line.at,
        line.text,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_command_in_the_docs_runs_or_says_why_not() {
    let mut ran = 0;
    for block in blocks() {
        let dir = sandbox(block.iter().any(|l| l.text.contains("runner new")));
        let home = dir.path().join("home");
        let mut cwd = dir.path().to_owned();
        for line in &block {
            if let Some((_, why)) = NOT_RUN.iter().find(|(w, _)| line.text.starts_with(w)) {
                assert!(!why.is_empty());
                continue;
            }
            assert!(
                line.text.starts_with("runner ") || line.text.starts_with("cargo run "),
                "{}: `{}` is neither run by this test nor explained in NOT_RUN",
                line.at,
                line.text
            );
            let (command, then) = match line.text.split_once(" && cd ") {
                Some((c, d)) => (c, Some(d)),
                None => (line.text.as_str(), None),
            };
            run(
                &Line {
                    at: line.at.clone(),
                    text: command.to_owned(),
                },
                &cwd,
                &home,
            );
            ran += 1;
            if let Some(dir) = then {
                cwd = cwd.join(dir.trim());
            }
        }
    }
    assert!(ran >= 15, "only {ran} commands ran");
}
