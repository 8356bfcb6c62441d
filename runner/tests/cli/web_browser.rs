//! The web view in headless Chromium, driven through DevTools: live flows
//! appear, filters narrow the list and show their errors, the detail
//! pane shows JSON and images, files open, the keyboard alone works.
//! A failing test leaves a screenshot in `target/web-screenshots/`.

use crate::cdp::{Browser, chromium};
use crate::origin::Origin;
use crate::support::{Proxy, curl, golden};
use crate::web::View;

/// How many rows the list shows.
const ROWS: &str = "document.querySelectorAll('#rows .row').length";

/// The list's URLs, in order.
fn urls(browser: &mut Browser) -> Vec<String> {
    let v = browser.eval("[...document.querySelectorAll('#rows .row .c-url')].map(e => e.title)");
    serde_json::from_value(v).unwrap()
}

#[test]
fn live_flows_appear_and_filters_narrow_them() {
    let Some(chromium) = chromium() else { return };
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    let mut browser = Browser::start(chromium, "live_flows_appear_and_filters_narrow_them");
    browser.goto(&view.url());
    browser.wait_for(
        "document.querySelector('#counts').textContent === '0 flows'",
        "the empty list shows",
    );
    for path in ["/hello", "/data.json", "/pixel.png"] {
        curl(&proxy, &[&origin.url(path)]);
    }
    // Pushed, not polled: the page was open before the flows existed.
    browser.wait_for(&format!("{ROWS} === 3"), "three live flows are listed");
    assert!(urls(&mut browser)[1].ends_with(&origin.url("/data.json")));
    browser.type_into("#filter", "~u json");
    browser.wait_for(&format!("{ROWS} === 1"), "the filter leaves one row");
    assert_eq!(
        browser.eval("document.querySelector('#counts').textContent"),
        "1 of 3 flows"
    );
    browser.type_into("#filter", "~u json & ~x");
    browser.wait_for(
        "!document.querySelector('#filter-error').hidden",
        "the bad filter's error shows",
    );
    let error = browser.eval("document.querySelector('#filter-error').textContent");
    assert!(
        error.as_str().unwrap().contains("unknown filter ~x"),
        "{error}"
    );
    assert_eq!(
        browser.eval("document.querySelector('#filter').classList.contains('bad')"),
        true
    );
    browser.type_into("#filter", "");
    browser.wait_for(
        &format!("{ROWS} === 3 && document.querySelector('#filter-error').hidden"),
        "clearing the filter brings every row back",
    );
}

#[test]
fn the_detail_pane_shows_pretty_json_and_an_image() {
    let Some(chromium) = chromium() else { return };
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    curl(&proxy, &[&origin.url("/data.json")]);
    curl(&proxy, &[&origin.url("/pixel.png")]);
    view.wait_for_flows(2);
    let mut browser = Browser::start(chromium, "the_detail_pane_shows_pretty_json_and_an_image");
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 2"), "both flows are listed");
    browser.eval("document.querySelectorAll('#rows .row')[0].click()");
    browser.wait_for(
        "!document.querySelector('#detail').hidden",
        "the detail pane opens",
    );
    browser.eval("document.querySelector('#tabs button[data-tab=response]').click()");
    browser.wait_for(
        "document.querySelector('pre.body.json')",
        "the JSON view shows",
    );
    let json = browser.eval("document.querySelector('pre.body.json').textContent");
    assert_eq!(
        json.as_str().unwrap(),
        "{\n  \"name\": \"waylay\",\n  \"items\": [\n    1,\n    2,\n    3\n  ],\n  \"nested\": {\n    \"ok\": true\n  }\n}"
    );
    browser.eval("document.querySelectorAll('#rows .row')[1].click()");
    browser.wait_for(
        "(() => { const i = document.querySelector('img.body'); return i && i.complete && i.naturalWidth === 4; })()",
        "the PNG is shown",
    );
}

#[test]
fn a_body_filter_narrows_a_loaded_file() {
    let Some(chromium) = chromium() else { return };
    let all = golden("all.mitm");
    let view = View::offline(&["-r", all.to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(chromium, "a_body_filter_narrows_a_loaded_file");
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 5"), "the file's flows are listed");
    browser.type_into("#filter", "~b \"hello from\"");
    browser.wait_for(&format!("{ROWS} === 2"), "the body filter keeps two rows");
    assert_eq!(
        urls(&mut browser),
        [
            "http://127.0.0.1:18081/hello?x=1",
            "https://127.0.0.1:18443/secure"
        ]
    );
}

#[test]
fn a_har_file_opens_and_a_websocket_shows_its_messages() {
    let Some(chromium) = chromium() else { return };
    let har = golden("all.har");
    let view = View::offline(&["-r", har.to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(chromium, "a_har_file_opens");
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} > 0"), "the HAR file's flows are listed");
    assert!(
        urls(&mut browser).iter().any(|u| u.contains("/hello")),
        "{:?}",
        urls(&mut browser)
    );
    drop(view);
    let ws = golden("websocket.mitm");
    let view = View::offline(&["-r", ws.to_str().unwrap(), "-q"]);
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 1"), "the WebSocket flow is listed");
    browser.eval("document.querySelector('#rows .row').click()");
    browser.wait_for(
        "document.querySelector('#tabs button[data-tab=messages]')",
        "a Messages tab",
    );
    browser.eval("document.querySelector('#tabs button[data-tab=messages]').click()");
    browser.wait_for(
        "document.querySelectorAll('#pane .msg').length > 0",
        "the messages show",
    );
}

#[test]
fn without_the_token_the_browser_gets_403() {
    let Some(chromium) = chromium() else { return };
    let view = View::offline(&["-r", golden("get.mitm").to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(chromium, "without_the_token_the_browser_gets_403");
    browser.goto(&format!("http://{}/", view.addr));
    browser.wait_for(
        "document.body && document.body.innerText.includes('needs its access token')",
        "the refusal shows",
    );
    // With it, the cookie carries on without the token in the address.
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 1"), "the list loads");
    assert_eq!(browser.eval("location.search"), "");
}

#[test]
fn the_keyboard_alone_moves_opens_and_replays_flows() {
    let Some(chromium) = chromium() else { return };
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(chromium, "the_keyboard_alone_moves_opens_and_replays_flows");
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 5"), "the list loads");
    browser.eval("document.querySelector('#list').focus()");
    for key in ["j", "j", "k", "j"] {
        browser.press(key);
    }
    browser.wait_for(
        "document.querySelector('.row.selected')",
        "a row is selected",
    );
    assert_eq!(
        browser.eval("document.querySelector('.row.selected').dataset.n"),
        "1"
    );
    browser.press("Enter");
    browser.wait_for(
        "document.querySelector('#tabs button.active')?.dataset.tab === 'request'",
        "the request tab opens",
    );
    browser.press("Tab");
    browser.wait_for(
        "document.querySelector('#tabs button.active')?.dataset.tab === 'response'",
        "Tab moves to the response",
    );
    browser.press("Escape");
    // r replays the selected flow: a new row, marked as a replay.
    browser.press("r");
    browser.wait_for(&format!("{ROWS} === 6"), "the replay is listed");
    browser.wait_for(
        "document.querySelectorAll('#rows .row')[5].querySelector('.icon[title=replayed]')",
        "the new row is a replay",
    );
    browser.press("/");
    assert_eq!(browser.eval("document.activeElement.id"), "filter");
}

/// A tnetstring item: `LEN:PAYLOAD TAG`.
fn item(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("{}:", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out.push(tag);
    out
}

/// A dict of text keys.
fn dict(pairs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (key, value) in pairs {
        payload.extend(item(b';', key.as_bytes()));
        payload.extend_from_slice(value);
    }
    item(b'}', &payload)
}

/// `n` small HTTP flows (about 500 bytes each), `GET /item/{i}` each.
fn many_flows(path: &std::path::Path, n: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let text = |s: &str| item(b';', s.as_bytes());
    let bytes = |s: &str| item(b',', s.as_bytes());
    let int = |i: i64| item(b'#', i.to_string().as_bytes());
    let float = |f: f64| item(b'^', format!("{f:?}").as_bytes());
    let empty = item(b']', b"");
    let null = b"0:~".to_vec();
    for i in 0..n {
        let t = 1_800_000_000.0 + i as f64 / 1000.0;
        let request = dict(&[
            ("method", bytes("GET")),
            ("scheme", bytes("http")),
            ("host", text("example.com")),
            ("port", int(80)),
            ("path", bytes(&format!("/item/{i}"))),
            ("authority", bytes("")),
            ("http_version", bytes("HTTP/1.1")),
            ("headers", empty.clone()),
            ("content", bytes("")),
            ("trailers", null.clone()),
            ("timestamp_start", float(t)),
            ("timestamp_end", float(t)),
        ]);
        let response = dict(&[
            ("status_code", int(200)),
            ("reason", bytes("OK")),
            ("http_version", bytes("HTTP/1.1")),
            ("headers", empty.clone()),
            ("content", bytes("ok")),
            ("trailers", null.clone()),
            ("timestamp_start", float(t + 0.001)),
            ("timestamp_end", float(t + 0.002)),
        ]);
        let flow = dict(&[
            ("version", int(21)),
            ("type", text("http")),
            ("id", text(&format!("00000000-0000-4000-8000-{i:012}"))),
            ("request", request),
            ("response", response),
            ("error", null.clone()),
            ("marked", text("")),
            ("comment", text("")),
            ("is_replay", null.clone()),
            ("intercepted", item(b'!', b"false")),
        ]);
        out.write_all(&flow).unwrap();
    }
    out.flush().unwrap();
}

#[test]
fn scrolling_to_the_end_of_a_million_flows_works() {
    let Some(chromium) = chromium() else { return };
    let dir = crate::support::scratch();
    let file = dir.path().join("million.mitm");
    many_flows(&file, 1_000_000);
    let view = View::offline(&["-r", file.to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(chromium, "scrolling_to_the_end_of_a_million_flows_works");
    browser.goto(&view.url());
    // The first rows show while the rest is indexed.
    browser.wait_for(&format!("{ROWS} > 10"), "the first rows show");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while view.json("/api/flows?count=1")["total"] != 1_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the million flows were never all indexed"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    browser.wait_for(
        "document.querySelector('#counts').textContent === '1,000,000 flows'",
        "the count shows every flow",
    );
    // The scroll area stays within what browsers draw, and its end is the
    // last flow.
    let height = browser.eval("document.querySelector('#spacer').offsetHeight");
    assert!(height.as_u64().unwrap() <= 8_000_000, "{height}");
    browser.eval("document.querySelector('#list').focus()");
    browser.press("G");
    browser.wait_for(
        "document.querySelector('.row.selected')?.dataset.n === '999999'",
        "the last flow is selected",
    );
    let last = browser
        .eval("[...document.querySelectorAll('#rows .row')].pop().querySelector('.c-url').title");
    assert_eq!(last, "http://example.com/item/999999");
    // Scrolling by hand to the middle shows the middle.
    browser.eval("(() => { const l = document.querySelector('#list'); l.scrollTop = (l.scrollHeight - l.clientHeight) / 2; })()");
    browser.wait_for(
        "(() => { const n = Number(document.querySelector('#rows .row').dataset.n); return n > 490000 && n < 510000; })()",
        "the middle rows show",
    );
}

#[test]
fn the_event_pane_shows_script_log_lines_by_level() {
    let Some(chromium) = chromium() else { return };
    let view = View::offline(&[
        "-r",
        golden("all.mitm").to_str().unwrap(),
        "-s",
        "examples/anatomy",
        "-q",
    ]);
    view.wait_for_flows(5);
    let log = view.json("/api/log?level=info");
    let lines: Vec<&str> = log["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&"[examples/anatomy] We've seen 5 flows"),
        "{lines:?}"
    );
    assert!(
        view.json("/api/log?level=error")["lines"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (status, _, body) = view.get("/api/log?level=loud");
    assert_eq!(status, 400);
    assert!(
        body.contains("expected debug, info, warn or error"),
        "{body}"
    );
    let mut browser = Browser::start(chromium, "the_event_pane_shows_script_log_lines_by_level");
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 5"), "the list loads");
    browser.eval("document.querySelector('#list').focus()");
    browser.press("E");
    browser.wait_for(
        "[...document.querySelectorAll('#event-lines .event')].some(e => e.textContent === \"info: [examples/anatomy] We've seen 5 flows\")",
        "the script's lines show",
    );
    browser.eval("(() => { const s = document.querySelector('#events-level'); s.value = 'error'; s.dispatchEvent(new Event('change')); })()");
    browser.wait_for(
        "document.querySelectorAll('#event-lines .event').length === 0",
        "the error level hides them",
    );
}
