//! Bad input: one clear error line (what, where, what to do), a non-zero
//! exit when the run cannot complete, and no finished work lost.

use crate::support::{broken_crate, flows, golden, manifest, path_in, run, scratch, write_crate};

/// Writes the first `keep` bytes of all.mitm plus `tail` to a file.
fn damaged(dir: &tempfile::TempDir, keep: usize, tail: &[u8]) -> String {
    let mut bytes = std::fs::read(golden("all.mitm")).unwrap();
    bytes.truncate(keep);
    bytes.extend_from_slice(tail);
    let path = path_in(dir, "damaged.mitm");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn two_flows_len() -> usize {
    std::fs::read(golden("get.mitm")).unwrap().len()
        + std::fs::read(golden("post.mitm")).unwrap().len()
}

#[test]
fn a_truncated_file_keeps_the_flows_before_the_cut() {
    let dir = scratch();
    let at = two_flows_len();
    let input = damaged(&dir, at + 500, b"");
    let out = path_in(&dir, "out.mitm");
    let result = run(&["-n", "-r", &input, "-s", "examples/add_header", "-w", &out]);
    assert_eq!(result.code, 1);
    assert_eq!(
        result.error_line(),
        format!(
            "runner: error: {input}: byte {at}: the file ends inside a flow (500 of 1883 bytes); it was cut short, \
             perhaps while still being written; the 2 flow(s) before it were processed and written"
        )
    );
    let written = flows(&out);
    assert_eq!(written.len(), 2);
    assert!(
        written.iter().all(
            |f| waylay_proxy::http::header(f.response().unwrap(), "newheader") == Some(b"foo")
        )
    );
}

#[test]
fn a_corrupt_file_names_the_byte() {
    let dir = scratch();
    let at = two_flows_len();
    let input = damaged(&dir, at, b"this is not a flow");
    let out = path_in(&dir, "out.mitm");
    let result = run(&["-n", "-r", &input, "-w", &out]);
    assert_eq!(result.code, 1);
    assert_eq!(
        result.error_line(),
        format!(
            "runner: error: {input}: byte {at}: corrupt flow: expected a tnetstring length prefix (digits then ':'), \
             found 't'; this is not a valid mitmproxy flow file from here on; the 2 flow(s) before it were \
             processed and written"
        )
    );
    assert_eq!(flows(&out).len(), 2);
}

#[test]
fn an_unknown_version_is_named() {
    let dir = scratch();
    let get = std::fs::read(golden("get.mitm")).unwrap();
    let newer = String::from_utf8_lossy(&get).replace("7:version;2:21#", "7:version;2:99#");
    let input = damaged(&dir, get.len(), newer.as_bytes());
    let result = run(&["-n", "-q", "-r", &input]);
    assert_eq!(result.code, 1);
    assert!(
        result.error_line().contains(&format!(
            "byte {}: flow format version 99 is newer than 21, the version Waylay reads",
            get.len()
        )),
        "{}",
        result.stderr
    );
}

#[test]
fn a_har_file_is_read() {
    // As mitmdump does: recognised by its content (see har.rs for more).
    let har = golden("all.har");
    let result = run(&["-n", "-q", "-r", har.to_str().unwrap()]);
    assert_eq!(result.code, 0, "{}", result.stderr);
}

#[test]
fn missing_paths_are_named() {
    let result = run(&["-n", "-r", "no/such.mitm"]);
    assert_eq!(
        (result.code, result.error_line()),
        (
            1,
            "runner: error: no/such.mitm: cannot read flows: No such file or directory (os error 2)"
        )
    );
    let result = run(&["-n", "-s", "no/such/script"]);
    assert_eq!(
        (result.code, result.error_line()),
        (
            1,
            "runner: error: no/such/script: no such script crate; pass the directory of a script's Cargo.toml to -s"
        )
    );
    let result = run(&["-n", "-s", "testdata"]);
    assert_eq!(
        (result.code, result.error_line()),
        (
            1,
            "runner: error: testdata: not a Rust crate (no Cargo.toml); a script is a crate, create one with `runner new NAME`"
        )
    );
}

#[test]
fn w_makes_a_missing_folder_as_mitmdump_does_and_names_one_it_cannot_make() {
    let dir = scratch();
    let input = golden("get.mitm");
    let copy_to = |out: &str| run(&["-n", "-q", "-r", input.to_str().unwrap(), "-w", out]);
    let out = path_in(&dir, "new/deeper/out.mitm");
    let result = copy_to(&out);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(golden("get.mitm")).unwrap()
    );
    // A file where the folder would go.
    let blocked = path_in(&dir, "file");
    std::fs::write(&blocked, "x").unwrap();
    let out = format!("{blocked}/out.mitm");
    let result = copy_to(&out);
    assert_eq!(result.code, 1);
    assert_eq!(
        result.error_line(),
        format!(
            "runner: error: {out}: cannot make the folder {blocked} to write flows into: File exists (os error 17)"
        )
    );
}

#[test]
fn the_input_is_never_the_output() {
    let dir = scratch();
    let input = path_in(&dir, "in.mitm");
    std::fs::copy(golden("all.mitm"), &input).unwrap();
    let result = run(&["-n", "-r", &input, "-w", &input]);
    assert_eq!(result.code, 1);
    assert!(
        result.error_line().ends_with(
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
    let out = path_in(&dir, "out.mitm");
    let result = run(&[
        "-n",
        "-r",
        golden("get.mitm").to_str().unwrap(),
        "-s",
        path,
        "-w",
        &out,
    ]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("error[E0308]: mismatched types"),
        "{}",
        result.stderr
    );
    assert_eq!(
        result.error_line(),
        format!(
            "runner: error: {path}: the script crate does not compile; fix the errors cargo printed above"
        )
    );
    assert!(
        !std::path::Path::new(&out).exists(),
        "nothing is written when scripts fail to load"
    );
}

#[test]
fn a_crate_without_a_cdylib_is_named() {
    let dir = scratch();
    write_crate(
        dir.path(),
        &[
            ("Cargo.toml", &manifest("plain", "\"rlib\"", false)),
            ("src/lib.rs", ""),
        ],
    );
    let path = dir.path().to_str().unwrap();
    let result = run(&["-n", "-s", path]);
    assert_eq!(
        (result.code, result.error_line().to_owned()),
        (
            1,
            format!(
                "runner: error: {path}: the crate builds no cdylib; add `[lib] crate-type = [\"cdylib\", \"rlib\"]` to its Cargo.toml"
            )
        )
    );
}

#[test]
fn a_library_for_another_abi_is_refused() {
    let dir = scratch();
    let lib = "#[unsafe(no_mangle)]\npub extern \"C\" fn waylay_abi_version() -> u32 { 999 }\n";
    write_crate(
        dir.path(),
        &[
            ("Cargo.toml", &manifest("old_abi", "\"cdylib\"", false)),
            ("src/lib.rs", lib),
        ],
    );
    let result = run(&["-n", "-s", dir.path().to_str().unwrap()]);
    assert_eq!(result.code, 1);
    let line = result.error_line();
    assert!(
        line.starts_with("runner: error: ")
            && line.contains(
                "libold_abi.so was built for script ABI 999, but this runner speaks ABI 7 (ABI 7 added "
            )
            && line.contains("http_connect and its kin")
            && line.contains("); rebuild it"),
        "{line}"
    );
}

#[test]
fn a_cdylib_that_is_no_script_is_refused() {
    let dir = scratch();
    let lib = "#[unsafe(no_mangle)]\npub extern \"C\" fn something_else() {}\n";
    write_crate(
        dir.path(),
        &[
            ("Cargo.toml", &manifest("no_script", "\"cdylib\"", false)),
            ("src/lib.rs", lib),
        ],
    );
    let result = run(&["-n", "-s", dir.path().to_str().unwrap()]);
    assert_eq!(result.code, 1);
    assert!(
        result.error_line().ends_with(
            "libno_script.so is not a Waylay script: it exports no `waylay_abi_version`; export your script type with `waylay_sdk::export_script!(YourType);`"
        ),
        "{}",
        result.error_line()
    );
}

#[test]
fn a_panicking_hook_is_reported_once_and_its_flow_written_unchanged() {
    let dir = scratch();
    let out = path_in(&dir, "out.mitm");
    let input = golden("all.mitm");
    let result = run(&[
        "-n",
        "-r",
        input.to_str().unwrap(),
        "-s",
        "runner/tests/fixtures/panicky",
        "-w",
        &out,
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let lines = result.runner_lines();
    assert_eq!(lines.len(), 2, "{}", result.stderr);
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
    let (before, after) = (flows(&input), flows(&out));
    assert_eq!(after.len(), 5);
    assert_eq!(after[1], before[1], "the panicking flow is unchanged");
    assert_ne!(after[0], before[0], "the others carry the script's change");
}

#[test]
fn script_error_continue_keeps_what_a_panicking_hook_changed_as_mitmproxy_does() {
    let dir = scratch();
    let out = path_in(&dir, "out.mitm");
    let input = golden("all.mitm");
    let args = |script: &str, value: &str| {
        run(&[
            "-n",
            "-r",
            input.to_str().unwrap(),
            "-s",
            script,
            "--set",
            &format!("script_error={value}"),
            "-w",
            &out,
        ])
    };
    let result = args("runner/tests/fixtures/panicky", "continue");
    assert_eq!(result.code, 0, "{}", result.stderr);
    let lines = result.runner_lines();
    assert_eq!(lines.len(), 2, "{}", result.stderr);
    assert!(
        lines[0].ends_with("; the flow goes on as the hook left it (script_error=continue)"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "runner: 1 hook call(s) panicked; those flows were written as the hook left them (script_error=continue)"
    );
    let after = flows(&out);
    assert_eq!(after.len(), 5);
    assert_eq!(
        waylay_proxy::http::header(after[1].response().unwrap(), "touched"),
        Some(&b"yes"[..]),
        "the panicking flow keeps the change made before the panic"
    );
    // A copy the hook made before it panicked is kept too, as mitmproxy
    // keeps it; by default it goes with the hook's other changes.
    for (value, written) in [("continue", 6), ("fail", 5)] {
        let result = args("runner/tests/fixtures/panicky copy", value);
        assert_eq!(result.code, 0, "{}", result.stderr);
        assert_eq!(flows(&out).len(), written, "script_error={value}");
    }
    let result = args("runner/tests/fixtures/panicky", "ignore");
    assert_eq!(
        (result.code, result.error_line()),
        (
            1,
            "runner: error: --set script_error=ignore: expected fail (the default: a live flow fails with a 502) or continue (mitmproxy's: the flow goes on)"
        )
    );
}

#[test]
fn a_failing_output_is_one_line_and_done_still_fires() {
    let input = golden("all.mitm");
    let result = run(&[
        "-n",
        "-r",
        input.to_str().unwrap(),
        "-s",
        "runner/tests/fixtures/recorder",
        "-w",
        "/dev/full",
    ]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .error_line()
            .starts_with("runner: error: /dev/full: cannot write flows: No space left on device"),
        "{}",
        result.stderr
    );
    assert!(
        result.stdout.ends_with("- done\n"),
        "done fires even when the output fails:\n{}",
        result.stdout
    );
}

#[test]
fn unknown_options_are_refused_offline_too() {
    let result = run(&[
        "-n",
        "--set",
        "stream_large_bodys=1m",
        "-r",
        golden("get.mitm").to_str().unwrap(),
    ]);
    assert_eq!(result.code, 1);
    assert_eq!(
        result.error_line(),
        "runner: error: --set stream_large_bodys: no such option; did you mean stream_large_bodies? (`runner --options` lists them all)"
    );
}

#[test]
fn a_panicking_concurrent_hook_offline_is_reported_and_its_flow_kept() {
    let dir = scratch();
    let out = path_in(&dir, "out.mitm");
    let input = golden("refused.mitm");
    // panicky's `error` hook is concurrent; argv makes it panic.
    let result = run(&[
        "-n",
        "-r",
        input.to_str().unwrap(),
        "-s",
        "runner/tests/fixtures/panicky error",
        "-w",
        &out,
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(result.stderr.contains("hook `error` panicked on flow 40937c89-2f9e-43f9-a57a-4967a9c020b3: error panics on purpose"), "{}", result.stderr);
    assert_eq!(flows(&out), flows(&input));
}
