//! Script options: declared in the SDK, listed by `--options`, set with
//! `--set`, checked at start-up.

use crate::support::{golden, run};

const RECORDER: &str = "runner/tests/fixtures/recorder";

#[test]
fn options_lists_the_proxys_and_the_scripts() {
    let out = run(&["--options", "-s", RECORDER]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("proxy options:\n  allow_hosts: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "script options:\n  recorder_note (str, default \"\", from {RECORDER}): Logged at start when set.\n  \
             recorder_limit (int, default \"0\", from {RECORDER}): Logged at start when not 0.\n"
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
    let out = run(&["-n", "-s", RECORDER, "--set", "recorder_notes=x"]);
    assert_eq!(
        out.error_line(),
        "runner: error: --set recorder_notes: no such option; the options here are: allow_hosts, body_size_limit, \
         confdir, header_timeout, ignore_hosts, intercept, io_threads, keep_host_header, shutdown_grace, ssl_insecure, ssl_verify_upstream_trusted_ca, \
         stream_large_bodies, stream_messages_memory, tcp_hosts, upstream_auth, upstream_timeout, web_host, web_port, websocket_max_message, recorder_note, recorder_limit, recorder_reroute, recorder_ws_inject, recorder_rewrite_first, \
         recorder_tcp_inject; for filters and rewriting: anticache, anticomp, dumper_filter, hardump, map_local, map_remote, \
         modify_body, modify_headers, progress, readfile_filter, save_stream_filter, script_error, stickyauth, stickycookie, view_filter; \
         and for replay: client_replay, client_replay_concurrency, server_replay, server_replay_extra, \
         server_replay_ignore_content, server_replay_ignore_host, server_replay_ignore_params, \
         server_replay_ignore_payload_params, server_replay_ignore_port, server_replay_kill_extra, server_replay_nopop, \
         server_replay_refresh, server_replay_reuse, server_replay_use_headers"
    );
}
