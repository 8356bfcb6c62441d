//! WebSocket events and the WebSocket view, host side: the offline replay
//! of a saved WebSocket, changes and their undo, injection live and
//! offline.

use std::sync::{Arc, Mutex};

use waylay_sdk::{Context, Flow, Script};

use super::golden_path;
use crate::script::{Event, LogSink, Scripts};
use crate::test_support::golden;
use crate::testing::{read_flows, render, run_file};
use crate::tnetstring::{self, Value};

/// Logs what each WebSocket hook sees.
#[derive(Default)]
struct Watcher;

fn describe(flow: &Flow) -> String {
    let Some(ws) = flow.websocket() else {
        return "no websocket".into();
    };
    let last = ws.last_message().map(|m| {
        format!(
            "last #{} {} {} {:?} text={:?}",
            m.index(),
            if m.from_client() { "->" } else { "<-" },
            if m.is_text() { "text" } else { "binary" },
            String::from_utf8_lossy(m.content()),
            m.text()
        )
    });
    format!(
        "{} messages, {}; close {:?} {:?} by client {:?} at {:?}",
        ws.messages_len(),
        last.unwrap_or_else(|| "none yet".into()),
        ws.close_code(),
        ws.close_reason(),
        ws.closed_by_client(),
        ws.timestamp_end()
    )
}

impl Script for Watcher {
    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("response: {}", describe(flow)));
    }
    fn error(&mut self, ctx: &Context, _: &mut Flow) {
        ctx.info("error");
    }
    fn websocket_start(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("websocket_start: {}", describe(flow)));
    }
    fn websocket_message(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("websocket_message: {}", describe(flow)));
    }
    fn websocket_end(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("websocket_end: {}", describe(flow)));
    }
}

#[test]
fn offline_replays_messages_one_at_a_time_and_writes_the_flow_unchanged() {
    let run = run_file::<Watcher>(golden_path("websocket.mitm"));
    insta::assert_snapshot!(run.log.join("\n"), @r#"
    info: response: 4 messages, last #3 <- binary "echo: \0\u{1}bin" text=None; close Some(1000) Some("bye") by client Some(true) at Some(1795477238.2475574)
    info: websocket_start: 0 messages, none yet; close Some(1000) Some("bye") by client Some(true) at Some(1795477238.2475574)
    info: websocket_message: 1 messages, last #0 -> text "hello" text=Some("hello"); close Some(1000) Some("bye") by client Some(true) at Some(1795477238.2475574)
    info: websocket_message: 2 messages, last #1 <- text "echo: hello" text=Some("echo: hello"); close Some(1000) Some("bye") by client Some(true) at Some(1795477238.2475574)
    info: websocket_message: 3 messages, last #2 -> binary "\0\u{1}bin" text=None; close Some(1000) Some("bye") by client Some(true) at Some(1795477238.2475574)
    info: websocket_message: 4 messages, last #3 <- binary "echo: \0\u{1}bin" text=None; close Some(1000) Some("bye") by client Some(true) at Some(1795477238.2475574)
    info: websocket_end: 4 messages, last #3 <- binary "echo: \0\u{1}bin" text=None; close Some(1000) Some("bye") by client Some(true) at Some(1795477238.2475574)
    "#);
    let mut written = Vec::new();
    run.flows
        .iter()
        .for_each(|f| tnetstring::write(f.as_value(), &mut written));
    assert!(written == golden("websocket.mitm"), "not byte for byte");
}

#[test]
fn a_flow_with_a_websocket_gets_no_error_event() {
    let mut flow = read_flows(golden_path("websocket.mitm")).remove(0);
    flow.set_error("connection dropped", 1.0);
    let (scripts, log) = scripts_with::<Watcher>();
    crate::offline::replay_events(&scripts, &mut flow);
    let log = log.lines();
    assert!(log.iter().all(|l| l != "error"), "{log:?}");
    assert_eq!(log.len(), 7, "{log:?}");
}

/// A chat rewriter: text from the server gets a word replaced, binary
/// messages are dropped; injection is tried and refused offline.
#[derive(Default)]
struct Rewriter;

impl Script for Rewriter {
    fn websocket_start(&mut self, ctx: &Context, flow: &mut Flow) {
        let ws = flow.websocket_mut().unwrap();
        let refused = ws.inject_to_client("hi", true).unwrap_err();
        ctx.warn(refused.message());
    }
    fn websocket_message(&mut self, ctx: &Context, flow: &mut Flow) {
        let mut m = flow.websocket_mut().unwrap().last_message_mut().unwrap();
        if !m.is_text() {
            ctx.info(&format!("set_text: {}", m.set_text("x").unwrap_err()));
            m.drop();
        } else if !m.from_client() {
            let text = m.text().unwrap().replace("echo", "ECHO");
            m.set_text(&text).unwrap();
        }
    }
}

#[test]
fn offline_changes_to_messages_are_kept_and_injection_is_refused() {
    let run = run_file::<Rewriter>(golden_path("websocket.mitm"));
    let text = run.render();
    let websocket: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("websocket:"))
        .collect();
    insta::assert_snapshot!(websocket.join("\n"), @r#"
    websocket: closed by client: 1000 "bye"
        -> text "hello"
        <- text "ECHO: hello"
        -> binary b"\x00\x01bin" (dropped)
        <- binary b"echo: \x00\x01bin" (dropped)
    log: warn: cannot inject a WebSocket message into flow bed2972f-44c2-45b8-b9c0-368facfda1cb: it was read from a file, not live traffic (mitmproxy: "Cannot inject WebSocket messages into non-live flows.")
    log: info: set_text: WebSocket message 2 is binary and has no text; use set_content
    log: info: set_text: WebSocket message 3 is binary and has no text; use set_content
    "#);
    // Everything but the messages the script changed is as read.
    let mut expected = read_flows(golden_path("websocket.mitm")).remove(0);
    let messages = expected.websocket_messages_mut().unwrap();
    crate::flow::websocket::set_content(&mut messages[1], b"ECHO: hello");
    crate::flow::websocket::set_dropped(&mut messages[2], true);
    crate::flow::websocket::set_dropped(&mut messages[3], true);
    assert_eq!(run.flows, [expected]);
}

/// Changes the newest message and injects, then panics on the third.
#[derive(Default)]
struct PanicsMidway;

impl Script for PanicsMidway {
    fn websocket_message(&mut self, _: &Context, flow: &mut Flow) {
        let live = flow.is_live();
        let ws = flow.websocket_mut().unwrap();
        if live {
            ws.inject_to_server(b"\x01", false).unwrap();
        }
        let mut m = ws.message_mut(0).unwrap();
        m.set_content("changed");
        m.drop();
        if ws.messages_len() >= 3 {
            panic!("third message");
        }
    }
}

#[test]
fn a_panicking_websocket_hook_is_undone_offline() {
    let run = run_file::<PanicsMidway>(golden_path("websocket.mitm"));
    assert_eq!(run.log.len(), 2, "{:?}", run.log);
    assert!(run.log[0].contains("hook `websocket_message` panicked"));
    // The first two calls' changes stay; the panicking ones are undone,
    // so the flow is message 0 changed and nothing else.
    let mut expected = read_flows(golden_path("websocket.mitm")).remove(0);
    let messages = expected.websocket_messages_mut().unwrap();
    crate::flow::websocket::set_content(&mut messages[0], b"changed");
    crate::flow::websocket::set_dropped(&mut messages[0], true);
    assert_eq!(run.flows, [expected]);
}

/// Keeps log lines for a test to read.
#[derive(Clone, Default)]
pub(super) struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    pub(super) fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl LogSink for Lines {
    fn log(&self, _: &str, _: waylay_sdk::Level, msg: &str) {
        self.0.lock().unwrap().push(msg.to_owned());
    }
}

pub(super) fn scripts_with<S: Script + Default>() -> (Scripts, Lines) {
    let lines = Lines::default();
    let mut scripts = Scripts::new(Arc::new(lines.clone()));
    let descriptor = Box::leak(Box::new(waylay_sdk::__export::descriptor::<S>()));
    scripts.push(crate::script::Script::from_descriptor(descriptor, "s", vec![], &lines).unwrap());
    (scripts, lines)
}

/// A live WebSocket as the live proxy builds it: opened, one message in.
fn live_flow() -> crate::Flow {
    let mut flow = read_flows(golden_path("get.mitm")).remove(0);
    flow.start_websocket();
    flow.push_websocket_message(true, true, "hello", 10.0);
    flow
}

/// Injects towards both sides on every event, logging refusals.
#[derive(Default)]
struct Injector;

impl Script for Injector {
    fn websocket_message(&mut self, ctx: &Context, flow: &mut Flow) {
        let ws = flow.websocket_mut().unwrap();
        ws.inject_to_client("to client", true).unwrap();
        ws.inject_to_server([0xff], false).unwrap();
        let newest = ws.last_message().unwrap();
        ctx.info(&format!(
            "{} messages, newest injected={} from_client={}",
            ws.messages_len(),
            newest.is_injected(),
            newest.from_client()
        ));
    }
    fn websocket_end(&mut self, ctx: &Context, flow: &mut Flow) {
        let ws = flow.websocket_mut().unwrap();
        ctx.info(&ws.inject_to_client("late", true).unwrap_err().to_string());
    }
}

#[test]
fn live_injection_appends_marked_messages_after_the_current_one() {
    let (scripts, log) = scripts_with::<Injector>();
    let mut flow = live_flow();
    scripts.flow_event(Event::WebsocketMessage, &mut flow, true);
    assert_eq!(
        log.lines(),
        ["3 messages, newest injected=true from_client=true"]
    );
    let messages = flow.websocket_messages().unwrap();
    assert_eq!(messages.len(), 3);
    let injected: Vec<_> = (1..3)
        .map(|i| {
            let m = flow.websocket_message(i).unwrap();
            (
                m.is_text(),
                m.from_client(),
                m.content().unwrap().to_vec(),
                m.dropped(),
                m.injected(),
            )
        })
        .collect();
    assert_eq!(
        injected,
        [
            (true, false, b"to client".to_vec(), false, true),
            (false, true, vec![0xff], false, true),
        ]
    );
    assert!(flow.websocket_message(2).unwrap().timestamp().unwrap() > 1e9);

    flow.close_websocket(false, 1006, None, 20.0);
    scripts.flow_event(Event::WebsocketEnd, &mut flow, true);
    assert!(
        log.lines()[1].ends_with("its WebSocket is closed"),
        "{:?}",
        log.lines()
    );
    assert_eq!(flow.websocket_messages().unwrap().len(), 3);
}

#[test]
fn a_panicking_live_hook_takes_back_its_injections() {
    let (scripts, log) = scripts_with::<PanicsMidway>();
    let mut flow = live_flow();
    flow.push_websocket_message(false, false, "two", 11.0);
    flow.push_websocket_message(false, true, "three", 12.0);
    let before = flow.clone();
    let outcome = scripts.flow_event(Event::WebsocketMessage, &mut flow, true);
    assert_eq!(outcome.panics, 1, "{:?}", log.lines());
    assert_eq!(flow, before);
}

#[test]
fn the_live_builders_write_mitmproxys_layout() {
    let golden_flow = read_flows(golden_path("websocket.mitm")).remove(0);
    let mut flow = read_flows(golden_path("get.mitm")).remove(0);
    flow.start_websocket();
    assert_eq!(
        render(std::slice::from_ref(&flow)).lines().last(),
        Some("websocket: open")
    );
    for i in 0..4 {
        let m = golden_flow.websocket_message(i).unwrap();
        let content = bytes::Bytes::copy_from_slice(m.content().unwrap());
        flow.push_websocket_message(
            m.is_text(),
            m.from_client(),
            content,
            m.timestamp().unwrap(),
        );
    }
    let ws = golden_flow.websocket().unwrap();
    let end = ws.get("timestamp_end").and_then(Value::as_float).unwrap();
    flow.close_websocket(true, 1000, Some("bye"), end);
    let (mut built, mut read) = (Vec::new(), Vec::new());
    tnetstring::write(flow.dict().get("websocket").unwrap(), &mut built);
    tnetstring::write(golden_flow.dict().get("websocket").unwrap(), &mut read);
    assert_eq!(
        String::from_utf8_lossy(&built),
        String::from_utf8_lossy(&read)
    );

    flow.close_websocket(false, crate::flow::websocket::ABNORMAL_CLOSURE, None, end);
    let ws = flow.websocket().unwrap();
    assert_eq!(ws.get("close_code"), Some(&Value::Int(1006)));
    assert_eq!(ws.get("close_reason"), Some(&Value::Null));
    assert_eq!(ws.get("closed_by_client"), Some(&Value::Bool(false)));
}
