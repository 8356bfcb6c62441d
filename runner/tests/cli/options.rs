//! Script options: declared in the SDK, listed by `--options`, set with
//! `--set`, checked at start-up.

use crate::offline_run::Offline;
use crate::support::run;

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
    let out = Offline::golden("get.mitm")
        .script(&format!("{RECORDER} t"))
        .set("recorder_note=hi there")
        .set("recorder_limit=7")
        .run()
        .ok();
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
    for (option, line) in [
        (
            "recorder_limit=many",
            "runner: error: --set recorder_limit=many: expected a whole number (Logged at start when not 0.)",
        ),
        // A slip gets the closest name, a script's included.
        (
            "recorder_notes=x",
            "runner: error: --set recorder_notes: no such option; did you mean recorder_note? (`runner --options` lists them all)",
        ),
    ] {
        Offline::new()
            .script(RECORDER)
            .set(option)
            .run()
            .fails(line);
    }
}
