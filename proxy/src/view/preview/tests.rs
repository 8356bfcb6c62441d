//! A script over chosen flows of a session: previewed on copies, then
//! applied or dropped; panics marked; flows edited since left alone.

use std::sync::{Arc, Mutex};

use waylay_sdk::{Context, Flow as SdkFlow, Level, Script as SdkScript};

use super::*;
use crate::flowfile::FlowReader;
use crate::script::{LogSink, Script};
use crate::test_support::golden;

/// Adds a header to every response; panics on `/submit`.
#[derive(Default)]
struct Stamp;

impl SdkScript for Stamp {
    fn request(&mut self, _ctx: &Context, flow: &mut SdkFlow) {
        if flow.request().path() == "/submit" {
            panic!("no submitting");
        }
    }
    fn response(&mut self, ctx: &Context, flow: &mut SdkFlow) {
        if let Some(response) = flow.response_mut() {
            response.headers_mut().set("x-stamp", "1");
        }
        ctx.info("stamped");
    }
}

#[derive(Default)]
struct Lines(Mutex<Vec<(Level, String)>>);

impl LogSink for Lines {
    fn log(&self, _script: &str, level: Level, msg: &str) {
        self.0.lock().unwrap().push((level, msg.to_owned()));
    }
}

impl Lines {
    fn last_error(&self) -> Option<String> {
        let lines = self.0.lock().unwrap();
        lines
            .iter()
            .rev()
            .find(|(l, _)| *l == Level::Error)
            .map(|(_, m)| m.clone())
    }
}

fn scripts() -> (Scripts, Arc<Lines>) {
    let lines = Arc::new(Lines::default());
    let mut scripts = Scripts::new(lines.clone());
    let descriptor = Box::leak(Box::new(waylay_sdk::__export::descriptor::<Stamp>()));
    scripts.push(Script::from_descriptor(descriptor, "stamp", vec![], &*lines).unwrap());
    (scripts, lines)
}

fn session() -> Session {
    let session = Session::temporary().unwrap();
    for flow in FlowReader::new(&golden("all.mitm")[..]) {
        session.append(&flow.unwrap()).unwrap();
    }
    session
}

fn path_of(session: &Session, n: usize) -> String {
    let flow = session.flow(n).unwrap();
    let request = flow.request().unwrap();
    String::from_utf8_lossy(request.get("path").unwrap().as_bytes().unwrap()).into_owned()
}

fn stamped(session: &Session, n: usize) -> bool {
    let flow = session.flow(n).unwrap();
    flow.response()
        .and_then(|r| crate::http::header(r, "x-stamp"))
        .is_some()
}

/// The script's preview over the `picked` flows of `session`.
fn preview_of(scripts: &Scripts, lines: &Lines, session: &Session, picked: &[usize]) -> Preview {
    run(
        scripts,
        session,
        &Selection::Numbers(picked.to_vec()),
        &Progress::default(),
        &|| lines.last_error(),
    )
    .unwrap()
    .expect("not cancelled")
}

#[test]
fn a_preview_changes_nothing_until_applied() {
    let session = session();
    let (scripts, lines) = scripts();
    let picked: Vec<usize> = (0..session.len()).collect();
    let version = session.version();
    let preview = preview_of(&scripts, &lines, &session, &picked);
    assert_eq!(preview.ran, session.len());
    assert_eq!(session.version(), version, "the preview touched the view");
    assert!(picked.iter().all(|&n| !stamped(&session, n)));
    let with_response: Vec<usize> = picked
        .iter()
        .copied()
        .filter(|&n| session.flow(n).unwrap().response().is_some())
        .collect();
    let changed: Vec<usize> = preview
        .changes
        .iter()
        .filter(|c| c.at.is_some())
        .map(|c| c.n)
        .collect();
    let submit: Vec<usize> = picked
        .iter()
        .copied()
        .filter(|&n| path_of(&session, n) == "/submit")
        .collect();
    assert!(!submit.is_empty() && !with_response.is_empty());
    // Every flow with a response is stamped, the panicking one too (its
    // request hook panicked, its response hook ran).
    assert_eq!(changed, with_response);
    let panicked: Vec<&Change> = preview
        .changes
        .iter()
        .filter(|c| c.panic.is_some())
        .collect();
    assert_eq!(panicked.iter().map(|c| c.n).collect::<Vec<_>>(), submit);
    assert!(
        panicked[0]
            .panic
            .as_deref()
            .unwrap()
            .contains("no submitting"),
        "{:?}",
        panicked[0].panic
    );
    let first = preview.changes.iter().position(|c| c.at.is_some()).unwrap();
    assert_eq!(preview.changes[first].differs, ["response headers"]);
    let diff = preview.diff(&session, first).unwrap().unwrap();
    let text = diff.to_string();
    assert!(text.contains("x-stamp"), "{text}");
    let json = preview.json(1);
    assert_eq!(json["listed"], 1);
    assert_eq!(json["changed"], with_response.len());
    assert_eq!(json["panicked"], submit.len());

    // Dropping the preview leaves the view as it was.
    drop(preview);
    assert_eq!(session.version(), version);
}

#[test]
fn applying_puts_the_changes_in_the_view_and_marks_panics() {
    let session = session();
    let (scripts, lines) = scripts();
    let picked: Vec<usize> = (0..session.len()).collect();
    let preview = preview_of(&scripts, &lines, &session, &picked);
    let applied = preview.apply(&session).unwrap();
    assert_eq!(applied.applied, preview.changes.len());
    assert_eq!(applied.skipped, 0);
    for change in &preview.changes {
        assert_eq!(stamped(&session, change.n), change.at.is_some());
        let flow = session.flow(change.n).unwrap();
        let marked = flow.text("marked").filter(|m| !m.is_empty());
        assert_eq!(
            marked,
            change.panic.as_ref().map(|_| PANIC_MARK),
            "flow {}",
            change.n
        );
        // Each applied flow can be reverted to what it was.
        assert!(session.revert(change.n).unwrap());
        assert!(!stamped(&session, change.n));
    }
}

#[test]
fn a_flow_edited_since_the_preview_is_left_alone() {
    let session = session();
    let (scripts, lines) = scripts();
    let selection = Selection::Matching(crate::filter::Filter::parse("~s").unwrap());
    let preview = run(
        &scripts,
        &session,
        &selection,
        &Progress::default(),
        &|| lines.last_error(),
    )
    .unwrap()
    .unwrap();
    // The filter picked the flows with a response, and only those ran.
    let responses = (0..session.len())
        .filter(|&n| session.flow(n).unwrap().response().is_some())
        .count();
    assert_eq!(preview.ran, responses);
    let edited = preview.changes[0].n;
    let mut flow = session.flow(edited).unwrap();
    flow.dict_mut().insert("comment", Value::text("mine"));
    session.replace(edited, &flow).unwrap();
    let deleted = preview.changes[1].n;
    session.delete(deleted).unwrap();
    let applied = preview.apply(&session).unwrap();
    assert_eq!(applied.skipped, 2);
    assert_eq!(applied.applied, preview.changes.len() - 2);
    assert!(!stamped(&session, edited));
    assert_eq!(session.flow(edited).unwrap().text("comment"), Some("mine"));
}

#[test]
fn a_cancelled_run_gives_no_preview() {
    let session = session();
    let (scripts, _) = scripts();
    let progress = Progress::default();
    progress.cancel.store(true, Ordering::Relaxed);
    let none = run(
        &scripts,
        &session,
        &Selection::Numbers(vec![0, 1]),
        &progress,
        &|| None,
    )
    .unwrap();
    assert!(none.is_none());
    let missing = run(
        &scripts,
        &session,
        &Selection::Numbers(vec![session.len()]),
        &Progress::default(),
        &|| None,
    );
    assert!(matches!(missing, Err(ReadBack::NoSuchFlow(_))));
}

#[test]
fn requests_are_read_with_one_line_errors() {
    let ok = Request::from_json(&json!({"script": "s/", "argv": ["a"], "flows": [1, 2]})).unwrap();
    assert_eq!(ok.script, "s/");
    assert_eq!(ok.argv, ["a"]);
    assert!(matches!(ok.selection, Selection::Numbers(ref ns) if ns == &[1, 2]));
    let by_filter = Request::from_json(&json!({"script": "s/", "filter": "~s"})).unwrap();
    assert!(matches!(by_filter.selection, Selection::Matching(_)));
    let cases = [
        (json!([]), "expected a JSON object"),
        (json!({"flows": [1]}), "script: expected the path"),
        (
            json!({"script": " ", "flows": [1]}),
            "script: expected the path",
        ),
        (
            json!({"script": "s", "argv": [1], "flows": [1]}),
            "argv: expected a list",
        ),
        (
            json!({"script": "s", "flows": [-1]}),
            "flows: expected flow numbers",
        ),
        (
            json!({"script": "s", "flows": "1"}),
            "flows: expected a list",
        ),
        (json!({"script": "s", "filter": "~q ~"}), "filter: "),
        (
            json!({"script": "s", "filter": 3}),
            "filter: expected a filter",
        ),
        (
            json!({"script": "s", "flows": [1], "filter": "~s"}),
            "not both",
        ),
        (json!({"script": "s"}), "expected flows"),
    ];
    for (body, want) in cases {
        let why = Request::from_json(&body).unwrap_err().to_string();
        assert!(why.contains(want), "{body}: {why}");
        assert!(!why.contains('\n'), "{why}");
    }
}
