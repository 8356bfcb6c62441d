//! A script on a selection: the crate built and run on copies of the
//! chosen flows, previewed flow by flow as a diff, then applied (or
//! discarded, leaving the view as it was); a hook that panics marks its
//! flow and the others go on; bad requests and crates that do not
//! compile refused in one line; the same in Chromium.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cdp::{Browser, chromium};
use crate::support::{broken_crate, golden, scratch};
use crate::web::{View, wait_for_log};

const PANICKY: &str = "runner/tests/fixtures/panicky";

/// The view over all.mitm, browsed where it is.
fn view_of_all() -> View {
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    view.wait_for_flows(1);
    view
}

/// Every row the view lists.
fn rows(view: &View) -> Vec<Value> {
    view.json("/api/flows?count=1000")["rows"]
        .as_array()
        .unwrap()
        .clone()
}

/// Starts a run; its number.
fn start(view: &View, body: Value) -> u64 {
    let (status, answer) = view.post("/api/runs", Some(body));
    assert_eq!(status, 202, "{answer}");
    serde_json::from_str::<Value>(&answer).unwrap()["run"]
        .as_u64()
        .unwrap()
}

/// Run `r` once it is past building and running (a first build of the
/// fixture may take a few minutes on a cold target directory).
fn settled(view: &View, r: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let run = view.json(&format!("/api/runs/{r}"));
        if !matches!(run["stage"].as_str(), Some("building" | "running")) {
            return run;
        }
        assert!(Instant::now() < deadline, "run {r} did not finish: {run}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether a row has a response (an error flow's status is 0).
fn answered(row: &Value) -> bool {
    row["status"].as_u64().is_some_and(|s| s > 0)
}

/// Flow `n`'s response's `touched` field, which the panicky fixture adds.
fn touched(view: &View, n: u64) -> Option<String> {
    header(
        &view.json(&format!("/api/flows/{n}")),
        "response",
        "touched",
    )
    .map(str::to_owned)
}

fn header<'a>(flow: &'a Value, which: &str, name: &str) -> Option<&'a str> {
    flow[which]["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str())
}

#[test]
fn a_script_on_chosen_flows_is_previewed_then_applied() {
    let view = view_of_all();
    let listed = rows(&view);
    let numbers: Vec<u64> = listed.iter().map(|r| r["n"].as_u64().unwrap()).collect();
    let answered: Vec<u64> = listed
        .iter()
        .filter(|r| answered(r))
        .map(|r| r["n"].as_u64().unwrap())
        .collect();
    let submit = listed
        .iter()
        .find(|r| r["url"].as_str().unwrap().ends_with("/submit"))
        .expect("all.mitm has a /submit")["n"]
        .as_u64()
        .unwrap();

    let scripts = view.json("/api/scripts");
    assert_eq!(scripts["loaded"], json!([]), "no -s scripts here");

    let r = start(&view, json!({"script": PANICKY, "flows": numbers}));
    let run = settled(&view, r);
    assert_eq!(run["stage"], "previewed", "{run}");
    assert!(run["build_ms"].is_u64() && run["run_ms"].is_u64(), "{run}");
    let preview = &run["preview"];
    assert_eq!(preview["ran"], numbers.len(), "{run}");
    // Every answered flow changes but /submit, whose response hook
    // panicked: it is left as it was before the hook, and marked.
    let changed: Vec<u64> = preview["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["changed"] == true)
        .map(|c| c["n"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = answered.iter().copied().filter(|&n| n != submit).collect();
    assert_eq!(changed, expected, "{run}");
    let panicked: Vec<&Value> = preview["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["panic"].is_null())
        .collect();
    assert_eq!(panicked.len(), 1, "{run}");
    assert_eq!(panicked[0]["n"], submit);
    assert!(
        panicked[0]["panic"]
            .as_str()
            .unwrap()
            .contains("cannot handle submissions"),
        "{run}"
    );
    // The panic reached the event pane.
    wait_for_log(&view, "cannot handle submissions");

    // The first change, before and after.
    let first = &preview["changes"][0];
    assert_eq!(first["differs"], json!(["response headers"]), "{run}");
    let diff = view.json(&format!("/api/runs/{r}/diff?i=0"));
    let added: Vec<&Value> = diff["response"]["headers"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["state"] == "added")
        .collect();
    assert_eq!(added.len(), 1, "{diff}");
    assert_eq!(added[0]["name"], "touched", "{diff}");

    // Nothing changed yet.
    let n = first["n"].as_u64().unwrap();
    assert_eq!(touched(&view, n), None);

    let (status, answer) = view.post(&format!("/api/runs/{r}/apply"), None);
    assert_eq!(status, 200, "{answer}");
    let applied: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(applied["applied"], expected.len() + 1, "{answer}");
    assert_eq!(applied["skipped"], 0);
    for &n in &expected {
        let flow = view.json(&format!("/api/flows/{n}"));
        assert_eq!(header(&flow, "response", "touched"), Some("yes"), "{flow}");
    }
    let submitted = view.json(&format!("/api/flows/{submit}"));
    assert_eq!(header(&submitted, "response", "touched"), None);
    assert_eq!(submitted["marked"], ":red_circle:");
    assert_eq!(settled(&view, r)["stage"], "applied");
    // Applied once only; a revert undoes one flow's change.
    let (status, answer) = view.post(&format!("/api/runs/{r}/apply"), None);
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer.contains("no preview to apply (it is applied)"),
        "{answer}"
    );
    assert_eq!(view.post(&format!("/api/flows/{n}/revert"), None).0, 204);
    assert_eq!(touched(&view, n), None);
}

#[test]
fn a_discarded_preview_leaves_the_view_as_it_was() {
    let view = view_of_all();
    let before = rows(&view);
    let r = start(
        &view,
        json!({"script": PANICKY, "filter": "~s & !~u submit"}),
    );
    let run = settled(&view, r);
    assert_eq!(run["stage"], "previewed", "{run}");
    let preview = &run["preview"];
    let with_response = before.iter().filter(|r| answered(r)).count();
    assert_eq!(preview["ran"], with_response - 1, "{run}");
    assert_eq!(preview["panicked"], 0, "{run}");
    let (status, _) = view.post(&format!("/api/runs/{r}/discard"), None);
    assert_eq!(status, 204);
    assert_eq!(settled(&view, r)["stage"], "discarded");
    let (status, answer) = view.post(&format!("/api/runs/{r}/apply"), None);
    assert_eq!(status, 409, "{answer}");
    assert_eq!(rows(&view), before);
    for row in &before {
        let flow = view.json(&format!("/api/flows/{}", row["n"]));
        assert_eq!(header(&flow, "response", "touched"), None);
    }
}

#[test]
fn bad_runs_are_refused_in_one_line() {
    let view = view_of_all();
    let refused = |status: u16, body: &str, says: &str| {
        let why = serde_json::from_str::<Value>(body).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(why.contains(says), "{status} {why:?} lacks {says:?}");
        assert!(!why.contains('\n'), "{why:?}");
        status
    };
    for (body, says) in [
        (
            json!({"flows": [0]}),
            "script: expected the path of a script crate",
        ),
        (
            json!({"script": PANICKY}),
            "expected flows: [N, ...] or filter: EXPR",
        ),
        (json!({"script": PANICKY, "filter": "~q ~"}), "filter: "),
        (
            json!({"script": PANICKY, "flows": ["a"]}),
            "flows: expected flow numbers",
        ),
    ] {
        let (status, answer) = view.post("/api/runs", Some(body));
        assert_eq!(refused(status, &answer, says), 400);
    }
    let (status, answer) = view.post_bytes("/api/runs", "application/json", b"{nope");
    assert_eq!(status, 400, "{answer}");

    // A script that is not there: the run fails, and says where.
    let r = start(&view, json!({"script": "no/such/crate", "flows": [0]}));
    let run = settled(&view, r);
    assert_eq!(run["stage"], "failed", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("no/such/crate"),
        "{run}"
    );
    // A crate that does not compile: cargo's errors in the build lines,
    // one line for the failure.
    let dir = scratch();
    broken_crate(dir.path());
    let path = dir.path().to_str().unwrap();
    let r = start(&view, json!({"script": path, "flows": [0]}));
    let run = settled(&view, r);
    assert_eq!(run["stage"], "failed", "{run}");
    assert_eq!(
        run["error"],
        format!("{path}: the script crate does not compile; fix the errors cargo printed above"),
    );
    let build = run["build"].as_array().unwrap();
    assert!(
        build.iter().any(|l| l
            .as_str()
            .unwrap()
            .contains("error[E0308]: mismatched types")),
        "{run}"
    );
    // A flow that is not there.
    let r = start(&view, json!({"script": PANICKY, "flows": [999]}));
    let run = settled(&view, r);
    assert_eq!(run["stage"], "failed", "{run}");
    assert!(run["error"].as_str().unwrap().contains("999"), "{run}");
    let (status, _, body) = view.get("/api/runs/77");
    assert_eq!(refused(status, &body, "run 77 is not kept"), 404);
    let (status, _, body) = view.get(&format!("/api/runs/{r}/diff?i=0"));
    assert_eq!(
        refused(status, &body, "has no preview to show (it is failed)"),
        409
    );
    // The view carries on.
    assert!(!rows(&view).is_empty());
}

#[test]
fn a_script_on_three_selected_flows_in_the_page() {
    let Some(chromium) = chromium() else { return };
    let view = view_of_all();
    let answered: Vec<u64> = rows(&view)
        .iter()
        .filter(|r| answered(r) && !r["url"].as_str().unwrap().ends_with("/submit"))
        .map(|r| r["n"].as_u64().unwrap())
        .take(3)
        .collect();
    assert_eq!(
        answered.len(),
        3,
        "all.mitm has three answered flows besides /submit"
    );
    let mut browser = Browser::start(chromium, "a_script_on_three_selected_flows");
    browser.goto(&view.url());
    browser.wait_for(
        "document.querySelectorAll('#rows .row').length > 3",
        "the flows are listed",
    );
    for n in &answered {
        browser.ctrl_click(&format!("#rows .row[data-n='{n}']"));
    }
    browser.wait_for(
        "document.querySelector('#selection')?.textContent.includes('3')",
        "three flows are selected",
    );
    browser.eval("document.querySelector('#run-open').click()");
    browser.wait_for(
        "document.querySelector('#run-on-chosen') && !document.querySelector('#run-on-chosen').disabled",
        "the Run pane offers the selection",
    );
    browser.eval(&format!(
        "document.querySelector('#run-script').value = {PANICKY:?}; document.querySelector('#run-on-chosen').checked = true; document.querySelector('#run-preview').click()"
    ));
    browser.wait_for_long(
        "document.querySelectorAll('#run-changes .run-change').length === 3",
        "the preview lists the three flows",
        Duration::from_secs(600),
    );
    browser.wait_for(
        "[...document.querySelectorAll('#run-diff table.compare td')].some(td => td.textContent === 'touched')",
        "the preview shows the added header as a diff",
    );
    browser.eval("document.querySelector('#run-apply').click()");
    browser.wait_for(
        "document.querySelector('#run-stage')?.textContent.startsWith('Applied to 3 flow(s)')",
        "the preview is applied",
    );
    for n in answered {
        let flow = view.json(&format!("/api/flows/{n}"));
        assert_eq!(header(&flow, "response", "touched"), Some("yes"), "{flow}");
    }
}

#[test]
fn an_s_script_runs_again_fresh_with_its_set_options() {
    let view = View::offline(&[
        "-r",
        golden("all.mitm").to_str().unwrap(),
        "-s",
        "examples/options-simple",
        "--set",
        "addheader=true",
        "-q",
    ]);
    view.wait_for_flows(5);
    let scripts = view.json("/api/scripts");
    assert_eq!(
        scripts["loaded"],
        json!([{"script": "examples/options-simple", "argv": []}])
    );
    // The -s run numbered the responses; the last answered flow's count is
    // above 1.
    let last = rows(&view)
        .iter()
        .filter(|r| answered(r))
        .map(|r| r["n"].as_u64().unwrap())
        .max()
        .unwrap();
    let flow = view.json(&format!("/api/flows/{last}"));
    assert_ne!(header(&flow, "response", "count"), Some("1"), "{flow}");
    // Run again on that flow alone: a fresh instance (its count starts
    // again) with addheader=true as --set gave it.
    let r = start(
        &view,
        json!({"script": "examples/options-simple", "flows": [last]}),
    );
    let run = settled(&view, r);
    assert_eq!(run["preview"]["changed"], 1, "{run}");
    let diff = view.json(&format!("/api/runs/{r}/diff?i=0"));
    let count = diff["response"]["headers"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "count")
        .cloned()
        .unwrap();
    assert_eq!(count["right"], json!(["1"]), "{diff}");
    assert_eq!(count["state"], "changed", "{diff}");
}
