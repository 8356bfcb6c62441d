//! Flows in flight in the view: a request still waiting for its answer is
//! listed, opened and killed, through the API and in headless Chromium;
//! an open WebSocket or TCP stream is killed with its messages kept. The killed flow
//! joins the list with mitmproxy's kill error.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::cdp::{Browser, chromium};
use crate::origin::Origin;
use crate::support::{Proxy, curl_via};
use crate::tcp_origin::{TcpOrigin, exchange, read_head};
use crate::web::View;
use crate::websocket::{absolute, messages, next_text, runtime};
use crate::ws_origin::WsOrigin;

/// curl through `proxy` on a thread of its own; how long it took too.
fn curl_later(
    proxy: &Proxy,
    url: String,
) -> std::thread::JoinHandle<(std::process::Output, Duration)> {
    let via = proxy.url();
    std::thread::spawn(move || {
        let started = Instant::now();
        let out = curl_via(&via, &[&url]);
        (out, started.elapsed())
    })
}

/// The proxy with the view on, writing its capture (`-w`) to `name` in a
/// temporary folder (gone with the third value).
fn proxy_writing_to(name: &str) -> (Proxy, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join(name);
    let proxy = Proxy::start(&[
        "--web",
        "--set",
        "web_port=0",
        "-w",
        capture.to_str().unwrap(),
    ]);
    (proxy, capture, dir)
}

/// Waits until the view lists `n` flows in flight; returns the answer.
/// Once the view lists the one flow as killed and nothing is in flight:
/// the proxy stopped, the `-w` capture's one flow, checked to hold
/// mitmproxy's "Connection killed." error.
fn killed_in_capture(view: View, proxy: Proxy, capture: &std::path::Path) -> waylay_proxy::Flow {
    let w = view.wait_for_flows(1);
    assert_eq!(w["rows"][0]["killed"], true, "{w}");
    in_flight(&view, 0);
    drop(view);
    proxy.stop();
    let mut flows = crate::support::flows(capture);
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].error_msg(), Some("Connection killed."));
    flows.remove(0)
}

fn in_flight(view: &View, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let live = view.json("/api/live");
        if live["flows"].as_array().unwrap().len() == n {
            return live;
        }
        assert!(
            Instant::now() < deadline,
            "the view never listed {n} flows in flight: {live}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_request_in_flight_is_listed_opened_and_killed() {
    let origin = Origin::start();
    let (proxy, capture, _dir) = proxy_writing_to("out.mitm");
    let view = View::of(&proxy);
    assert_eq!(view.json("/api/live")["total"], 0);
    // The origin holds /stall for 5 s without answering.
    let waiting = curl_later(&proxy, origin.url("/stall"));
    let live = in_flight(&view, 1);
    let flow = &live["flows"][0];
    assert_eq!(live["total"], 1);
    assert_eq!(flow["method"], "GET");
    assert_eq!(flow["stage"], "request sent");
    assert!(flow["n"].is_null(), "{flow}");
    assert!(flow["url"].as_str().unwrap().ends_with("/stall"), "{flow}");
    // The list's filter applies to it.
    assert_eq!(
        view.json("/api/live?filter=~u%20/hello")["flows"],
        Value::Array(vec![])
    );
    let id = flow["id"].as_str().unwrap().to_owned();
    let detail = view.json(&format!("/api/live/{id}"));
    assert_eq!(detail["live"], true);
    assert!(
        detail["request"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/stall")
    );
    assert!(detail["response"].is_null(), "{detail}");
    // Killed: the client's connection closes at once, the flow is
    // recorded with the error mitmproxy gives a killed flow.
    assert_eq!(view.post(&format!("/api/live/{id}/kill"), None).0, 204);
    let (answer, took) = waiting.join().unwrap();
    assert!(!answer.status.success(), "{answer:?}");
    assert!(took < Duration::from_secs(4), "the kill took {took:?}");
    let w = view.wait_for_flows(1);
    assert_eq!(w["rows"][0]["killed"], true, "{w}");
    let n = w["rows"][0]["n"].as_u64().unwrap();
    assert_eq!(
        view.json(&format!("/api/flows/{n}"))["error"]["msg"],
        "Connection killed."
    );
    in_flight(&view, 0);
    // What is not in flight says so, in one line.
    let (status, body) = view.post(&format!("/api/live/{id}/kill"), None);
    assert_eq!(status, 404);
    assert!(
        body.contains("is not in flight (it finished already)"),
        "{body}"
    );
    let (status, _, body) = view.get("/api/live/no-such-flow");
    assert_eq!(status, 404);
    assert!(
        body.contains("flow no-such-flow is not in flight"),
        "{body}"
    );
    let (status, _, body) = view.get("/api/live?filter=~x");
    assert_eq!(status, 400);
    assert!(body.contains("filter \\\"~x\\\""), "{body}");
    // The -w file has it too, as written when the proxy stops.
    drop(view);
    let log = proxy.stop();
    let bytes = std::fs::read(&capture).unwrap();
    assert!(
        bytes
            .windows(18)
            .any(|w| w == b"Connection killed.".as_slice()),
        "the capture lacks the killed flow; the runner said: {log:?}"
    );
}

#[test]
fn the_page_lists_a_flow_in_flight_and_kills_it() {
    let Some(chromium) = chromium() else { return };
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    let mut browser = Browser::start(chromium, "the_page_lists_a_flow_in_flight_and_kills_it");
    browser.goto(&view.url());
    browser.wait_for(
        "document.querySelector('#inflight').hidden",
        "the page loads",
    );
    let waiting = curl_later(&proxy, origin.url("/stall"));
    browser.wait_for(
        "document.querySelectorAll('#inflight-rows .inflight-flow').length === 1",
        "the request waiting for its answer is listed",
    );
    browser.eval("document.querySelector('#inflight-rows .inflight-flow').click()");
    browser.wait_for(
        "!document.querySelector('#detail').hidden && document.querySelector('#pane .toolbar').textContent.includes('in flight')",
        "it opens, marked as in flight",
    );
    browser.eval("document.querySelector('#inflight-rows .inflight-flow button').click()");
    browser.wait_for(
        "document.querySelector('#inflight').hidden && document.querySelectorAll('#rows .row [title=killed]').length === 1",
        "killed, it leaves the in-flight strip and joins the list",
    );
    let (answer, _) = waiting.join().unwrap();
    assert!(!answer.status.success(), "{answer:?}");
}

#[test]
fn a_websocket_in_flight_is_killed_with_its_messages_kept() {
    let origin = WsOrigin::start(false);
    let (proxy, capture, _dir) = proxy_writing_to("ws.mitm");
    let view = View::of(&proxy);
    let rt = runtime();
    let mut ws = rt.block_on(absolute(&proxy, &origin, "/ws/echo"));
    rt.block_on(ws.send(Message::text("one"))).unwrap();
    assert_eq!(rt.block_on(next_text(&mut ws)), "echo: one");
    let live = in_flight(&view, 1);
    assert_eq!(live["flows"][0]["stage"], "websocket open");
    let id = live["flows"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(view.post(&format!("/api/live/{id}/kill"), None).0, 204);
    // The client's connection ends; no close frame comes (1006).
    let ended = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match ws.next().await {
                    None | Some(Err(_)) => return true,
                    Some(Ok(Message::Close(_))) => return false,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
    });
    assert_eq!(ended, Ok(true), "the client saw a close frame or nothing");
    let killed = killed_in_capture(view, proxy, &capture);
    assert_eq!(
        messages(&killed),
        [
            (true, "one".to_owned(), false, false),
            (false, "echo: one".to_owned(), false, false)
        ]
    );
}

#[test]
fn an_intercepted_flow_killed_from_the_in_flight_list_stops_waiting() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0", "--set", "intercept=~q"]);
    let view = View::of(&proxy);
    let waiting = curl_later(&proxy, origin.url("/hello"));
    let live = in_flight(&view, 1);
    let id = live["flows"][0]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    while view.json("/api/intercepted")["flows"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the flow was never intercepted");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(view.post(&format!("/api/live/{id}/kill"), None).0, 204);
    let (answer, _) = waiting.join().unwrap();
    assert!(!answer.status.success(), "{answer:?}");
    assert_eq!(view.wait_for_flows(1)["rows"][0]["killed"], true);
    // Nothing waits for its answer any more, so it is not listed.
    assert_eq!(view.json("/api/intercepted")["flows"], Value::Array(vec![]));
}

#[test]
fn a_tcp_stream_in_flight_is_killed_with_its_messages_kept() {
    let echo = TcpOrigin::start(false);
    let (proxy, capture, _dir) = proxy_writing_to("tcp.mitm");
    let view = View::of(&proxy);
    let mut client = TcpStream::connect(&proxy.addr).unwrap();
    let connect = format!("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n\r\n", echo.addr);
    client.write_all(connect.as_bytes()).unwrap();
    let answer = read_head(&mut client);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(exchange(&mut client, b"hello"), "ECHO hello");
    let live = in_flight(&view, 1);
    assert_eq!(live["flows"][0]["stage"], "tcp open");
    let id = live["flows"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(view.post(&format!("/api/live/{id}/kill"), None).0, 204);
    // The client's connection ends.
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    match client.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "the proxy sent {rest:?}"),
        Err(e) => assert_eq!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset,
            "the client's connection stayed open"
        ),
    }
    let killed = killed_in_capture(view, proxy, &capture);
    assert_eq!(
        crate::modes::tcp_messages(&killed),
        [(true, "hello".to_owned()), (false, "ECHO hello".to_owned())]
    );
}
