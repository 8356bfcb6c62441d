//! Intercept through the view: a request waits, is edited and resumed (or
//! killed), through the API and in the browser; bad settings get one line.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cdp::{Browser, chromium};
use crate::origin::Origin;
use crate::support::{Proxy, curl_via};
use crate::web::View;

/// curl through `proxy` on a thread of its own (it waits while the flow
/// is intercepted).
fn curl_later(proxy: &Proxy, url: String) -> std::thread::JoinHandle<std::process::Output> {
    let via = proxy.url();
    std::thread::spawn(move || curl_via(&via, &["-H", "X-Before: 1", &url]))
}

/// Waits until `n` flows are intercepted; returns them.
fn paused(view: &View, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = view.json("/api/intercepted");
        let flows = list["flows"].as_array().unwrap().clone();
        if flows.len() >= n {
            return flows;
        }
        assert!(
            Instant::now() < deadline,
            "{n} intercepted flows never came: {list}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn post(view: &View, path: &str, body: Value) -> u16 {
    view.post(path, Some(body)).0
}

#[test]
fn an_intercepted_request_is_edited_and_resumed_or_killed() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[
        "--web",
        "--set",
        "web_port=0",
        "--set",
        "intercept=~q & ~u /headers",
    ]);
    let view = View::of(&proxy);
    assert_eq!(view.json("/api/intercept")["filter"], "~q & ~u /headers");
    let waiting = curl_later(&proxy, origin.url("/headers"));
    let flows = paused(&view, 1);
    assert_eq!(flows[0]["event"], "request");
    assert_eq!(flows[0]["intercepted"], true);
    let key = flows[0]["key"].as_u64().unwrap();
    // Other connections go on meanwhile.
    let other = curl_via(&proxy.url(), &[&origin.url("/hello")]);
    assert_eq!(
        String::from_utf8_lossy(&other.stdout),
        "hello from origin\n"
    );
    let headers =
        json!({"request": {"headers": [["Host", origin.addr.to_string()], ["X-Edited", "yes"]]}});
    assert_eq!(
        post(&view, &format!("/api/intercepted/{key}/edit"), headers),
        204
    );
    assert_eq!(
        post(&view, &format!("/api/intercepted/{key}/resume"), json!({})),
        204
    );
    let out = waiting.join().unwrap();
    let echoed = String::from_utf8_lossy(&out.stdout);
    assert!(echoed.contains("X-Edited: yes"), "{echoed}");
    assert!(!echoed.contains("X-Before"), "{echoed}");
    assert_eq!(
        post(&view, &format!("/api/intercepted/{key}/resume"), json!({})),
        404
    );
    // Killed: the client gets no answer, the flow records the kill.
    let waiting = curl_later(&proxy, origin.url("/headers"));
    let key = paused(&view, 1)[0]["key"].as_u64().unwrap();
    assert_eq!(
        post(&view, &format!("/api/intercepted/{key}/kill"), json!({})),
        204
    );
    let out = waiting.join().unwrap();
    assert!(!out.status.success(), "{out:?}");
    let w = view.wait_for_flows(3);
    assert!(
        w["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["killed"] == true),
        "{w}"
    );
    // A bad filter from the page says where; an empty one stops intercepting.
    assert_eq!(
        post(&view, "/api/intercept", json!({"filter": "~q & ~x"})),
        400
    );
    assert_eq!(post(&view, "/api/intercept", json!({"filter": ""})), 204);
    let out = curl_via(&proxy.url(), &[&origin.url("/headers")]);
    assert!(out.status.success());
}

#[test]
fn intercept_settings_are_checked() {
    let out = crate::support::run(&["--set", "intercept=~q", "-p", "0"]);
    assert_eq!(
        out.error_line(),
        "runner: error: --set intercept needs --web: without the view, nothing can resume an intercepted flow"
    );
    let out = crate::support::run(&[
        "--web",
        "--set",
        "web_port=0",
        "--set",
        "intercept=~q & ~x",
        "-p",
        "0",
    ]);
    assert!(
        out.error_line()
            .starts_with("runner: error: --set intercept=~q & ~x: unknown filter ~x"),
        "{}",
        out.error_line()
    );
}

#[test]
fn the_page_edits_an_intercepted_request_and_resumes_it() {
    let Some(chromium) = chromium() else { return };
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    let mut browser = Browser::start(
        chromium,
        "the_page_edits_an_intercepted_request_and_resumes_it",
    );
    browser.goto(&view.url());
    browser.wait_for(
        "document.querySelector('#counts').textContent === '0 flows'",
        "the page loads",
    );
    // The filter is typed on the page.
    browser.eval("document.querySelector('#list').focus()");
    browser.press("i");
    assert_eq!(browser.eval("document.activeElement.id"), "intercept");
    browser.type_into("#intercept", "~q & ~u /headers");
    let deadline = Instant::now() + Duration::from_secs(20);
    while view.json("/api/intercept")["filter"] != "~q & ~u /headers" {
        assert!(
            Instant::now() < deadline,
            "the page never set the intercept filter"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let waiting = curl_later(&proxy, origin.url("/headers"));
    browser.wait_for(
        "document.querySelector('#paused .paused-flow')",
        "the intercepted request shows",
    );
    browser.eval("document.querySelector('#paused .paused-flow button').click()");
    browser.wait_for(
        "document.querySelector('#paused textarea[name=headers]')?.value.includes('X-Before')",
        "the editor opens with the request's headers",
    );
    browser.eval(
        "(() => { const t = document.querySelector('#paused textarea[name=headers]'); \
         t.value = t.value.replace('X-Before: 1', 'X-Page: edited'); \
         document.querySelector('#paused form.editor button[type=submit]').click(); })()",
    );
    browser.wait_for(
        "!document.querySelector('#paused form.editor') && document.querySelector('#paused .paused-flow')",
        "the edit is saved",
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let flows = view.json("/api/intercepted");
        let headers = flows["flows"][0]["request"]["headers"].to_string();
        if headers.contains("X-Page") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the edit never reached the flow: {flows}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    browser.eval("document.querySelector('#list').focus()");
    browser.press("A");
    let out = waiting.join().unwrap();
    let echoed = String::from_utf8_lossy(&out.stdout);
    assert!(echoed.contains("X-Page: edited"), "{echoed}");
    browser.wait_for(
        "document.querySelector('#intercepted').hidden",
        "nothing waits any more",
    );
    browser.wait_for(
        "document.querySelectorAll('#rows .row').length === 1",
        "the flow is listed",
    );
}
