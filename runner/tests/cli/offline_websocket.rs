//! WebSocket flows offline: the events mitmproxy fires for a saved
//! WebSocket, what each hook sees, and what `-w` keeps of a script's changes.

use waylay_proxy::Flow;
use waylay_proxy::flowfile::FlowWriter;

use crate::offline_run::Offline;
use crate::support::{flows, golden, path_in, run, scratch};

const RECORDER: &str = "runner/tests/fixtures/recorder";

/// The script's log lines, without the flow lines.
fn log(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with('[')).collect()
}

#[test]
fn a_saved_websocket_replays_its_messages_one_at_a_time_after_the_response() {
    let result = Offline::golden("websocket.mitm")
        .script(&format!("{RECORDER} t"))
        .run()
        .ok();
    let expected: Vec<String> = [
        "start [\"t\"]",
        "request_headers /ws",
        "request /ws",
        "response_headers /ws",
        "response /ws",
        "websocket_start /ws 0 messages",
        "websocket_message #0 -> text \"hello\"",
        "websocket_message #1 <- text \"echo: hello\"",
        "websocket_message #2 -> binary \"\\0\\u{1}bin\"",
        "websocket_message #3 <- binary \"echo: \\0\\u{1}bin\"",
        "websocket_end 4 messages, close Some(1000) Some(\"bye\") by client Some(true)",
        "done",
    ]
    .iter()
    .map(|l| format!("[{RECORDER}] t {l}"))
    .collect();
    assert_eq!(log(&result.stdout), expected);
}

#[test]
fn injecting_into_a_saved_websocket_is_an_error_the_script_sees() {
    let result = Offline::golden("websocket.mitm")
        .script(&format!("{RECORDER} t"))
        .set("recorder_ws_inject=hi")
        .write()
        .run()
        .ok();
    let line = log(&result.stdout)
        .into_iter()
        .find(|l| l.contains(" inject "))
        .unwrap_or_else(|| panic!("no inject line: {}", result.stdout));
    assert!(
        line.contains("inject Err(")
            && line.contains(
                "cannot inject a WebSocket message into flow bed2972f-44c2-45b8-b9c0-368facfda1cb: it was read \
                 from a file, not live traffic"
            ),
        "{line}"
    );
    let websocket = |f: &Flow| f.dict().get("websocket").cloned();
    assert_eq!(
        result.written().iter().map(websocket).collect::<Vec<_>>(),
        flows(golden("websocket.mitm"))
            .iter()
            .map(websocket)
            .collect::<Vec<_>>(),
        "nothing was appended"
    );
}

#[test]
fn a_websocket_script_that_changes_nothing_writes_the_input_byte_for_byte() {
    let ran = Offline::golden("websocket.mitm")
        .args(&["-q"])
        .script("examples/websocket-rewrite nowhere-to-be-found x")
        .write()
        .run()
        .ok();
    assert!(ran.written_bytes() == std::fs::read(golden("websocket.mitm")).unwrap());
}

/// The saved WebSocket with three more chat lines, two of them spam;
/// written to `dir`, returned as a path.
pub fn chat_file(dir: &tempfile::TempDir) -> String {
    let mut flow = flows(golden("websocket.mitm")).remove(0);
    for (i, (from_client, text)) in [
        (true, "any spam today?"),
        (false, "SPAM: cheap pills"),
        (false, "hello again"),
    ]
    .into_iter()
    .enumerate()
    {
        flow.push_websocket_message(true, from_client, text, 1795477239.0 + i as f64)
            .unwrap();
    }
    let path = path_in(dir, "chat.mitm");
    let mut writer = FlowWriter::new(std::fs::File::create(&path).unwrap());
    writer.write_flow(&flow).unwrap();
    writer.flush().unwrap();
    path
}

/// Runs the chat rewriter over the chat file; returns (input, output).
pub fn rewrite_chat(dir: &tempfile::TempDir) -> (String, String) {
    let input = chat_file(dir);
    let out = path_in(dir, "rewritten.mitm");
    let result = run(&[
        "-n",
        "-v",
        "-r",
        &input,
        "-s",
        "examples/websocket-rewrite hello hi",
        "-w",
        &out,
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        result
            .stdout
            .contains("no greeting: cannot inject a WebSocket message"),
        "{}",
        result.stdout
    );
    (input, out)
}

#[test]
fn rewritten_and_dropped_messages_are_what_gets_written() {
    let dir = scratch();
    let (input, out) = rewrite_chat(&dir);
    let (before, after) = (flows(&input).remove(0), flows(&out).remove(0));
    let summary = |f: &Flow| -> Vec<(bool, String, bool, bool)> {
        (0..f.websocket_messages().unwrap().len())
            .map(|i| {
                let m = f.websocket_message(i).unwrap();
                let content = String::from_utf8_lossy(m.content().unwrap()).into_owned();
                (m.from_client(), content, m.dropped(), m.injected())
            })
            .collect()
    };
    let owned = |rows: &[(bool, &str, bool, bool)]| -> Vec<(bool, String, bool, bool)> {
        rows.iter()
            .map(|(c, t, d, i)| (*c, (*t).to_owned(), *d, *i))
            .collect()
    };
    assert_eq!(
        summary(&after),
        owned(&[
            (true, "hello", false, false),
            (false, "echo: hi", false, false),
            (true, "\0\u{1}bin", false, false),
            (false, "echo: \0\u{1}bin", false, false),
            (true, "any spam today?", true, false),
            (false, "SPAM: cheap pills", true, false),
            (false, "hi again", false, false),
        ])
    );
    // Timestamps, types and everything outside the messages are as read.
    for i in 0..7 {
        let (b, a) = (
            before.websocket_message(i).unwrap(),
            after.websocket_message(i).unwrap(),
        );
        assert_eq!((b.kind(), b.timestamp()), (a.kind(), a.timestamp()));
    }
    let without_messages = |f: &Flow| {
        let mut f = f.clone();
        f.websocket_messages_mut().unwrap().clear();
        f
    };
    assert_eq!(without_messages(&after), without_messages(&before));
}
