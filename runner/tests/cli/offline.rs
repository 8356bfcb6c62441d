//! Offline runs that succeed.

use waylay_proxy::http::{self, Which};

use crate::offline_run::Offline;
use crate::support::{flows, golden, path_in, run_with_stdin, scratch};

#[test]
fn add_header_adds_newheader_to_each_response_and_changes_nothing_else() {
    let result = Offline::golden("all.mitm")
        .script("examples/add_header")
        .write()
        .run()
        .ok();
    let (before, after) = (flows(golden("all.mitm")), result.written());
    assert_eq!(after.len(), 5);
    let mut expected = before.clone();
    for flow in &mut expected {
        if let Some(response) = flow.message_mut(Which::Response) {
            http::set_header(response, b"newheader", b"foo");
        }
    }
    assert_eq!(after, expected);
    assert_eq!(after.iter().filter(|f| f.response().is_some()).count(), 4);
    insta::assert_snapshot!(result.stdout, @r"
    127.0.0.1:36726: GET http://127.0.0.1:18081/hello?x=1 << 200 OK 24b in 10.2ms
    127.0.0.1:36734: POST http://127.0.0.1:18081/submit << 201 Created 16b in 13.3ms
    127.0.0.1:36746: GET http://127.0.0.1:18081/missing/page << 404 Not Found 10b in 18.8ms
    127.0.0.1:60242: GET http://127.0.0.1:18099/nothing-listens-here << [Errno 111] Connect call failed ('127.0.0.1', 18099) in 4.18ms
    127.0.0.1:60256: GET https://127.0.0.1:18443/secure << 200 OK 24b in 53.3ms
    ");
}

#[test]
fn without_scripts_the_output_is_the_input_byte_for_byte() {
    for name in ["all.mitm", "websocket.mitm", "tcp.mitm", "https.mitm"] {
        let ran = Offline::golden(name).args(&["-q"]).write().run().ok();
        assert!(
            ran.written_bytes() == std::fs::read(golden(name)).unwrap(),
            "{name} changed"
        );
    }
}

#[test]
fn reads_standard_input_and_appends_with_plus() {
    let dir = scratch();
    let out = path_in(&dir, "out.mitm");
    let append = format!("+{out}");
    let input = std::fs::read(golden("all.mitm")).unwrap();
    for _ in 0..2 {
        let result = run_with_stdin(&["-n", "-q", "-r", "-", "-w", &append], &input);
        assert_eq!(result.code, 0, "{}", result.stderr);
    }
    assert_eq!(
        std::fs::read(&out).unwrap(),
        [input.clone(), input].concat()
    );
}

#[test]
fn writes_standard_output_and_moves_lines_to_standard_error() {
    let result = Offline::golden("get.mitm").args(&["-w", "-"]).run().ok();
    let input = std::fs::read(golden("get.mitm")).unwrap();
    assert_eq!(result.stdout.as_bytes(), input);
    assert!(
        result
            .stderr
            .contains("GET http://127.0.0.1:18081/hello?x=1 << 200 OK 24b")
    );
}

#[test]
fn several_scripts_run_in_command_line_order_with_their_argv() {
    let result = Offline::golden("all.mitm")
        .script("runner/tests/fixtures/recorder first")
        .script("runner/tests/fixtures/recorder 'second one' x")
        .write()
        .run()
        .ok();
    let log: Vec<&str> = result
        .stdout
        .lines()
        .filter(|l| l.starts_with('['))
        .take(6)
        .collect();
    assert_eq!(
        log,
        [
            "[runner/tests/fixtures/recorder] first start [\"first\"]",
            "[runner/tests/fixtures/recorder] second one start [\"second one\", \"x\"]",
            "[runner/tests/fixtures/recorder] first request_headers /hello?x=1",
            "[runner/tests/fixtures/recorder] second one request_headers /hello?x=1",
            "[runner/tests/fixtures/recorder] first request /hello?x=1",
            "[runner/tests/fixtures/recorder] second one request /hello?x=1",
        ]
    );
    assert!(result.stdout.ends_with("[runner/tests/fixtures/recorder] first done\n[runner/tests/fixtures/recorder] second one done\n"));
    for flow in result.written() {
        let request = flow.request().unwrap();
        let seen: Vec<&[u8]> = (0..http::headers(request).len())
            .filter_map(|i| http::header_at(request, i))
            .filter(|(n, _)| *n == b"x-seen-by")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(seen, [&b"first"[..], b"second one"]);
    }
}

#[test]
fn quiet_prints_nothing() {
    let result = Offline::golden("all.mitm")
        .args(&["-q"])
        .script("runner/tests/fixtures/recorder")
        .run()
        .ok();
    assert_eq!(result.stdout, "");
}

#[test]
fn without_input_only_start_and_done_fire() {
    let result = Offline::new()
        .script("runner/tests/fixtures/recorder tag")
        .run()
        .ok();
    assert_eq!(
        result.stdout,
        "[runner/tests/fixtures/recorder] tag start [\"tag\"]\n[runner/tests/fixtures/recorder] tag done\n"
    );
}
