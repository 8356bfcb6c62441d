//! Compose: a draft made from a flow, sent through the proxy twice with an
//! edit between, and the second response diffed against the first; sends
//! in parallel; drafts from curl and raw text, live and with `-n`; bad
//! drafts refused in one line; the same in Chromium.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cdp::{Browser, chromium};
use crate::origin::Origin;
use crate::support::{Proxy, curl, golden};
use crate::web::View;

/// The proxy with its view, the origin, and one POST to `/echo` in the
/// view as flow 0.
fn proxy_with_an_echo() -> (Origin, Proxy, View) {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    curl(&proxy, &["--data-raw", r#"{"n": 0}"#, &origin.url("/echo")]);
    view.wait_for_flows(1);
    (origin, proxy, view)
}

/// Draft `d` once all its sends have come back.
fn sends_back(view: &View, d: u64, count: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let entry = view.json(&format!("/api/drafts/{d}"));
        let sends = entry["sends"].as_array().unwrap();
        if sends.len() == count && sends.iter().all(|s| !s["n"].is_null()) {
            return entry;
        }
        assert!(
            Instant::now() < deadline,
            "the sends did not come back: {entry}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sets draft `d`'s body, keeping the rest.
fn set_body(view: &View, d: u64, body: &str) {
    let mut draft = view.json(&format!("/api/drafts/{d}"))["draft"].clone();
    draft["body"] = json!(body);
    let (status, answer) = view.put(&format!("/api/drafts/{d}"), json!({ "draft": draft }));
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn a_draft_sent_twice_has_its_second_response_diffed_against_the_first() {
    let (_origin, _proxy, view) = proxy_with_an_echo();
    let (status, body) = view.post("/api/drafts", Some(json!({"from": 0})));
    assert_eq!(status, 201, "{body}");
    let entry: Value = serde_json::from_str(&body).unwrap();
    let d = entry["id"].as_u64().unwrap();
    assert_eq!(entry["draft"]["method"], "POST");
    assert_eq!(entry["draft"]["body"], r#"{"n": 0}"#);
    assert!(
        entry["raw"].as_str().unwrap().starts_with("POST http://"),
        "{entry}"
    );
    for (i, n) in [1, 2].into_iter().enumerate() {
        set_body(&view, d, &format!(r#"{{"n": {n}}}"#));
        let (status, body) = view.post(&format!("/api/drafts/{d}/send"), None);
        assert_eq!(status, 202, "{body}");
        sends_back(&view, d, i + 1);
    }
    let entry = sends_back(&view, d, 2);
    let second = entry["sends"][1]["n"].as_u64().unwrap();
    let flow = view.json(&format!("/api/flows/{second}"));
    assert_eq!(flow["is_replay"], "request");
    assert_eq!(entry["sends"][1]["status"], 200);
    let diff = view.json(&format!("/api/drafts/{d}/diff?send=1"));
    let changes = &diff["compare"]["response"]["body"]["changes"];
    assert_eq!(
        changes,
        &json!([{"path": "$.n", "kind": "changed", "left": "1", "right": "2"}]),
        "{diff}"
    );
}

#[test]
fn copies_go_in_parallel_and_in_turn() {
    let (_origin, _proxy, view) = proxy_with_an_echo();
    let d = serde_json::from_str::<Value>(&view.post("/api/drafts", Some(json!({"from": 0}))).1)
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let (status, body) = view.post(
        &format!("/api/drafts/{d}/send"),
        Some(json!({"count": 5, "parallel": true})),
    );
    assert_eq!(status, 202, "{body}");
    let (status, _) = view.post(
        &format!("/api/drafts/{d}/send"),
        Some(json!({"count": 3, "parallel": false})),
    );
    assert_eq!(status, 202);
    let entry = sends_back(&view, d, 8);
    let numbers: std::collections::HashSet<u64> = entry["sends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["status"], 200, "{s}");
            s["n"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(numbers.len(), 8, "each send is a flow of its own");
    // The three sent in turn went one after another.
    let starts: Vec<f64> = entry["sends"].as_array().unwrap()[5..]
        .iter()
        .map(|s| {
            let flow = view.json(&format!("/api/flows/{}", s["n"]));
            (
                flow["request"]["timestamp_start"].as_f64().unwrap(),
                flow["response"]["timestamp_end"].as_f64().unwrap(),
            )
        })
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1].0 - w[0].1)
        .collect();
    assert!(starts.iter().all(|gap| *gap >= 0.0), "{starts:?}");
}

#[test]
fn a_composed_send_passes_through_the_scripts() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0", "-s", "examples/add_header"]);
    let view = View::of(&proxy);
    let draft = json!({"draft": {"method": "GET", "url": origin.url("/hello"), "headers": []}});
    let (status, body) = view.post("/api/drafts", Some(draft));
    assert_eq!(status, 201, "{body}");
    assert_eq!(view.post("/api/drafts/0/send", None).0, 202);
    let n = sends_back(&view, 0, 1)["sends"][0]["n"].as_u64().unwrap();
    let flow = view.json(&format!("/api/flows/{n}"));
    let added = flow["response"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "newheader" && h[1] == "foo");
    assert!(added, "the script's response hook ran on the send: {flow}");
}

#[test]
fn drafts_from_curl_and_raw_text_live_and_offline() {
    let origin = Origin::start();
    let url = origin.url("/hello");
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    view.wait_for_flows(5);
    let host = url.split('/').nth(2).unwrap().to_owned();
    for start in [
        json!({"curl": format!("curl -sS '{url}' -H 'X-From: curl'")}),
        json!({"raw": format!("GET /hello HTTP/1.1\nHost: {host}\nX-From: raw\n\n")}),
    ] {
        let (status, body) = view.post("/api/drafts", Some(start.clone()));
        assert_eq!(status, 201, "{body}");
        let d = serde_json::from_str::<Value>(&body).unwrap()["id"]
            .as_u64()
            .unwrap();
        assert_eq!(view.post(&format!("/api/drafts/{d}/send"), None).0, 202);
        let entry = sends_back(&view, d, 1);
        assert_eq!(entry["sends"][0]["status"], 200, "{start}: {entry}");
        let n = entry["sends"][0]["n"].as_u64().unwrap();
        let flow = view.json(&format!("/api/flows/{n}"));
        let from = flow["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == "X-From")
            .cloned();
        assert!(from.is_some(), "{flow}");
    }
    assert_eq!(
        view.json("/api/drafts")["drafts"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn bad_drafts_are_refused_in_one_line() {
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    view.wait_for_flows(5);
    let refused = |status: u16, body: &str, says: &str| {
        let msg = serde_json::from_str::<Value>(body).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            msg.starts_with(says) && !msg.contains('\n'),
            "{status}: {msg}"
        );
        status
    };
    for (start, says) in [
        (
            json!({"curl": "curl --frobnicate http://e/"}),
            "curl: --frobnicate is not a curl option",
        ),
        (
            json!({"curl": "curl 'http://e/"}),
            "curl: a ' quote is never closed",
        ),
        (
            json!({"raw": "GET"}),
            "raw: line 1: expected `METHOD URL HTTP/1.1`",
        ),
        (
            json!({"draft": {"method": "GET"}}),
            "draft.url: a request needs a URL",
        ),
        (json!({"from": 99}), "there is no flow 99"),
    ] {
        let (status, body) = view.post("/api/drafts", Some(start));
        assert!(status == 400 || status == 404, "{status} {body}");
        refused(status, &body, says);
    }
    let (status, body) = view.post_bytes("/api/drafts", "application/json", b"{not json");
    assert_eq!(refused(status, &body, "the body is not JSON"), 400);
    assert_eq!(view.post("/api/drafts", None).0, 201);
    let (status, body) = view.put("/api/drafts/7", json!({"raw": "GET http://e/"}));
    assert_eq!(refused(status, &body, "there is no draft 7"), 404);
    let (status, body) = view.put("/api/drafts/0", json!({"draft": {"url": "not a url"}}));
    assert_eq!(status, 200, "{body}");
    let (status, body) = view.post("/api/drafts/0/send", None);
    assert_eq!(
        refused(status, &body, "the draft cannot be sent: request.url:"),
        400
    );
    let (status, body) = view.post("/api/drafts/0/send", Some(json!({"count": 0})));
    assert_eq!(refused(status, &body, "count: expected 1 to 1000"), 400);
    let (status, _, body) = view.get("/api/drafts/0/diff?send=0");
    assert_eq!(
        refused(
            status,
            &body,
            "send=0: draft 0 has 0 send(s); send it twice"
        ),
        400
    );
    let (status, _, body) = view.get("/api/drafts/0/diff");
    assert_eq!(refused(status, &body, "expected ?send=I"), 400);
    // The view carries on.
    assert_eq!(view.json("/api/flows?count=10")["matched"], 5);
}

#[test]
fn a_request_composed_in_the_page_is_sent_twice_and_diffed() {
    let Some(chromium) = chromium() else { return };
    let (_origin, _proxy, view) = proxy_with_an_echo();
    let mut browser = Browser::start(chromium, "a_request_composed_in_the_page");
    browser.goto(&view.url());
    browser.wait_for(
        "document.querySelectorAll('#rows .row').length === 1",
        "the echo flow is listed",
    );
    browser.eval("document.querySelector('#rows .row').click()");
    browser.wait_for(
        "document.querySelector('#pane button[data-action=compose]')",
        "the flow opens with a Compose button",
    );
    browser.eval("document.querySelector('#pane button[data-action=compose]').click()");
    browser.wait_for(
        "document.querySelector('#compose-body')?.value === '{\"n\": 0}'",
        "the draft holds the flow's request",
    );
    for (n, sends) in [(1, 1), (2, 2)] {
        browser.eval(&format!(
            "document.querySelector('#compose-body').value = '{{\"n\": {n}}}'; document.querySelector('#compose-send').click()"
        ));
        browser.wait_for(
            &format!(
                "document.querySelectorAll('#compose-sends .compose-send a').length >= {}",
                2 * sends - 1
            ),
            "the send comes back",
        );
    }
    browser.wait_for(
        "[...document.querySelectorAll('#compose-diff .json-diff tr.state-changed td:first-child')].some(td => td.textContent === '$.n')",
        "the second response is diffed against the first",
    );
}
