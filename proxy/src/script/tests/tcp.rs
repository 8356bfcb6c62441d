//! TCP events and the TCP view, host side: the offline replay of a saved
//! TCP flow (`tcp_end` or `tcp_error`), changes, drops and their undo,
//! injection live and offline, concurrent TCP hooks, and what the HTTP
//! accessors say on a TCP flow.

use std::sync::atomic::{AtomicUsize, Ordering};

use waylay_sdk::{Concurrent, Context, Flow, FlowKind, Script};

use super::golden_path;
use super::websocket::{Lines, scripts_with};
use crate::flow::tcp;
use crate::script::{Event, Scripts};
use crate::test_support::golden;
use crate::testing::{read_flows, render, run_file};
use crate::tnetstring;

fn describe(flow: &Flow) -> String {
    let Some(tcp) = flow.tcp() else {
        return format!("no tcp ({:?})", flow.kind());
    };
    let last = tcp.last_message().map(|m| {
        format!(
            "last #{} {} {:?} at {:?}",
            m.index(),
            if m.from_client() { "->" } else { "<-" },
            String::from_utf8_lossy(m.content()),
            m.timestamp()
        )
    });
    format!(
        "{} messages, {}; error {:?}",
        tcp.messages_len(),
        last.unwrap_or_else(|| "none yet".into()),
        flow.error().map(|e| e.msg().to_owned())
    )
}

/// Logs what each TCP hook sees.
#[derive(Default)]
struct Watcher;

impl Script for Watcher {
    fn tcp_start(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!(
            "tcp_start: kind {:?} tcp {} http {} response {} websocket {}; {}",
            flow.kind(),
            flow.is_tcp(),
            flow.is_http(),
            flow.response().is_some(),
            flow.websocket().is_some(),
            describe(flow)
        ));
    }
    fn tcp_message(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("tcp_message: {}", describe(flow)));
    }
    fn tcp_end(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("tcp_end: {}", describe(flow)));
    }
    fn tcp_error(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("tcp_error: {}", describe(flow)));
    }
    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!(
            "response: kind {:?} tcp {}",
            flow.kind(),
            flow.tcp().is_some()
        ));
    }
}

#[test]
fn offline_replays_messages_one_at_a_time_and_writes_the_flow_unchanged() {
    let run = run_file::<Watcher>(golden_path("tcp.mitm"));
    insta::assert_snapshot!(run.log.join("\n"), @r#"
    info: tcp_start: kind Tcp tcp true http false response false websocket false; 0 messages, none yet; error None
    info: tcp_message: 1 messages, last #0 -> "ping-1\n" at Some(1795477242.805599); error None
    info: tcp_message: 2 messages, last #1 <- "ECHO ping-1\n" at Some(1795477242.8111022); error None
    info: tcp_message: 3 messages, last #2 -> "ping-2\n" at Some(1795477243.0123215); error None
    info: tcp_message: 4 messages, last #3 <- "ECHO ping-2\n" at Some(1795477243.0134084); error None
    info: tcp_end: 4 messages, last #3 <- "ECHO ping-2\n" at Some(1795477243.0134084); error None
    "#);
    let mut written = Vec::new();
    run.flows
        .iter()
        .for_each(|f| tnetstring::write(f.as_value(), &mut written));
    assert!(written == golden("tcp.mitm"), "not byte for byte");
}

#[test]
fn an_http_flow_is_no_tcp_flow() {
    let run = run_file::<Watcher>(golden_path("get.mitm"));
    assert_eq!(run.log, ["info: response: kind Http tcp false"]);
}

#[test]
fn a_tcp_flow_with_an_error_ends_with_tcp_error_instead_of_tcp_end() {
    let mut flow = read_flows(golden_path("tcp.mitm")).remove(0);
    flow.set_error("Connection reset by peer", 1795477243.3);
    let (scripts, log) = scripts_with::<Watcher>();
    crate::offline::replay_events(&scripts, &mut flow);
    let log = log.lines();
    assert_eq!(log.len(), 6, "{log:?}");
    assert!(log[0].ends_with("error Some(\"Connection reset by peer\")"));
    assert_eq!(
        log[5],
        "tcp_error: 4 messages, last #3 <- \"ECHO ping-2\\n\" at Some(1795477243.0134084); error Some(\"Connection reset by peer\")"
    );
}

/// tcp-simple's rewrite, a drop, and an injection refused offline.
#[derive(Default)]
struct Rewriter;

impl Script for Rewriter {
    fn tcp_start(&mut self, ctx: &Context, flow: &mut Flow) {
        let tcp = flow.tcp_mut().unwrap();
        ctx.warn(tcp.inject_to_client("hi").unwrap_err().message());
    }
    fn tcp_message(&mut self, _: &Context, flow: &mut Flow) {
        let mut m = flow.tcp_mut().unwrap().last_message_mut().unwrap();
        if m.content() == b"ECHO ping-2\n" {
            m.drop();
        } else if m.from_client() {
            let content = String::from_utf8_lossy(m.content()).replace("ping", "PING");
            m.set_content(content);
        }
    }
}

#[test]
fn offline_changes_and_drops_are_kept_and_injection_is_refused() {
    let run = run_file::<Rewriter>(golden_path("tcp.mitm"));
    insta::assert_snapshot!(run.render(), @r#"
    ── tcp flow 1964bc8b-547c-4476-80d1-d798e12679d9
    tcp: 4 messages
        -> b"PING-1\n"
        <- b"ECHO ping-1\n"
        -> b"PING-2\n"
        <- b"" (dropped)
    log: warn: cannot inject a TCP message into flow 1964bc8b-547c-4476-80d1-d798e12679d9: it was read from a file, not live traffic (mitmproxy: "Flow is not from a live connection.")
    "#);
    let mut expected = read_flows(golden_path("tcp.mitm")).remove(0);
    let messages = expected.tcp_messages_mut().unwrap();
    tcp::set_content(&mut messages[0], b"PING-1\n");
    tcp::set_content(&mut messages[2], b"PING-2\n");
    tcp::set_content(&mut messages[3], b"");
    assert_eq!(run.flows, [expected]);
}

/// Changes the first message and injects (live), then panics from the
/// third message on.
#[derive(Default)]
struct PanicsMidway;

impl Script for PanicsMidway {
    fn tcp_message(&mut self, _: &Context, flow: &mut Flow) {
        let live = flow.is_live();
        let tcp = flow.tcp_mut().unwrap();
        if live {
            tcp.inject_to_server(b"\x01").unwrap();
        }
        tcp.message_mut(0).unwrap().set_content("changed");
        tcp.last_message_mut().unwrap().drop();
        if tcp.messages_len() >= 3 {
            panic!("third message");
        }
    }
}

#[test]
fn a_panicking_tcp_hook_is_undone_offline() {
    let run = run_file::<PanicsMidway>(golden_path("tcp.mitm"));
    assert_eq!(run.log.len(), 2, "{:?}", run.log);
    assert!(run.log[0].contains("hook `tcp_message` panicked on flow"));
    assert!(run.log[0].ends_with("the flow goes on as it was before the hook"));
    // The first two calls' changes stay (message 0 changed, message 1
    // emptied); the panicking ones are undone.
    let mut expected = read_flows(golden_path("tcp.mitm")).remove(0);
    let messages = expected.tcp_messages_mut().unwrap();
    tcp::set_content(&mut messages[0], b"changed");
    tcp::set_content(&mut messages[1], b"");
    assert_eq!(run.flows, [expected]);
}

/// A live TCP flow as the live proxy builds it, with one message in.
fn live_flow() -> crate::Flow {
    let golden_flow = read_flows(golden_path("tcp.mitm")).remove(0);
    let conn = |k: &str| golden_flow.dict().get(k).unwrap().clone();
    let mut flow = crate::Flow::new_tcp(
        "00000000-0000-4000-8000-000000000000",
        conn("client_conn"),
        conn("server_conn"),
        9.0,
    );
    flow.push_tcp_message(true, "hello", 10.0);
    flow
}

#[test]
fn a_panicking_live_hook_takes_back_its_injections_and_changes() {
    let (scripts, log) = scripts_with::<PanicsMidway>();
    let mut flow = live_flow();
    flow.push_tcp_message(false, "two", 11.0);
    flow.push_tcp_message(true, "three", 12.0);
    let before = flow.clone();
    let outcome = scripts.flow_event(Event::TcpMessage, &mut flow, true);
    assert_eq!(outcome.panics, 1, "{:?}", log.lines());
    assert_eq!(flow, before);
    assert!(
        log.lines()[0].ends_with("third message; the connection is closed")
            || log.lines()[0].contains("; the connection is closed"),
        "{:?}",
        log.lines()
    );
}

/// Injects towards both sides on every message, and tries again at the end.
#[derive(Default)]
struct Injector;

impl Script for Injector {
    fn tcp_message(&mut self, ctx: &Context, flow: &mut Flow) {
        let tcp = flow.tcp_mut().unwrap();
        tcp.inject_to_client("to client").unwrap();
        tcp.inject_to_server([0xff]).unwrap();
        let newest = tcp.last_message().unwrap();
        ctx.info(&format!(
            "{} messages, newest from_client={} {:?}",
            tcp.messages_len(),
            newest.from_client(),
            newest.content()
        ));
    }
    fn tcp_end(&mut self, ctx: &Context, flow: &mut Flow) {
        let tcp = flow.tcp_mut().unwrap();
        ctx.info(&tcp.inject_to_client("late").unwrap_err().to_string());
    }
    fn tcp_error(&mut self, ctx: &Context, flow: &mut Flow) {
        let tcp = flow.tcp_mut().unwrap();
        ctx.info(&tcp.inject_to_server("late").unwrap_err().to_string());
    }
}

#[test]
fn live_injection_appends_messages_after_the_current_one_for_the_relay() {
    let (scripts, log) = scripts_with::<Injector>();
    let mut flow = live_flow();
    scripts.flow_event(Event::TcpMessage, &mut flow, true);
    assert_eq!(log.lines(), ["3 messages, newest from_client=true [255]"]);
    // What the relay does: everything past the message it fired the
    // event for is an injection, run and sent one at a time.
    let injected = flow.take_tcp_messages_from(1);
    let injected: Vec<_> = injected
        .iter()
        .map(|v| {
            let m = tcp::Message::new(v).unwrap();
            assert!(m.timestamp().unwrap() > 1e9);
            (m.from_client(), m.content().unwrap().to_vec())
        })
        .collect();
    assert_eq!(
        injected,
        [(false, b"to client".to_vec()), (true, vec![0xff])]
    );
    assert_eq!(flow.tcp_messages().unwrap().len(), 1);

    scripts.flow_event(Event::TcpEnd, &mut flow, true);
    flow.set_error("Connection reset by peer", 20.0);
    scripts.flow_event(Event::TcpError, &mut flow, true);
    let lines = log.lines();
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.ends_with("its connection has ended")),
        "{lines:?}"
    );
    assert_eq!(flow.tcp_messages().unwrap().len(), 1);
}

/// Treats a TCP flow as HTTP.
#[derive(Default)]
struct Confused;

impl Script for Confused {
    fn tcp_start(&mut self, ctx: &Context, flow: &mut Flow) {
        flow.set_comment("before the panic");
        ctx.info(flow.request().host());
    }
    fn tcp_end(&mut self, _: &Context, flow: &mut Flow) {
        flow.respond(200, "nope");
    }
}

#[test]
fn the_http_accessors_panic_on_a_tcp_flow_saying_why() {
    let run = run_file::<Confused>(golden_path("tcp.mitm"));
    assert_eq!(run.log.len(), 2, "{:?}", run.log);
    assert!(
        run.log[0].starts_with(
            "error: hook `tcp_start` panicked on flow 1964bc8b-547c-4476-80d1-d798e12679d9: \
             this is a TCP flow: it has no request; check flow.tcp()"
        ),
        "{}",
        run.log[0]
    );
    assert!(
        run.log[1].contains(
            "hook `tcp_end` panicked on flow 1964bc8b-547c-4476-80d1-d798e12679d9: \
             this is a TCP flow: it has no response; check flow.tcp()"
        ),
        "{}",
        run.log[1]
    );
    assert_eq!(run.flows, read_flows(golden_path("tcp.mitm")));
}

#[test]
fn the_host_refuses_a_response_on_a_tcp_flow() {
    let mut flow = live_flow();
    let mut cell = crate::script::cell::FlowCell::new(&mut flow, true);
    let refused = cell.new_response(200).unwrap_err();
    assert_eq!(
        refused,
        "flow 00000000-0000-4000-8000-000000000000 is a tcp flow: it has no request to answer"
    );
}

/// Counts messages in a concurrent hook.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Script for Counter {}

impl Concurrent for Counter {
    fn tcp_message(&self, _: &Context, flow: &mut Flow) {
        assert_eq!(flow.kind(), FlowKind::Tcp);
        self.0.fetch_add(1, Ordering::Relaxed);
        let mut m = flow.tcp_mut().unwrap().last_message_mut().unwrap();
        let upper = m.content().to_ascii_uppercase();
        m.set_content(upper);
    }
    fn tcp_end(&self, ctx: &Context, _: &mut Flow) {
        ctx.info(&format!("{} messages", self.0.load(Ordering::Relaxed)));
    }
}

#[test]
fn concurrent_tcp_hooks_run_through_the_shared_entry() {
    let lines = Lines::default();
    let mut scripts = Scripts::new(std::sync::Arc::new(lines.clone()));
    let mask = (1 << waylay_sdk::abi::EVENT_TCP_MESSAGE) | (1 << waylay_sdk::abi::EVENT_TCP_END);
    let descriptor = Box::leak(Box::new(waylay_sdk::__export::descriptor_concurrent::<
        Counter,
    >(mask)));
    scripts.push(crate::script::Script::from_descriptor(descriptor, "c", vec![], &lines).unwrap());
    let mut flow = read_flows(golden_path("tcp.mitm")).remove(0);
    crate::offline::replay_events(&scripts, &mut flow);
    assert_eq!(lines.lines(), ["4 messages"]);
    let rendered = render(std::slice::from_ref(&flow));
    assert!(rendered.contains("<- b\"ECHO PING-2\\n\""), "{rendered}");
}
