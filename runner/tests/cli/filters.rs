//! Filters on the command line: the positional FILTER (what is read,
//! shown and saved, as mitmdump's), `save_stream_filter`,
//! `readfile_filter`, `view_filter`; each malformed one's error line; the
//! same flows out as mitmdump; filters compiled by a script through the
//! SDK; and the offline progress bar.

use std::path::Path;
use std::process::Command;

use crate::offline_run::Offline;
use crate::support::{golden, path_in, root, scratch, write_crate};

const RECORDER: &str = "runner/tests/fixtures/recorder t";

fn file(name: &str) -> String {
    golden(name).to_string_lossy().into_owned()
}

/// How many flows a file holds (a quiet read).
fn count(path: &str) -> usize {
    crate::support::flows(path).len()
}

/// The flow lines a run printed.
fn lines(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.contains(" << ") || l.contains(" flow to "))
        .count()
}

/// The `] t request ` lines the recorder printed: flows that got events.
fn events(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.contains("] t request "))
        .count()
}

/// Each filter does its part: (input, arguments after `-r INPUT -s
/// recorder -w OUT`, flows shown, flows given events, flows saved).
#[test]
fn each_filter_does_its_part() {
    for (input, args, shown, hooked, saved) in [
        // FILTER: what is read, shown and saved; the rest get no events.
        (
            "filters.mitm",
            &["~d example & ~s & !~t image"][..],
            8,
            8,
            8,
        ),
        // Several words make one expression, as mitmdump joins them.
        ("filters.mitm", &["~m", "DELETE"], 1, 1, 1),
        // save_stream_filter: all shown, one saved.
        ("all.mitm", &["--set", "save_stream_filter=~c 404"], 5, 5, 1),
        // An empty filter is no filter, as in mitmproxy.
        ("all.mitm", &["--set", "save_stream_filter="], 5, 5, 5),
        // view_filter (and mitmdump's dumper_filter): one shown, all saved.
        ("all.mitm", &["--set", "view_filter=~m POST"], 1, 5, 5),
        ("all.mitm", &["--set", "dumper_filter=~m POST"], 1, 5, 5),
        // readfile_filter: the rest are skipped entirely, no events.
        ("all.mitm", &["--set", "readfile_filter=~e"], 1, 1, 1),
    ] {
        let ran = Offline::golden(input)
            .script(RECORDER)
            .write()
            .args(args)
            .run()
            .ok();
        assert_eq!(
            (lines(&ran.stdout), events(&ran.stdout), ran.written().len()),
            (shown, hooked, saved),
            "{input} {args:?}: {}",
            ran.stdout
        );
    }
}

/// Every malformed filter stops the run before anything is read, with
/// one line: the option, the expression, where and what to do.
#[test]
fn malformed_filters_get_one_line_each() {
    for (args, want) in [
        (
            vec!["~d example.com & (~s"],
            r#"runner: error: filter "~d example.com & (~s": expected ")" at position 20 (the end) to close the "(" at position 17; add it (inside parentheses, join terms with & or |)"#,
        ),
        (
            vec!["(~s)"],
            r#"runner: error: filter "(~s)": ~s must be followed by a space or the end, not ")" at position 3 (")"); write "~s )" (mitmproxy reads it the same way)"#,
        ),
        (
            vec!["~b"],
            r#"runner: error: filter "~b": ~b needs a regex at position 2 (the end); write ~b REGEX, quoting it if it has spaces or ( ) ~ ' ""#,
        ),
        (
            vec!["--set", "save_stream_filter=~h ["],
            r#"runner: error: --set save_stream_filter: filter "~h [": ~h's regex "[" at position 3 ("[") does not compile: unterminated character set"#,
        ),
        (
            vec!["--set", "readfile_filter=~c x"],
            r#"runner: error: --set readfile_filter: filter "~c x": ~c needs a status code (digits) at position 3 ("x"); write ~c 404"#,
        ),
        (
            vec!["--set", "view_filter=~d 'a"],
            r#"runner: error: --set view_filter: filter "~d 'a": the quote ' at position 3 ("'a") is never closed; close it with ' (a backslash escapes one inside)"#,
        ),
        (
            vec!["--set", "progress=maybe"],
            "runner: error: --set progress=maybe: expected true or false (or no value, for true)",
        ),
    ] {
        let ran = Offline::golden("all.mitm").args(&args).run().fails(want);
        assert_eq!(ran.runner_lines().len(), 1, "one line: {}", ran.stderr);
    }
}

/// mitmdump and Waylay given the same FILTER write the same flows.
#[test]
fn the_same_flows_as_mitmdump() {
    let Some(python) = crate::interop::peer() else {
        return;
    };
    let dir = scratch();
    let mitmdump = python.with_file_name("mitmdump");
    let mut selected = 0;
    for (i, filter) in [
        vec!["~d example & ~s & !~t image"],
        vec!["~tcp | ~udp ~e"],
        vec!["!~s"],
        vec!["~m", "GET", "~c", "200"],
        vec!["~websocket | ~dns"],
    ]
    .iter()
    .enumerate()
    {
        for input in ["filters.mitm", "all.mitm", "websocket.mitm"] {
            let ours = path_in(&dir, &format!("ours-{i}-{input}"));
            let theirs = path_in(&dir, &format!("theirs-{i}-{input}"));
            let input = file(input);
            Offline::read(&input)
                .args(&["-q", "-w", &ours])
                .args(filter)
                .run()
                .ok();
            let status = Command::new(&mitmdump)
                .args(["-q", "-n", "-r", &input, "-w", &theirs])
                .args(filter)
                .status()
                .unwrap();
            assert!(status.success());
            let said = compare(&python, &["same-set", &ours, &theirs]);
            selected += said
                .trim()
                .strip_prefix("ok: ")
                .and_then(|s| s.split(' ').next()?.parse::<usize>().ok())
                .expect("rewrite.py says how many flows");
        }
    }
    assert!(selected > 20, "the filters select something: {selected}");
}

/// Runs `rewrite.py ARGS`; returns what it printed (`ok: N flows`).
pub(crate) fn compare(python: &Path, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(root().join("runner/tests/interop/rewrite.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rewrite.py {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const FILTER_SCRIPT: &str = r#"
use waylay_sdk::{Context, Filter, Flow, Script};

#[derive(Default)]
pub struct Probe {
    filter: Option<Filter>,
}

impl Script for Probe {
    fn start(&mut self, ctx: &Context, argv: &[&str]) {
        match Filter::parse(&argv.join(" ")) {
            Ok(filter) => self.filter = Some(filter.clone()),
            Err(e) => ctx.error(&format!("{e} [{:?}]", e.position())),
        }
    }

    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        if self.filter.as_ref().is_some_and(|f| f.matches(flow)) {
            ctx.info(&format!("match {}", flow.request().path()));
        }
    }
}

waylay_sdk::export_script!(Probe);
"#;

/// A script compiles a filter through the SDK and matches on the host; a
/// bad one is an `Err` it can show.
#[test]
fn scripts_compile_filters_on_the_host() {
    let dir = scratch();
    write_crate(
        dir.path(),
        &[
            (
                "Cargo.toml",
                &crate::support::manifest("filter_probe", "\"cdylib\"", true),
            ),
            ("src/lib.rs", FILTER_SCRIPT),
        ],
    );
    let krate = dir.path().to_string_lossy().into_owned();
    let probe = |filter: &str| {
        Offline::golden("all.mitm")
            .script(&format!("{krate} {filter}"))
            .run()
            .ok()
    };
    let result = probe("~c 404 | ~m POST");
    let matches: Vec<&str> = result
        .stdout
        .lines()
        .filter(|l| l.contains("] match "))
        .collect();
    assert_eq!(matches.len(), 2, "{}", result.stdout);
    assert!(
        matches[0].ends_with("match /submit") && matches[1].ends_with("match /missing/page"),
        "{matches:?}"
    );
    let result = probe("~d (");
    let error = result
        .stderr
        .lines()
        .find(|l| l.contains("] error: "))
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.ends_with(r#"error: filter "~d (": ~d needs a regex at position 3 ("("); write ~d REGEX, quoting it if it has spaces or ( ) ~ ' " [Some(3)]"#),
        "{}",
        result.stderr
    );
}

/// No progress bar reaches a pipe; on a terminal (a pseudo-terminal made
/// by util-linux `script`) one is drawn, and `--set progress=false` or a
/// non-file input turns it off.
#[test]
fn progress_is_drawn_only_on_a_terminal() {
    let all = file("all.mitm");
    let piped = Offline::golden("all.mitm").args(&["-q"]).run().ok();
    assert!(
        !piped.stderr.contains('\r') && !piped.stderr.contains('\x1b'),
        "{:?}",
        piped.stderr
    );
    // A file large enough to be read for a while.
    let dir = scratch();
    let big = path_in(&dir, "big.mitm");
    let unit = std::fs::read(&all).unwrap();
    std::fs::write(&big, unit.repeat(20_000)).unwrap();
    let runner = env!("CARGO_BIN_EXE_runner");
    let on_tty = |args: &str| {
        let out = Command::new("script")
            .args([
                "-qfec",
                &format!("{runner} -n -q -w /dev/null {args}"),
                "/dev/null",
            ])
            .current_dir(root())
            .output()
            .expect("util-linux script runs (apt-get install util-linux)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let drawn = on_tty(&format!("-r {big}"));
    assert!(
        drawn.contains("flows/s") && drawn.contains("ETA"),
        "{drawn:?}"
    );
    let off = on_tty(&format!("-r {big} --set progress=false"));
    assert!(!off.contains("flows/s"), "{off:?}");
    let stdin = on_tty(&format!("-r - < {big}"));
    assert!(!stdin.contains("flows/s"), "{stdin:?}");
}

/// Live, FILTER picks what is saved and shown; the other flows still go
/// through the proxy.
#[test]
fn live_filter_saves_and_shows_what_it_matches() {
    let origin = crate::origin::Origin::start();
    let dir = scratch();
    let capture = path_in(&dir, "live.mitm");
    let proxy = crate::support::Proxy::start(&["-w", &capture, "~u /hello & ~s"]);
    assert_eq!(
        crate::support::curl(&proxy, &[&origin.url("/hello")]),
        "hello from origin\n"
    );
    assert_eq!(
        crate::support::curl(&proxy, &["--data-binary", "x", &origin.url("/echo")]),
        "x"
    );
    let stopped = proxy.stop();
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    assert_eq!(count(&capture), 1);
    assert_eq!(lines(&stopped.stdout), 1, "{}", stopped.stdout);
    assert!(stopped.stdout.contains("/hello"), "{}", stopped.stdout);
}
