//! Server replay over flows in memory: which recording each request gets
//! under every option, pop and reuse order, the extra behaviours live and
//! offline, refresh. (`runner/tests/cli/server_replay.rs` compares with
//! mitmdump.)

use std::sync::Mutex;

use super::*;
use crate::addons::{Addons, Options, Stage};
use crate::testing::read_flows;

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl LogSink for Lines {
    fn log(&self, script: &str, level: Level, msg: &str) {
        self.0
            .lock()
            .unwrap()
            .push(format!("[{script}] {level:?} {msg}"));
    }
}

/// A flow like get.mitm's first (GET http://127.0.0.1:18081/hello?x=1),
/// changed by `set` (request fields and headers), answered with `body`
/// (no response for `None`).
fn flow(set: &[(&str, &str)], body: Option<&str>) -> Flow {
    let mut flow = read_flows(format!(
        "{}/../testdata/flows/get.mitm",
        env!("CARGO_MANIFEST_DIR")
    ))
    .remove(0);
    let req = flow.message_mut(Which::Request).unwrap();
    for (name, value) in set {
        match name.strip_prefix("h:") {
            Some(h) => http::set_header(req, h.as_bytes(), value.as_bytes()),
            None if *name == "port" => req.insert("port", Value::Int(value.parse().unwrap())),
            None => req.insert(name, Value::bytes(value.as_bytes())),
        }
    }
    match body {
        Some(b) => {
            let resp = flow.message_mut(Which::Response).unwrap();
            resp.insert("content", Value::bytes(b.as_bytes()));
        }
        None => {
            flow.dict_mut().insert("response", Value::Null);
        }
    }
    flow
}

/// The request of `flow(set, ..)` without a response, as it arrives live.
fn request(set: &[(&str, &str)]) -> Flow {
    flow(set, None)
}

fn addons(recorded: Vec<Flow>, set: impl FnOnce(&mut ReplayOptions)) -> Addons {
    let mut o = Options::default();
    o.server_replay.flows = recorded.into();
    set(&mut o.server_replay);
    Addons::new(&o).unwrap()
}

/// Runs `request` through the `request` hook; what it got: the replayed
/// body, `status:N` for a made response, `killed`, or `-` for nothing.
fn serve(addons: &Addons, mut flow: Flow, live: bool) -> (String, Flow, Vec<String>) {
    let log = Lines::default();
    let killed = addons.run(Stage::AfterScripts, Event::Request, &mut flow, live, &log);
    let got = if killed {
        "killed".to_owned()
    } else {
        match flow.response() {
            None => "-".to_owned(),
            Some(r) if r.get("status_code").and_then(Value::as_int) != Some(200) => {
                format!("status:{}", r.get("status_code").unwrap().as_int().unwrap())
            }
            Some(r) => String::from_utf8_lossy(http::raw(r, "content")).into_owned(),
        }
    };
    (got, flow, log.0.into_inner().unwrap())
}

fn got(addons: &Addons, set: &[(&str, &str)]) -> String {
    serve(addons, request(set), true).0
}

#[test]
fn pops_in_file_order_then_forwards() {
    let a = addons(
        vec![
            flow(&[], Some("r1")),
            flow(&[], None),
            flow(&[], Some("r2")),
            flow(&[("path", "/other")], Some("o")),
        ],
        |o| o.extra = Extra::Status(404),
    );
    let (body, served, _) = serve(&a, request(&[]), true);
    assert_eq!(body, "r1");
    assert_eq!(served.text("is_replay"), Some("response"));
    assert_eq!(got(&a, &[]), "r2"); // the one without a response skipped
    assert_eq!(got(&a, &[]), "status:404"); // /other is left
    assert_eq!(got(&a, &[("path", "/other")]), "o");
    // Nothing left: even extra=404 forwards.
    assert_eq!(got(&a, &[("path", "/nope")]), "-");
}

#[test]
fn reuse_serves_the_first_with_a_response_forever() {
    let a = addons(
        vec![
            flow(&[], None),
            flow(&[], Some("r1")),
            flow(&[], Some("r2")),
        ],
        |o| o.reuse = true,
    );
    for _ in 0..3 {
        assert_eq!(got(&a, &[]), "r1");
    }
    // A key whose recordings have no response stays, as in mitmproxy;
    // its requests get the extra behaviour.
    let a = addons(vec![flow(&[], None)], |o| {
        o.reuse = true;
        o.extra = Extra::Status(500);
    });
    assert_eq!(got(&a, &[]), "status:500");
    assert_eq!(got(&a, &[("path", "/x")]), "status:500");
}

#[test]
fn matched_recordings_without_a_response_are_no_answer() {
    let a = addons(
        vec![flow(&[], None), flow(&[("path", "/b")], Some("b"))],
        |o| o.extra = Extra::Status(400),
    );
    // Matched, but nothing to serve: the extra behaviour, as mitmproxy.
    assert_eq!(got(&a, &[]), "status:400");
    assert_eq!(got(&a, &[]), "status:400");
    assert_eq!(got(&a, &[("path", "/b")]), "b");
    assert_eq!(got(&a, &[]), "-");
}

#[test]
fn extra_responses_and_kills() {
    let recorded = || vec![flow(&[("path", "/kept")], Some("k"))];
    let a = addons(recorded(), |o| o.extra = Extra::Status(204));
    let (body, served, log) = serve(&a, request(&[]), true);
    assert_eq!(body, "status:204");
    let resp = served.response().unwrap();
    assert_eq!(http::raw(resp, "reason"), b"No Content");
    assert_eq!(http::header(resp, "content-length"), Some(&b"0"[..]));
    assert_eq!(served.text("is_replay"), Some("response"));
    assert_eq!(
        log,
        [
            "[server_replay] Warn server_playback: returned 204 non-replay request http://127.0.0.1:18081/hello?x=1"
        ]
    );

    let a = addons(recorded(), |o| o.extra = Extra::Kill);
    let (body, served, log) = serve(&a, request(&[]), true);
    assert_eq!(body, "killed");
    assert_eq!(served.error_msg(), Some("Connection killed."));
    assert!(log[0].ends_with("killed non-replay request http://127.0.0.1:18081/hello?x=1"));
    // Offline a flow cannot be killed: said so, left alone.
    let (body, served, log) = serve(&a, flow(&[], Some("orig")), false);
    assert_eq!(body, "orig");
    assert_eq!(served.error_msg(), None);
    assert!(log[1].contains("cannot be killed"), "{log:?}");

    let a = addons(recorded(), |_| {});
    assert_eq!(got(&a, &[]), "-");
}

#[test]
fn offline_flows_get_the_recorded_response() {
    let a = addons(vec![flow(&[], Some("recorded"))], |_| {});
    let (body, served, _) = serve(&a, flow(&[], Some("original")), false);
    assert_eq!(body, "recorded");
    assert_eq!(served.text("is_replay"), Some("response"));
}

/// Data-driven: a recording at `recorded`, a request at `asked`, whether
/// they match under the options `set` chooses.
#[test]
fn what_the_key_holds() {
    type Set = fn(&mut ReplayOptions);
    let none: Set = |_| {};
    let form = "application/x-www-form-urlencoded";
    let multipart = "multipart/form-data; boundary=B";
    let part = |pairs: &[(&str, &str)]| {
        let mut body = String::new();
        for (k, v) in pairs {
            body += &format!("--B\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n");
        }
        body + "--B--\r\n"
    };
    let mp_a = part(&[("a", "1"), ("t", "x")]);
    let mp_b = part(&[("a", "1"), ("t", "y")]);
    type Fields<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Fields, Fields, Set, bool)> = vec![
        (vec![], vec![], none, true),
        (vec![], vec![("method", "POST")], none, false),
        (vec![], vec![("scheme", "https")], none, false),
        (vec![], vec![("path", "/hello?x=2")], none, false),
        (vec![], vec![("path", "/hello?x=1#frag")], none, true),
        (
            vec![("path", "/a;p=1?x=1")],
            vec![("path", "/a;p=2?x=1")],
            none,
            true,
        ),
        (
            vec![("path", "/a;p/b")],
            vec![("path", "/a;q/b")],
            none,
            false,
        ),
        (
            vec![("path", "/h?a=1&a=2")],
            vec![("path", "/h?a=2&a=1")],
            none,
            false,
        ),
        (
            vec![("path", "/h?a=%20&b")],
            vec![("path", "/h?a=+&b=")],
            none,
            true,
        ),
        (
            vec![("path", "/h?a=%E9")],
            vec![("path", "/h?a=%FF")],
            none,
            true,
        ),
        (
            vec![("path", "/h?x=1&t=5")],
            vec![("path", "/h?t=6&x=1")],
            |o| o.ignore_params = vec!["t".into()],
            true,
        ),
        (
            vec![("path", "/h?x=1&t=5")],
            vec![("path", "/h?x=1&t=6")],
            none,
            false,
        ),
        (vec![("content", "a")], vec![("content", "b")], none, false),
        (
            vec![("content", "a")],
            vec![("content", "b")],
            |o| o.ignore_content = true,
            true,
        ),
        (
            vec![("h:Host", "a.example")],
            vec![("h:Host", "b.example")],
            none,
            false,
        ),
        (
            vec![("h:Host", "a.example")],
            vec![("h:Host", "b.example")],
            |o| o.ignore_host = true,
            true,
        ),
        // pretty_host: the Host header wins over the address.
        (
            vec![("h:Host", "site"), ("host", "1.1.1.1")],
            vec![("h:Host", "site:81"), ("host", "2.2.2.2")],
            none,
            true,
        ),
        (vec![("port", "1")], vec![("port", "2")], none, false),
        (
            vec![("port", "1")],
            vec![("port", "2")],
            |o| o.ignore_port = true,
            true,
        ),
        (vec![("h:X-A", "1")], vec![("h:X-A", "2")], none, true),
        (
            vec![("h:X-A", "1")],
            vec![("h:X-A", "2")],
            |o| o.use_headers = vec!["x-a".into()],
            false,
        ),
        (
            vec![("h:X-A", "1")],
            vec![("h:x-a", "1")],
            |o| o.use_headers = vec!["X-A".into()],
            true,
        ),
        (
            vec![],
            vec![("h:X-A", "")],
            |o| o.use_headers = vec!["X-A".into()],
            false,
        ),
        (
            vec![("h:Content-Type", form), ("content", "a=1&t=2")],
            vec![("h:Content-Type", form), ("content", "t=3&a=1")],
            |o| o.ignore_payload_params = vec!["t".into()],
            true,
        ),
        (
            vec![("h:Content-Type", form), ("content", "a=1&t=2")],
            vec![("h:Content-Type", form), ("content", "a=2&t=2")],
            |o| o.ignore_payload_params = vec!["t".into()],
            false,
        ),
        (
            vec![("h:Content-Type", form), ("content", "a=1&t=2")],
            vec![("h:Content-Type", form), ("content", "a=1&t=3")],
            none,
            false,
        ),
        // A form whose items are all ignored matches an empty body's... no:
        // the empty body has no items, so its raw content is the key.
        (
            vec![("h:Content-Type", form), ("content", "t=2")],
            vec![("h:Content-Type", form), ("content", "")],
            |o| o.ignore_payload_params = vec!["t".into()],
            false,
        ),
        (
            vec![("h:Content-Type", multipart), ("content", &mp_a)],
            vec![("h:Content-Type", multipart), ("content", &mp_b)],
            |o| o.ignore_payload_params = vec!["t".into()],
            true,
        ),
        (
            vec![("h:Content-Type", multipart), ("content", &mp_a)],
            vec![("h:Content-Type", multipart), ("content", &mp_b)],
            |o| o.ignore_payload_params = vec!["other".into()],
            false,
        ),
    ];
    for (i, (recorded, asked, set, matches)) in cases.into_iter().enumerate() {
        let a = addons(vec![flow(&recorded, Some("hit"))], set);
        let want = if matches { "hit" } else { "-" };
        assert_eq!(got(&a, &asked), want, "case {i}: {recorded:?} vs {asked:?}");
    }
}

#[test]
fn refresh_moves_dates_unless_off() {
    let mut recorded = flow(&[], Some("r"));
    let date = |f: &Flow| http::header(f.response().unwrap(), "date").map(<[u8]>::to_vec);
    let before = date(&recorded).unwrap();
    assert_eq!(before, b"Mon, 23 Nov 2026 23:39:22 GMT");
    // Recorded an hour ago, so the date moves forward to about now.
    let resp = recorded.message_mut(Which::Response).unwrap();
    resp.insert("timestamp_start", Value::Float(now() - 3600.0));
    let a = addons(vec![recorded.clone()], |_| {});
    let (_, served, _) = serve(&a, request(&[]), true);
    let after = String::from_utf8(date(&served).unwrap()).unwrap();
    assert_eq!(after, "Tue, 24 Nov 2026 00:39:22 GMT");
    let a = addons(vec![recorded], |o| o.refresh = false);
    let (_, served, _) = serve(&a, request(&[]), true);
    assert_eq!(date(&served).unwrap(), before);
}

#[test]
fn the_index_holds_http_flows_only_and_counts() {
    let mut tcp = flow(&[], Some("t"));
    tcp.dict_mut().insert("type", Value::text("tcp"));
    let s = ServerReplay::new(&ReplayOptions {
        flows: vec![tcp, flow(&[], Some("a")), flow(&[], None)].into(),
        ..ReplayOptions::default()
    });
    assert_eq!(s.count(), 2);
    assert_eq!(Extra::parse("404"), Some(Extra::Status(404)));
    assert_eq!(Extra::parse("kill"), Some(Extra::Kill));
    assert_eq!(Extra::parse("201"), None);
}
