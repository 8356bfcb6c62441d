//! HAR export (`--set hardump`) and import (`-r FILE.har`), each held
//! beside mitmdump 11.0.2 doing the same to the same input.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::interop::peer;
use crate::offline_run::Offline;
use crate::support::{flows, golden, path_in, root, scratch};

fn har_file(name: &str) -> PathBuf {
    root().join("testdata/har").join(name)
}

fn mitmdump(python: &Path, args: &[&str]) {
    let out = Command::new(python.with_file_name("mitmdump"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mitmdump {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn har_compare(python: &Path, args: &[&str]) {
    let out = Command::new(python)
        .arg(root().join("runner/tests/interop/har_compare.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "har_compare.py {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn export_matches_mitmdump_field_for_field() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    // Offline, every timing, `time` and `startedDateTime` comes from the
    // flow's own timestamps, so nothing may differ but log.creator (Waylay
    // names itself). Live captures differ in timings only because the
    // traffic does.
    for name in [
        "all.mitm",
        "websocket.mitm",
        "sticky.mitm",
        "tcp.mitm",
        "refused.mitm",
    ] {
        let input = golden(name);
        let input = input.to_str().unwrap();
        let ours = path_in(&dir, &format!("ours-{name}.har"));
        let theirs = path_in(&dir, &format!("theirs-{name}.har"));
        Offline::read(input)
            .args(&["-q"])
            .set(&format!("hardump={ours}"))
            .run()
            .ok();
        mitmdump(
            &python,
            &[
                "-n",
                "-q",
                "-r",
                input,
                "--set",
                &format!("hardump={theirs}"),
            ],
        );
        har_compare(&python, &["export", &ours, &theirs]);
    }
}

#[test]
fn import_matches_mitmdump_flow_for_flow() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let inputs = ["chrome.har", "firefox.har", "postdata.har", "with-bom.har"]
        .map(har_file)
        .into_iter()
        .chain([golden("all.har")]);
    for input in inputs {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let input = input.to_str().unwrap();
        let ours = path_in(&dir, &format!("ours-{name}.mitm"));
        let theirs = path_in(&dir, &format!("theirs-{name}.mitm"));
        Offline::read(input).args(&["-q", "-w", &ours]).run().ok();
        mitmdump(&python, &["-n", "-q", "-r", input, "-w", &theirs]);
        har_compare(&python, &["import", &ours, &theirs]);
    }
}

#[test]
fn mitmproxy_reads_a_har_waylay_wrote() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let ours = path_in(&dir, "all.har");
    let back = path_in(&dir, "back.mitm");
    Offline::golden("all.mitm")
        .args(&["-q"])
        .set(&format!("hardump={ours}"))
        .run()
        .ok();
    mitmdump(&python, &["-n", "-q", "-r", &ours, "-w", &back]);
    har_compare(&python, &["count", &back, "5"]);
}

#[test]
fn scripts_run_over_har_input() {
    let ran = Offline::read(har_file("chrome.har"))
        .args(&["-q"])
        .script("examples/add_header")
        .write()
        .run()
        .ok();
    let written = ran.written();
    assert!(!written.is_empty());
    for flow in &written {
        let response = flow.response().unwrap();
        assert_eq!(
            waylay_proxy::http::header(response, "newheader"),
            Some(&b"foo"[..])
        );
    }
    // The HAR goes back out with the change in it.
    let back = Offline::read(ran.out()).args(&["-q"]);
    let har = back.path("out.har");
    let _done = back.set(&format!("hardump={har}")).run().ok();
    let text = std::fs::read_to_string(&har).unwrap();
    assert!(text.contains("\"name\": \"newheader\""));
}

#[test]
fn hardump_to_standard_output() {
    let result = Offline::golden("get.mitm")
        .args(&["-q"])
        .set("hardump=-")
        .run()
        .ok();
    assert!(result.stdout.starts_with("{\n    \"log\": {"));
    assert!(result.stdout.ends_with("}\n"));
}

#[test]
fn a_broken_har_is_one_error_line() {
    let dir = scratch();
    let text = std::fs::read_to_string(golden("all.har")).unwrap();
    let cut = path_in(&dir, "cut.har");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let result = Offline::read(&cut).args(&["-q"]).run();
    assert_eq!(result.code, 1);
    assert_eq!(result.runner_lines().len(), 1, "{}", result.stderr);
    let line = result.error_line();
    assert!(
        line.starts_with(&format!(
            "runner: error: {cut}: this looks like a HAR file but is not valid JSON"
        )),
        "{line}"
    );
    // A bad entry: the ones before it are processed and written.
    let bad = path_in(&dir, "bad.har");
    std::fs::write(
        &bad,
        text.replacen("\"method\": \"POST\"", "\"method\": null", 1),
    )
    .unwrap();
    let ran = Offline::read(&bad).args(&["-q"]).write().run().fails(&format!(
        "runner: error: {bad}: HAR entry 1: request.method is missing or not a string; fix or remove that entry \
         (mitmproxy refuses it too); the 1 flow(s) before it were processed and written"
    ));
    assert_eq!(ran.written().len(), 1);
}

#[test]
fn an_unwritable_hardump_is_one_error_line() {
    let result = Offline::golden("get.mitm")
        .args(&["-q"])
        .set("hardump=/nonexistent/dir/x.har")
        .run();
    assert_eq!(result.code, 1);
    assert_eq!(result.runner_lines().len(), 1, "{}", result.stderr);
    assert!(
        result.error_line().starts_with(
            "runner: error: --set hardump=/nonexistent/dir/x.har: cannot create the HAR file; pass a path in a writable directory: "
        ),
        "{}",
        result.error_line()
    );
}

#[test]
fn a_live_proxy_writes_its_har_at_exit_with_the_server_address() {
    let origin = crate::origin::Origin::start();
    let dir = scratch();
    let har = path_in(&dir, "live.har");
    let capture = path_in(&dir, "live.mitm");
    let proxy = crate::support::Proxy::start(&["--set", &format!("hardump={har}"), "-w", &capture]);
    crate::support::curl(&proxy, &[&origin.url("/hello")]);
    crate::support::curl(&proxy, &["-d", "a=1&b=2", &origin.url("/echo")]);
    let out = proxy.stop();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&har).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = doc["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), flows(&capture).len());
    assert_eq!(entries.len(), 2);
    let urls: Vec<&str> = entries
        .iter()
        .map(|e| e["request"]["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, [origin.url("/hello"), origin.url("/echo")]);
    assert_eq!(entries[0]["serverIPAddress"], "127.0.0.1");
    assert_eq!(entries[1]["request"]["method"], "POST");
    assert_eq!(
        entries[1]["request"]["postData"]["params"][1]["name"], "b",
        "{}",
        entries[1]["request"]["postData"]
    );
    assert!(entries[0]["timings"]["wait"].as_f64().unwrap() >= 0.0);
}
