//! Comparing flows in the view: two flows side by side over the API and
//! in Chromium (a changed JSON field shown by its path), and a second
//! capture matched against the view's flows.

use serde_json::{Value, json};

use crate::cdp::{Browser, chromium};
use crate::support::golden;
use crate::web::View;

const ROWS: &str = "document.querySelectorAll('#rows .row').length";

/// A view over `all.mitm` (5 flows) plus a copy of its first flow (flow
/// 5); the two answer `{"user": {"id": 7, "name": …}}` with "ann" and
/// "bob".
fn two_json_answers() -> View {
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    view.wait_for_flows(5);
    assert_eq!(view.post("/api/flows/0/duplicate", None).0, 200);
    for (n, name) in [(0, "ann"), (5, "bob")] {
        let text = format!(r#"{{"user": {{"id": 7, "name": "{name}"}}}}"#);
        let edit = json!({"response": {"text": text}});
        let (status, body) = view.post(&format!("/api/flows/{n}/edit"), Some(edit));
        assert_eq!(status, 204, "{body}");
    }
    view
}

#[test]
fn two_flows_compared_over_the_api() {
    let view = two_json_answers();
    let c = view.json("/api/compare?a=0&b=5");
    let body = &c["response"]["body"];
    assert_eq!(body["kind"], "json", "{c}");
    assert_eq!(
        body["changes"],
        json!([{"path": "$.user.name", "kind": "changed", "left": "\"ann\"", "right": "\"bob\""}])
    );
    assert_eq!(c["request"]["body"]["kind"], "same");
    assert_eq!(c["differences"], json!(["response body"]));
    let url = c["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == "url")
        .cloned()
        .unwrap();
    assert_eq!(url[3], true, "{url}");
    // Flow 0 and flow 1 differ in their URL and status line.
    let c = view.json("/api/compare?a=0&b=4");
    let differs: Vec<&str> = c["summary"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r[3] == false)
        .map(|r| r[0].as_str().unwrap())
        .collect();
    assert!(differs.contains(&"url"), "{differs:?}");
}

#[test]
fn a_second_capture_is_matched_flow_by_flow() {
    let view = two_json_answers();
    let all = std::fs::read(golden("all.mitm")).unwrap();
    let (status, body) = view.post_bytes(
        "/api/compare/capture?name=all.mitm",
        "application/octet-stream",
        &all,
    );
    assert_eq!(status, 200, "{body}");
    let c: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(c["totals"], json!({"left": 6, "right": 5}));
    // Flow 0 was edited; its copy (flow 5) has no twin left.
    assert_eq!(c["differ"]["count"], 1, "{c}");
    assert_eq!(c["differ"]["items"][0]["left"]["n"], 0);
    assert!(
        c["differ"]["items"][0]["what"]
            .as_array()
            .unwrap()
            .contains(&json!("response body")),
        "{c}"
    );
    assert_eq!(c["alike"], 4);
    assert_eq!(c["left_only"]["items"][0]["n"], 5);
    assert_eq!(c["right_only"]["count"], 0);
    // A matched pair opens side by side, its right flow from the capture.
    let pair = view.json("/api/compare?a=0&b=0&b_in=other");
    assert_eq!(pair["response"]["body"]["kind"], "text", "{pair}");
    // A HAR file is a second capture too, and takes the first one's place.
    let har = std::fs::read(golden("all.har")).unwrap();
    let (status, body) = view.post_bytes(
        "/api/compare/capture?name=all.har",
        "application/json",
        &har,
    );
    assert_eq!(status, 200, "{body}");
    let c: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(c["name"], "all.har");
    assert!(c["matched"].as_u64().unwrap() > 0, "{c}");
}

#[test]
fn bad_compare_requests_say_what_is_wrong() {
    let view = two_json_answers();
    let error = |path: &str| {
        let (status, _, body) = view.get(path);
        let v: Value = serde_json::from_str(&body).unwrap();
        (status, v["error"].as_str().unwrap().to_owned())
    };
    let (status, msg) = error("/api/compare?a=0");
    assert_eq!(status, 400);
    assert!(msg.contains("a=N&b=M"), "{msg}");
    assert_eq!(error("/api/compare?a=0&b=x").0, 400);
    assert_eq!(error("/api/compare?a=0&b=99").0, 404);
    let (status, msg) = error("/api/compare?a=0&b=0&b_in=other");
    assert_eq!(status, 404);
    assert!(msg.contains("no second capture"), "{msg}");
    assert_eq!(error("/api/compare?a=0&b=1&b_in=elsewhere").0, 400);
    // Not a capture, and an empty upload: one line each; the view is
    // still there.
    let (status, body) = view.post_bytes(
        "/api/compare/capture?name=notes.txt",
        "text/plain",
        b"hello, not a flow",
    );
    assert_eq!(status, 400, "{body}");
    let msg = serde_json::from_str::<Value>(&body).unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.starts_with("notes.txt: ") && !msg.contains('\n'),
        "{msg}"
    );
    let (status, body) = view.post_bytes("/api/compare/capture?name=e.mitm", "text/plain", b"");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("e.mitm: the file is empty"), "{body}");
    assert_eq!(view.json("/api/flows?count=10")["matched"], 6);
}

#[test]
fn two_flows_and_two_captures_compared_in_the_page() {
    let Some(chromium) = chromium() else { return };
    let view = two_json_answers();
    let mut browser = Browser::start(chromium, "two_flows_compared_in_the_page");
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 6"), "the list loads");
    browser.ctrl_click("#rows .row[data-n='0']");
    browser.ctrl_click("#rows .row[data-n='5']");
    browser.wait_for(
        "[...document.querySelectorAll('#selection button')].some(b => b.textContent === 'Compare')",
        "the selection bar offers Compare for two flows",
    );
    browser.eval("[...document.querySelectorAll('#selection button')].find(b => b.textContent === 'Compare').click()");
    browser.wait_for(
        "[...document.querySelectorAll('#pane .json-diff tr.state-changed td:first-child')].some(td => td.textContent === '$.user.name')",
        "the changed JSON field shows by its path",
    );
    let row = browser.eval(
        "[...document.querySelectorAll('#pane .json-diff tr.state-changed')].map(tr => tr.innerText).join('|')",
    );
    assert!(
        row.as_str().unwrap().contains("\"ann\"") && row.as_str().unwrap().contains("\"bob\""),
        "{row}"
    );
    // The other capture: the edited flow is the one that differs.
    browser.set_file("#compare-file", &golden("all.mitm"));
    browser.wait_for(
        "document.querySelector('#pane .compare-counts')?.textContent.includes('1 differ')",
        "the capture comparison counts one differing pair",
    );
    browser.eval("document.querySelector('#pane .compare-pair').click()");
    browser.wait_for(
        "document.querySelector('#pane .compare-title')?.textContent.includes('all.mitm #0')",
        "the differing pair opens side by side",
    );
    browser.wait_for(
        "document.querySelector('#pane .text-diff')",
        "its bodies show as a line diff",
    );
}
