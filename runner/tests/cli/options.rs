//! Script options: declared in the SDK, listed by `--options`, set with
//! `--set`, checked at start-up.

use crate::support::{golden, run};

const RECORDER: &str = "runner/tests/fixtures/recorder";

#[test]
fn options_lists_the_proxys_and_the_scripts() {
    let out = run(&[
        "--options",
        "-s",
        RECORDER,
        "--set",
        "web_port=9",
        "--set",
        "map_remote=/a/b",
        "--set",
        "recorder_limit=3",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("the live proxy:\n  allow_hosts (regex; repeatable): "),
        "{}",
        out.stdout
    );
    for line in [
        "  web_port (number; default 8081; now 9): port where --web serves the view (0 picks a free one)\n",
        "  map_remote (spec; repeatable; now /a/b): [/filter]/url-regex/replacement: rewrite live request URLs\n",
        "  script_error (fail|continue; default fail): ",
    ] {
        assert!(out.stdout.contains(line), "{line:?} in {}", out.stdout);
    }
    assert!(
        out.stdout.contains(&format!(
            "script options:\n  recorder_note (str, default \"\", from {RECORDER}): Logged at start when set.\n  \
             recorder_limit (int, default \"0\", now \"3\", from {RECORDER}): Logged at start when not 0.\n"
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn set_values_reach_the_script() {
    let input = golden("get.mitm");
    let out = run(&[
        "-n",
        "-r",
        input.to_str().unwrap(),
        "-s",
        &format!("{RECORDER} t"),
        "--set",
        "recorder_note=hi there",
        "--set",
        "recorder_limit=7",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "[{RECORDER}] t note hi there\n[{RECORDER}] t limit 7\n"
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn malformed_and_unknown_values_are_refused_at_start() {
    let out = run(&["-n", "-s", RECORDER, "--set", "recorder_limit=many"]);
    assert_eq!(
        (out.code, out.error_line()),
        (
            1,
            "runner: error: --set recorder_limit=many: expected a whole number (Logged at start when not 0.)"
        )
    );
    // A slip gets the closest name, a script's included.
    let out = run(&["-n", "-s", RECORDER, "--set", "recorder_notes=x"]);
    assert_eq!(
        out.error_line(),
        "runner: error: --set recorder_notes: no such option; did you mean recorder_note? (`runner --options` lists them all)"
    );
}
