//! The web view's page in headless Chromium, past the basics: the command
//! palette, choosing several flows, request and response side by side,
//! the HTML, XML and multipart views, comments, and opening a file from
//! the page. A failing test leaves a screenshot in
//! `target/web-screenshots/`.

use crate::cdp::{Browser, chromium};
use crate::origin::Origin;
use crate::support::{Proxy, curl, golden};
use crate::web::View;

/// How many rows the list shows.
const ROWS: &str = "document.querySelectorAll('#rows .row').length";

/// The marks of the view's flows, in order.
fn marks(view: &View) -> Vec<String> {
    view.json("/api/flows")["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["marked"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Waits until `check` holds for the view, for at most 20 s.
fn wait_until(view: &View, what: &str, check: impl Fn(&View) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !check(view) {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_command_palette_finds_an_action_by_name_and_runs_it() {
    let Some(chromium) = chromium() else { return };
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(
        chromium,
        "the_command_palette_finds_an_action_by_name_and_runs_it",
    );
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 5"), "the list loads");
    browser.eval("document.querySelectorAll('#rows .row')[2].click()");
    browser.wait_for(
        "!document.querySelector('#detail').hidden",
        "the flow opens",
    );
    browser.eval("document.querySelector('#list').focus()");
    browser.press_ctrl("k");
    browser.wait_for(
        "document.querySelector('#palette input') === document.activeElement",
        "the palette opens",
    );
    browser.type_into("#palette input", "mark red");
    browser.wait_for(
        "[...document.querySelectorAll('.palette-item')].map(e => e.firstChild.textContent).join() === 'Mark red'",
        "typing narrows the palette to one command",
    );
    browser.press("Enter");
    browser.wait_for("!document.querySelector('#palette')", "the palette closes");
    wait_until(&view, "the third flow is marked red", |v| {
        marks(v)[2] == ":red:"
    });
    assert_eq!(marks(&view), ["", "", ":red:", "", ""]);
    // Escape closes it without running anything.
    browser.press_ctrl("k");
    browser.wait_for(
        "document.querySelector('#palette')",
        "the palette opens again",
    );
    browser.press("Escape");
    browser.wait_for("!document.querySelector('#palette')", "Escape closes it");
    // A command that moves the focus keeps it there.
    browser.press_ctrl("k");
    browser.wait_for(
        "document.querySelector('#palette')",
        "the palette opens a third time",
    );
    browser.type_into("#palette input", "filter");
    browser.press("Enter");
    browser.wait_for(
        "document.activeElement?.id === 'filter'",
        "the Filter command leaves the focus in the filter box",
    );
}

#[test]
fn several_chosen_flows_are_marked_and_exported_together() {
    let Some(chromium) = chromium() else { return };
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(
        chromium,
        "several_chosen_flows_are_marked_and_exported_together",
    );
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 5"), "the list loads");
    browser.ctrl_click("#rows .row:nth-child(1)");
    browser.ctrl_click("#rows .row:nth-child(4)");
    browser.wait_for(
        "document.querySelector('#selection strong')?.textContent === '2 selected'",
        "the selection bar counts two flows",
    );
    browser.eval("[...document.querySelectorAll('#selection button')].find(b => b.textContent === 'Mark').click()");
    wait_until(&view, "both chosen flows are marked", |v| {
        marks(v) == [":default:", "", "", ":default:", ""]
    });
    let href = browser.eval(
        "[...document.querySelectorAll('#selection a')].find(a => a.textContent === 'Export .mitm').getAttribute('href')",
    );
    assert_eq!(href, "/api/save?format=mitm&flows=0,3");
    let (status, _, body) = view.get(href.as_str().unwrap());
    assert_eq!(status, 200);
    assert_eq!(
        body.matches("4:type;4:http;").count(),
        2,
        "two flows in the export"
    );
}

#[test]
fn side_by_side_and_the_html_xml_and_multipart_views() {
    let Some(chromium) = chromium() else { return };
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    curl(&proxy, &[&origin.url("/page.html")]);
    curl(&proxy, &[&origin.url("/feed.xml")]);
    curl(
        &proxy,
        &[
            "-F",
            "name=waylay",
            "-F",
            "note=two words",
            &origin.url("/upload?x=1&y=two"),
        ],
    );
    view.wait_for_flows(3);
    let mut browser = Browser::start(
        chromium,
        "side_by_side_and_the_html_xml_and_multipart_views",
    );
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 3"), "three flows are listed");
    browser.eval("document.querySelectorAll('#rows .row')[0].click()");
    browser.wait_for(
        "!document.querySelector('#detail').hidden",
        "the flow opens",
    );
    browser.eval("document.querySelector('#list').focus()");
    browser.press("s");
    browser.wait_for(
        "document.querySelectorAll('.side-by-side .side').length === 2 && document.querySelector('.side-by-side .side:nth-child(2) pre.body.markup')",
        "request and response sit side by side",
    );
    let sides = browser.eval("[...document.querySelectorAll('.side-by-side .side h3:first-child')].map(h => h.textContent)");
    assert!(
        sides[0].as_str().unwrap().starts_with("GET http://"),
        "{sides}"
    );
    assert!(
        sides[1].as_str().unwrap().starts_with("HTTP/1.1 200"),
        "{sides}"
    );
    let html = browser.eval("document.querySelector('.side-by-side pre.body.markup').textContent");
    assert_eq!(
        html.as_str().unwrap(),
        "<html>\n  <body>\n    <p id=\"page\">\n      hello from the page\n    </p>\n    <script src=\"/app.js\">\n    </script>\n  </body>\n</html>"
    );
    browser.press("s");
    browser.eval("document.querySelectorAll('#rows .row')[1].click()");
    browser.eval("document.querySelector('#tabs button[data-tab=response]')?.click()");
    browser.wait_for(
        "document.querySelector('#pane pre.body.markup')?.textContent.startsWith('<?xml')",
        "the XML view shows",
    );
    let xml = browser.eval("document.querySelector('#pane pre.body.markup').textContent");
    assert_eq!(
        xml.as_str().unwrap(),
        "<?xml version=\"1.0\"?>\n<feed>\n  <entry id=\"1\">\n    <title>\n      first\n    </title>\n  </entry>\n</feed>"
    );
    browser.eval("document.querySelectorAll('#rows .row')[2].click()");
    browser.eval("document.querySelector('#tabs button[data-tab=request]')?.click()");
    browser.wait_for(
        "document.querySelector('table.multipart')",
        "the multipart view shows",
    );
    let parts = browser.eval(
        "[...document.querySelectorAll('table.multipart tr')].slice(1).map(r => [...r.children].map(c => c.textContent))",
    );
    assert_eq!(
        parts,
        serde_json::json!([["name", "", "", "waylay"], ["note", "", "", "two words"]])
    );
    let query = browser.eval("[...document.querySelectorAll('#pane table.kv')][0].textContent");
    assert_eq!(query, "x1ytwo");
}

#[test]
fn a_comment_is_written_in_the_page_and_kept() {
    let Some(chromium) = chromium() else { return };
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(chromium, "a_comment_is_written_in_the_page_and_kept");
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 5"), "the list loads");
    browser.eval("document.querySelectorAll('#rows .row')[1].click()");
    browser.wait_for(
        "document.querySelector('#tabs button[data-tab=comment]')",
        "the tabs show",
    );
    browser.eval("document.querySelector('#tabs button[data-tab=comment]').click()");
    browser.wait_for(
        "document.querySelector('#comment-text')",
        "the comment box shows",
    );
    browser.type_into("#comment-text", "looks like the login");
    browser.eval("[...document.querySelectorAll('#pane button')].find(b => b.textContent === 'Save comment').click()");
    wait_until(&view, "the comment is kept", |v| {
        v.json("/api/flows/1")["comment"] == "looks like the login"
    });
}

#[test]
fn a_capture_opens_from_the_page() {
    let Some(chromium) = chromium() else { return };
    let view = View::offline(&["-r", golden("websocket.mitm").to_str().unwrap(), "-q"]);
    let mut browser = Browser::start(chromium, "a_capture_opens_from_the_page");
    browser.goto(&view.url());
    browser.wait_for(&format!("{ROWS} === 1"), "the list loads");
    browser.set_file("#open-file", &golden("all.mitm"));
    browser.wait_for(
        &format!("{ROWS} === 6"),
        "the opened file's five flows join the list",
    );
    browser.set_file("#open-file", &golden("all.har"));
    browser.wait_for(&format!("{ROWS} === 11"), "a HAR file opens too");
}
