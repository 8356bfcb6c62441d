//! Bad input: one clear error line (what, where, what to do), a non-zero
//! exit when the run cannot complete, and no finished work lost.

use std::path::Path;

use crate::offline_run::Offline;
use crate::support::{broken_crate, flows, golden, manifest, scratch, write_crate};

/// The length of get.mitm and post.mitm: the first two flows of all.mitm.
fn two_flows_len() -> usize {
    std::fs::read(golden("get.mitm")).unwrap().len()
        + std::fs::read(golden("post.mitm")).unwrap().len()
}

/// A run over the first `keep` bytes of all.mitm followed by `tail`.
fn over_damaged(keep: usize, tail: &[u8]) -> (Offline, String) {
    let run = Offline::new();
    let mut bytes = std::fs::read(golden("all.mitm")).unwrap();
    bytes.truncate(keep);
    bytes.extend_from_slice(tail);
    let path = run.path("damaged.mitm");
    std::fs::write(&path, bytes).unwrap();
    (run.args(&["-r", &path]), path)
}

#[test]
fn a_damaged_file_keeps_the_flows_before_the_damage() {
    let at = two_flows_len();
    // (bytes kept, bytes after them, the script, the error after the path)
    let cases: [(usize, &[u8], &[&str], String); 2] = [
        (
            at + 500,
            b"",
            &["-s", "examples/add_header"],
            format!(
                "byte {at}: the file ends inside a flow (500 of 1883 bytes); it was cut short, \
                 perhaps while still being written; the 2 flow(s) before it were processed and written"
            ),
        ),
        (
            at,
            b"this is not a flow",
            &[],
            format!(
                "byte {at}: corrupt flow: expected a tnetstring length prefix (digits then ':'), \
                 found 't'; this is not a valid mitmproxy flow file from here on; the 2 flow(s) before it were \
                 processed and written"
            ),
        ),
    ];
    for (keep, tail, script, says) in cases {
        let (run, input) = over_damaged(keep, tail);
        let ran = run
            .args(script)
            .write()
            .run()
            .fails(&format!("runner: error: {input}: {says}"));
        let written = ran.written();
        assert_eq!(written.len(), 2);
        if !script.is_empty() {
            let foo = |f: &waylay_proxy::Flow| {
                waylay_proxy::http::header(f.response().unwrap(), "newheader") == Some(b"foo")
            };
            assert!(written.iter().all(foo), "the script ran on both");
        }
    }
}

#[test]
fn an_unknown_version_is_named() {
    let get = std::fs::read(golden("get.mitm")).unwrap();
    let newer = String::from_utf8_lossy(&get).replace("7:version;2:21#", "7:version;2:99#");
    let (run, _) = over_damaged(get.len(), newer.as_bytes());
    let ran = run.args(&["-q"]).run();
    assert_eq!(ran.code, 1);
    let says = format!(
        "byte {}: flow format version 99 is newer than 21, the version Waylay reads",
        get.len()
    );
    assert!(ran.error_line().contains(&says), "{}", ran.stderr);
}

#[test]
fn a_har_file_is_read() {
    // As mitmdump does: recognised by its content (see har.rs for more).
    Offline::golden("all.har").args(&["-q"]).run().ok();
}

#[test]
fn missing_paths_are_named() {
    for (args, line) in [
        (
            &["-r", "no/such.mitm"][..],
            "runner: error: no/such.mitm: cannot read flows: No such file or directory (os error 2)",
        ),
        (
            &["-s", "no/such/script"],
            "runner: error: no/such/script: no such script crate; pass the directory of a script's Cargo.toml to -s",
        ),
        (
            &["-s", "testdata"],
            "runner: error: testdata: not a Rust crate (no Cargo.toml); a script is a crate, create one with `runner new NAME`",
        ),
        (
            &[
                "--set",
                "stream_large_bodys=1m",
                "-r",
                "testdata/flows/get.mitm",
            ],
            "runner: error: --set stream_large_bodys: no such option; did you mean stream_large_bodies? (`runner --options` lists them all)",
        ),
    ] {
        Offline::new().args(args).run().fails(line);
    }
}

#[test]
fn w_makes_a_missing_folder_as_mitmdump_does_and_names_one_it_cannot_make() {
    let run = Offline::golden("get.mitm").args(&["-q"]);
    let out = run.path("new/deeper/out.mitm");
    // The run's folder lives as long as what it returns.
    let _ran = run.args(&["-w", &out]).run().ok();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(golden("get.mitm")).unwrap()
    );
    // A file where the folder would go.
    let run = Offline::golden("get.mitm").args(&["-q"]);
    let blocked = run.path("file");
    std::fs::write(&blocked, "x").unwrap();
    let out = format!("{blocked}/out.mitm");
    run.args(&["-w", &out]).run().fails(&format!(
        "runner: error: {out}: cannot make the folder {blocked} to write flows into: File exists (os error 17)"
    ));
}

#[test]
fn the_input_is_never_the_output() {
    let run = Offline::new();
    let input = run.path("in.mitm");
    std::fs::copy(golden("all.mitm"), &input).unwrap();
    let ran = run.args(&["-r", &input, "-w", &input]).run();
    assert_eq!(ran.code, 1);
    assert!(
        ran.error_line().ends_with(
            "refusing to write flows to the file they are read from; pass another -w path"
        )
    );
    assert_eq!(
        std::fs::read(&input).unwrap(),
        std::fs::read(golden("all.mitm")).unwrap()
    );
}

#[test]
fn a_script_that_does_not_compile_shows_cargos_errors_then_one_line() {
    let dir = scratch();
    broken_crate(dir.path());
    let path = dir.path().to_str().unwrap();
    let ran = Offline::golden("get.mitm").script(path).write().run().fails(&format!(
        "runner: error: {path}: the script crate does not compile; fix the errors cargo printed above"
    ));
    assert!(
        ran.stderr.contains("error[E0308]: mismatched types"),
        "{}",
        ran.stderr
    );
    assert!(
        !Path::new(ran.out()).exists(),
        "nothing is written when scripts fail to load"
    );
}

/// Crates that build but are no script: (name, crate types, lib.rs, how
/// the error line starts (`{path}`: the crate's), what it says on the way,
/// how it ends).
type NotScript = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
);

const NO_CDYLIB: &str = ": the crate builds no cdylib; add `[lib] crate-type = [\"cdylib\", \"rlib\"]` to its Cargo.toml";

const NOT_SCRIPTS: [NotScript; 3] = [
    (
        "plain",
        "\"rlib\"",
        "",
        "runner: error: {path}",
        &[],
        NO_CDYLIB,
    ),
    (
        "old_abi",
        "\"cdylib\"",
        "#[unsafe(no_mangle)]\npub extern \"C\" fn waylay_abi_version() -> u32 { 999 }\n",
        "runner: error: ",
        &[
            "libold_abi.so was built for script ABI 999, but this runner speaks ABI 7 (ABI 7 added ",
            "http_connect and its kin",
            "); rebuild it",
        ],
        "",
    ),
    (
        "no_script",
        "\"cdylib\"",
        "#[unsafe(no_mangle)]\npub extern \"C\" fn something_else() {}\n",
        "runner: error: ",
        &[],
        "libno_script.so is not a Waylay script: it exports no `waylay_abi_version`; export your script type with `waylay_sdk::export_script!(YourType);`",
    ),
];

#[test]
fn a_crate_that_is_no_script_is_named() {
    for (name, types, lib, start, pieces, end) in NOT_SCRIPTS {
        let dir = scratch();
        let toml = manifest(name, types, false);
        write_crate(dir.path(), &[("Cargo.toml", &toml), ("src/lib.rs", lib)]);
        let path = dir.path().to_str().unwrap();
        let ran = Offline::new().script(path).run();
        assert_eq!(ran.code, 1, "{name}: {}", ran.stderr);
        let line = ran.error_line();
        let start = start.replace("{path}", path);
        assert!(line.starts_with(&start), "{name}: {line}");
        assert!(pieces.iter().all(|p| line.contains(p)), "{name}: {line}");
        assert!(line.ends_with(end), "{name}: {line}");
        if start.contains(path) {
            assert_eq!(line.len(), start.len() + end.len(), "{name}: {line}");
        }
        assert_eq!(ran.runner_lines().len(), 1, "{name}: {}", ran.stderr);
    }
}

#[test]
fn a_panicking_hook_is_reported_once_and_its_flow_written_unchanged() {
    let ran = Offline::golden("all.mitm")
        .script("runner/tests/fixtures/panicky")
        .write()
        .run()
        .ok();
    let lines = ran.runner_lines();
    assert_eq!(lines.len(), 2, "{}", ran.stderr);
    assert!(
        lines[0].starts_with(
            "[runner/tests/fixtures/panicky] error: hook `response` panicked on flow d8e15908-ba87-41e5-9d79-9e7a958fedc5: \
             cannot handle submissions (at runner/tests/fixtures/panicky/src/lib.rs:"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("; the flow goes on as it was before the hook"));
    assert_eq!(
        lines[1],
        "runner: 1 hook call(s) panicked; those flows were written as they were before the hook"
    );
    let (before, after) = (flows(golden("all.mitm")), ran.written());
    assert_eq!(after.len(), 5);
    assert_eq!(after[1], before[1], "the panicking flow is unchanged");
    assert_ne!(after[0], before[0], "the others carry the script's change");
}

#[test]
fn script_error_continue_keeps_what_a_panicking_hook_changed_as_mitmproxy_does() {
    let panicky = |script: &str, value: &str| {
        Offline::golden("all.mitm")
            .script(script)
            .set(&format!("script_error={value}"))
            .write()
            .run()
    };
    let ran = panicky("runner/tests/fixtures/panicky", "continue").ok();
    let lines = ran.runner_lines();
    assert_eq!(lines.len(), 2, "{}", ran.stderr);
    assert!(
        lines[0].ends_with("; the flow goes on as the hook left it (script_error=continue)"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "runner: 1 hook call(s) panicked; those flows were written as the hook left them (script_error=continue)"
    );
    let after = ran.written();
    assert_eq!(after.len(), 5);
    assert_eq!(
        waylay_proxy::http::header(after[1].response().unwrap(), "touched"),
        Some(&b"yes"[..]),
        "the panicking flow keeps the change made before the panic"
    );
    // A copy the hook made before it panicked is kept too, as mitmproxy
    // keeps it; by default it goes with the hook's other changes.
    for (value, written) in [("continue", 6), ("fail", 5)] {
        let ran = panicky("runner/tests/fixtures/panicky copy", value).ok();
        assert_eq!(ran.written().len(), written, "script_error={value}");
    }
    panicky("runner/tests/fixtures/panicky", "ignore").fails(
        "runner: error: --set script_error=ignore: expected fail (the default: a live flow fails with a 502) or continue (mitmproxy's: the flow goes on)",
    );
}

#[test]
fn a_failing_output_is_one_line_and_done_still_fires() {
    let ran = Offline::golden("all.mitm")
        .script("runner/tests/fixtures/recorder")
        .args(&["-w", "/dev/full"])
        .run();
    assert_eq!(ran.code, 1);
    assert!(
        ran.error_line()
            .starts_with("runner: error: /dev/full: cannot write flows: No space left on device"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stdout.ends_with("- done\n"),
        "done fires even when the output fails:\n{}",
        ran.stdout
    );
}

#[test]
fn a_panicking_concurrent_hook_offline_is_reported_and_its_flow_kept() {
    // panicky's `error` hook is concurrent; argv makes it panic.
    let ran = Offline::golden("refused.mitm")
        .script("runner/tests/fixtures/panicky error")
        .write()
        .run()
        .ok();
    assert!(ran.stderr.contains("hook `error` panicked on flow 40937c89-2f9e-43f9-a57a-4967a9c020b3: error panics on purpose"), "{}", ran.stderr);
    assert_eq!(ran.written(), flows(golden("refused.mitm")));
}
