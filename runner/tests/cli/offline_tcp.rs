//! TCP flows offline: the events mitmproxy 11 fires for a saved TCP flow
//! (`tcp_start`, a `tcp_message` per message, then `tcp_end`, or
//! `tcp_error` for a flow with an error), what each hook sees, what `-w`
//! keeps of a script's changes, and injection refused.

use waylay_proxy::Flow;
use waylay_proxy::flowfile::FlowWriter;

use crate::offline_run::Offline;
use crate::support::{flows, golden, path_in, run, scratch};

const RECORDER: &str = "runner/tests/fixtures/recorder";

/// The script's log lines, without the flow lines.
fn log(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with('[')).collect()
}

fn tagged(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .map(|l| format!("[{RECORDER}] t {l}"))
        .collect()
}

/// What mitmdump 11.0.2 fires for `testdata/flows/tcp.mitm`, observed with
/// an addon logging each hook (`mitmdump -n -r tcp.mitm -s addon.py`, and
/// `interop::mitmproxy_fires_the_same_tcp_events` runs it again when the
/// peer is installed): no HTTP event, `tcp_start` with no messages yet,
/// each message replayed in turn, `tcp_end`.
const TCP_EVENTS: [&str; 6] = [
    "tcp_start 0 messages",
    "tcp_message #0 -> \"ping-1\\n\"",
    "tcp_message #1 <- \"ECHO ping-1\\n\"",
    "tcp_message #2 -> \"ping-2\\n\"",
    "tcp_message #3 <- \"ECHO ping-2\\n\"",
    "tcp_end 4 messages",
];

#[test]
fn a_saved_tcp_flow_replays_its_messages_one_at_a_time_then_ends() {
    let result = Offline::golden("tcp.mitm")
        .script(&format!("{RECORDER} t"))
        .run()
        .ok();
    let mut expected = vec!["start [\"t\"]".to_owned()];
    expected.extend(TCP_EVENTS.iter().map(|l| (*l).to_owned()));
    expected[1] += ", server Some((\"127.0.0.1\", 18083))";
    expected.push("done".to_owned());
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(log(&result.stdout), tagged(&expected));
}

/// The saved TCP flow with an error, as a connection reset would leave
/// it; written to `dir`, returned as a path.
pub fn failed_flow_file(dir: &tempfile::TempDir) -> String {
    let mut flow = flows(golden("tcp.mitm")).remove(0);
    flow.set_error("Connection reset by peer", 1795477243.3);
    let path = path_in(dir, "failed.mitm");
    let mut writer = FlowWriter::new(std::fs::File::create(&path).unwrap());
    writer.write_flow(&flow).unwrap();
    writer.flush().unwrap();
    path
}

#[test]
fn a_saved_tcp_flow_with_an_error_ends_with_tcp_error_not_tcp_end() {
    let dir = scratch();
    let input = failed_flow_file(&dir);
    let result = Offline::read(&input)
        .script(&format!("{RECORDER} t"))
        .write()
        .run()
        .ok();
    let lines = log(&result.stdout);
    assert_eq!(lines.len(), 8, "{lines:?}");
    assert_eq!(
        lines[6],
        format!("[{RECORDER}] t tcp_error 4 messages, error Some(\"Connection reset by peer\")")
    );
    assert!(lines.iter().all(|l| !l.contains("tcp_end")), "{lines:?}");
    assert!(result.written_bytes() == std::fs::read(&input).unwrap());
}

#[test]
fn injecting_into_a_saved_tcp_flow_is_an_error_the_script_sees() {
    let result = Offline::golden("tcp.mitm")
        .script(&format!("{RECORDER} t"))
        .set("recorder_tcp_inject=hi")
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
                "cannot inject a TCP message into flow 1964bc8b-547c-4476-80d1-d798e12679d9: it was read \
                 from a file, not live traffic"
            ),
        "{line}"
    );
    assert!(
        result.written_bytes() == std::fs::read(golden("tcp.mitm")).unwrap(),
        "nothing was appended"
    );
}

#[test]
fn a_tcp_script_that_changes_nothing_writes_the_input_byte_for_byte() {
    let input = std::fs::read(golden("tcp.mitm")).unwrap();
    for script in [
        format!("{RECORDER} t"),
        "examples/tcp-simple nowhere-to-be-found x".to_owned(),
    ] {
        let ran = Offline::golden("tcp.mitm")
            .args(&["-q"])
            .script(&script)
            .write()
            .run()
            .ok();
        assert!(ran.written_bytes() == input, "{script}: not byte for byte");
    }
}

/// Runs tcp-simple over the saved TCP flow, `ping` to `pong`; returns
/// (input, output).
pub fn rewrite_pings(dir: &tempfile::TempDir) -> (String, String) {
    let input = golden("tcp.mitm").to_string_lossy().into_owned();
    let out = path_in(dir, "rewritten.mitm");
    let result = run(&[
        "-n",
        "-r",
        &input,
        "-s",
        "examples/tcp-simple ping pong",
        "-w",
        &out,
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        result
            .stdout
            .contains("tcp_message[from_client=false, content=ECHO pong-2\\n]"),
        "{}",
        result.stdout
    );
    (input, out)
}

#[test]
fn rewritten_messages_are_what_gets_written() {
    let dir = scratch();
    let (input, out) = rewrite_pings(&dir);
    let (before, after) = (flows(&input).remove(0), flows(&out).remove(0));
    let summary = |f: &Flow| -> Vec<(bool, String, Option<f64>)> {
        (0..f.tcp_messages().unwrap().len())
            .map(|i| {
                let m = f.tcp_message(i).unwrap();
                let content = String::from_utf8_lossy(m.content().unwrap()).into_owned();
                (m.from_client(), content, m.timestamp())
            })
            .collect()
    };
    let expected: Vec<_> = summary(&before)
        .into_iter()
        .map(|(c, t, at)| (c, t.replace("ping", "pong"), at))
        .collect();
    assert_eq!(summary(&after), expected);
    let without_messages = |f: &Flow| {
        let mut f = f.clone();
        f.tcp_messages_mut().unwrap().clear();
        f
    };
    assert_eq!(without_messages(&after), without_messages(&before));
}

#[test]
fn asking_a_tcp_flow_for_its_request_fails_the_hook_saying_why() {
    let result = Offline::golden("tcp.mitm")
        .script("runner/tests/fixtures/panicky tcp_request")
        .write()
        .run()
        .ok();
    let lines = result.runner_lines();
    assert_eq!(lines.len(), 2, "{}", result.stderr);
    assert!(
        lines[0].starts_with(
            "[runner/tests/fixtures/panicky] error: hook `tcp_start` panicked on flow \
             1964bc8b-547c-4476-80d1-d798e12679d9: this is a TCP flow: it has no request; check \
             flow.tcp() (at runner/tests/fixtures/panicky/src/lib.rs:"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("; the flow goes on as it was before the hook"));
    // The comment set before the panic is undone.
    assert!(result.written_bytes() == std::fs::read(golden("tcp.mitm")).unwrap());
}
