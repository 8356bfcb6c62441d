//! The rewriting addons over flows in memory: Python's escapes and
//! `re.sub`, each addon's effect live and offline, and the one line each
//! malformed spec gets. (`runner/tests/cli/rewrite*.rs` compares them
//! with mitmdump.)

use std::sync::{Arc, Mutex};

use super::spec::{Template, escape_decode, sub_bytes, sub_text};
use super::{Addons, Options, Stage};
use crate::event::{Event, Level, LogSink};
use crate::flow::Flow;
use crate::http::{self, Which};
use crate::testing::read_flows;

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl LogSink for Lines {
    fn log(&self, script: &str, _: Level, msg: &str) {
        self.0.lock().unwrap().push(format!("[{script}] {msg}"));
    }
}

fn golden(name: &str) -> Vec<Flow> {
    read_flows(format!(
        "{}/../testdata/flows/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// The first flow of get.mitm: GET http://127.0.0.1:18081/hello?x=1 → 200.
fn get() -> Flow {
    golden("get.mitm").remove(0)
}

fn header(flow: &Flow, which: Which, name: &str) -> Option<String> {
    http::header(flow.message(which)?, name).map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Runs `events` of `flow` through the addons, after (and before) no
/// scripts, as the dispatch point does. Live, the request's events come
/// before the response exists: it is taken out for them.
fn run(addons: &Addons, flow: &mut Flow, live: bool, events: &[Event]) -> Vec<String> {
    let log = Arc::new(Lines::default());
    let response = if live {
        flow.dict_mut().remove("response")
    } else {
        None
    };
    for event in events {
        if matches!(event, Event::ResponseHeaders | Event::Response)
            && let Some(r) = response.clone()
            && flow.response().is_none()
        {
            flow.dict_mut().insert("response", r);
        }
        addons.run(Stage::BeforeScripts, *event, flow, live, &*log);
        addons.run(Stage::AfterScripts, *event, flow, live, &*log);
    }
    log.0.lock().unwrap().clone()
}

fn options(set: impl FnOnce(&mut Options)) -> Addons {
    let mut o = Options::default();
    set(&mut o);
    Addons::new(&o).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn python_escapes_and_substitution() {
    assert_eq!(escape_decode(r"a\nb").unwrap(), b"a\nb");
    assert_eq!(escape_decode(r"\x41\101\q\\").unwrap(), b"AA\\q\\");
    assert_eq!(escape_decode("é").unwrap(), "é".as_bytes());
    assert_eq!(escape_decode(r#"\'\""#).unwrap(), b"'\"");
    assert_eq!(escape_decode("\\").unwrap_err(), "Trailing \\ in string");
    assert_eq!(
        escape_decode(r"\x4").unwrap_err(),
        "invalid \\x escape at position 0"
    );

    let re = |p: &[u8]| crate::filter::bytes_regex(p, false, false, true).unwrap();
    let t = |t: &[u8], r: &regex::bytes::Regex| Template::for_bytes(t, r).unwrap();
    let x = re(b"x*");
    assert_eq!(sub_bytes(&x, &t(b"-", &x), b"abxd"), b"-a-b--d-");
    let o = re(b"(?P<w>o)");
    assert_eq!(
        sub_bytes(&o, &t(br"[\g<w>\1\n\\\.]", &o), b"foo"),
        b"f[oo\n\\\\.][oo\n\\\\.]"
    );
    assert_eq!(sub_bytes(&o, &t(br"\101", &o), b"foo"), b"fAA");
    for (bad, why) in [
        (&br"\q"[..], "bad escape \\q"),
        (br"\2", "invalid group reference 2"),
        (br"\g<z>", "unknown group name 'z'"),
    ] {
        assert_eq!(Template::for_bytes(bad, &o).unwrap_err(), why);
    }
    let alt = regex::Regex::new("a|").unwrap();
    assert_eq!(
        sub_text(&alt, &Template::for_text("-", &alt).unwrap(), "bab"),
        "-b--b-"
    );
}

#[test]
fn anticache_and_anticomp_act_offline_too() {
    let mut flow = golden("filters.mitm").remove(22);
    let addons = options(|o| {
        o.anticache = true;
        o.anticomp = true;
    });
    assert!(header(&flow, Which::Request, "if-none-match").is_some());
    run(
        &addons,
        &mut flow,
        false,
        &[Event::RequestHeaders, Event::Request],
    );
    assert_eq!(header(&flow, Which::Request, "if-none-match"), None);
    assert_eq!(header(&flow, Which::Request, "if-modified-since"), None);
    assert_eq!(
        header(&flow, Which::Request, "accept-encoding").as_deref(),
        Some("identity")
    );
}

#[test]
fn map_remote_rewrites_live_requests_only() {
    let addons = options(|o| {
        o.map_remote = vec!["|~d 127.0.0.1|://127.0.0.1:18081/|://example.org:8080/v2/".into()]
    });
    let mut offline = get();
    let before = offline.clone();
    run(&addons, &mut offline, false, &[Event::Request]);
    assert!(
        offline == before,
        "offline flows are not mapped, as in mitmproxy"
    );
    let mut live = get();
    run(&addons, &mut live, true, &[Event::Request]);
    let req = live.request().unwrap();
    assert_eq!(
        http::url::pretty_url(req),
        "http://example.org:8080/v2/hello?x=1"
    );
    assert_eq!(
        header(&live, Which::Request, "host").as_deref(),
        Some("example.org:8080")
    );
    assert_eq!(req.get("port").and_then(|p| p.as_int()), Some(8080));
}

#[test]
fn modify_headers_removes_then_adds() {
    let addons = options(|o| {
        o.modify_headers = vec![
            "/~q/User-Agent/waylay".into(),
            "/~s/server/".into(),
            ":x-two:a\\x3ab".into(),
        ]
    });
    let mut flow = get();
    run(
        &addons,
        &mut flow,
        true,
        &[Event::RequestHeaders, Event::ResponseHeaders],
    );
    assert_eq!(
        header(&flow, Which::Request, "user-agent").as_deref(),
        Some("waylay")
    );
    assert_eq!(
        header(&flow, Which::Request, "x-two").as_deref(),
        Some("a:b")
    );
    assert_eq!(header(&flow, Which::Response, "server"), None);
    assert_eq!(
        header(&flow, Which::Response, "x-two").as_deref(),
        Some("a:b")
    );
}

#[test]
fn modify_body_substitutes_in_decoded_bodies() {
    let addons = options(|o| o.modify_body = vec![r"/~s/(local) (server)/\\2 \\1".into()]);
    let mut flow = get();
    run(&addons, &mut flow, true, &[Event::Request, Event::Response]);
    let body = http::raw_content(flow.response().unwrap()).unwrap();
    assert_eq!(&body[..], b"hello from server local\n");
    assert_eq!(
        header(&flow, Which::Response, "content-length").as_deref(),
        Some("24")
    );
    // A gzip body is decoded, substituted and encoded again.
    let mut post = golden("filters.mitm").remove(14);
    let addons = options(|o| o.modify_body = vec!["/~bq alice/alice/bob".into()]);
    run(&addons, &mut post, true, &[Event::Request]);
    let decoded = http::mitmproxy_content(post.request().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(&decoded[..], br#"{"user": "bob", "role": "admin"}"#);
}

/// `@FILE` values for `modify_headers` and `modify_body`, and `map_local`
/// given one file rather than a directory.
#[test]
fn values_from_files_and_one_mapped_file() {
    let dir = tempfile::tempdir().unwrap();
    let value = dir.path().join("value.txt");
    std::fs::write(&value, "filed value").unwrap();
    let replacement = dir.path().join("replacement.txt");
    std::fs::write(&replacement, "goodbye").unwrap();
    let addons = options(|o| {
        o.modify_headers = vec![format!("/~q/x-from-file/@{}", value.display())];
        o.modify_body = vec![format!("/~s/hello/@{}", replacement.display())];
    });
    let mut flow = get();
    run(
        &addons,
        &mut flow,
        true,
        &[Event::RequestHeaders, Event::Request, Event::Response],
    );
    assert_eq!(
        header(&flow, Which::Request, "x-from-file").as_deref(),
        Some("filed value")
    );
    assert_eq!(
        &http::raw_content(flow.response().unwrap()).unwrap()[..],
        b"goodbye from local server\n"
    );

    let page = dir.path().join("page.json");
    std::fs::write(&page, "{\"local\": true}").unwrap();
    let addons =
        options(|o| o.map_local = vec![format!("|~d 127.0.0.1|/hello|{}", page.display())]);
    let mut flow = get();
    flow.dict_mut().remove("response");
    run(&addons, &mut flow, true, &[Event::Request]);
    assert_eq!(
        flow.response()
            .unwrap()
            .get("status_code")
            .and_then(|s| s.as_int()),
        Some(200)
    );
    assert_eq!(
        header(&flow, Which::Response, "content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        &http::raw_content(flow.response().unwrap()).unwrap()[..],
        b"{\"local\": true}"
    );
}

#[test]
fn map_local_serves_files_and_refuses_to_climb() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("hello")).unwrap();
    std::fs::write(dir.path().join("hello/index.html"), "<p>local</p>").unwrap();
    let spec = format!("|~d 127.0.0.1|18081/|{}", dir.path().display());
    let addons = options(|o| o.map_local = vec![spec]);
    let mut flow = get();
    flow.dict_mut().remove("response");
    run(&addons, &mut flow, true, &[Event::Request]);
    let resp = flow.response().unwrap();
    assert_eq!(resp.get("status_code").and_then(|s| s.as_int()), Some(200));
    assert_eq!(
        header(&flow, Which::Response, "content-type").as_deref(),
        Some("text/html")
    );
    assert_eq!(
        &http::raw_content(flow.response().unwrap()).unwrap()[..],
        b"<p>local</p>"
    );

    let mut missing = get();
    missing.dict_mut().remove("response");
    let req = missing.message_mut(Which::Request).unwrap();
    req.insert("path", crate::tnetstring::Value::bytes(b"/nothing/here"));
    let lines = run(&addons, &mut missing, true, &[Event::Request]);
    assert_eq!(
        missing
            .response()
            .unwrap()
            .get("status_code")
            .and_then(|s| s.as_int()),
        Some(404)
    );
    assert!(
        lines[0].starts_with("[map_local] None of the local file candidates exist: "),
        "{lines:?}"
    );

    let mut climbing = get();
    climbing.dict_mut().remove("response");
    let req = climbing.message_mut(Which::Request).unwrap();
    req.insert(
        "path",
        crate::tnetstring::Value::bytes(b"/..%2f..%2fetc/passwd"),
    );
    run(&addons, &mut climbing, true, &[Event::Request]);
    assert!(
        climbing.response().is_none(),
        "no candidates: the request goes to the server"
    );
}

#[test]
fn sticky_cookies_and_auth_follow_the_session() {
    let addons = options(|o| {
        o.stickycookie = Some("~d shop.example".into());
        o.stickyauth = Some("~d shop.example".into());
    });
    let mut flows = golden("sticky.mitm");
    for flow in &mut flows {
        run(
            &addons,
            flow,
            false,
            &[
                Event::RequestHeaders,
                Event::Request,
                Event::ResponseHeaders,
                Event::Response,
            ],
        );
    }
    let cookie = |i: usize| header(&flows[i], Which::Request, "cookie");
    let auth = |i: usize| header(&flows[i], Which::Request, "authorization");
    assert_eq!(cookie(0), None);
    assert_eq!(cookie(1).as_deref(), Some("sid=one; pref=\"a b\""));
    assert_eq!(cookie(2), None, "other.example is not in the filter");
    assert_eq!(cookie(5).as_deref(), Some("late=1; flag"));
    assert_eq!(auth(5).as_deref(), Some("Basic dXNlcjpwYXNz"));
    assert_eq!(auth(7).as_deref(), Some("Basic b3RoZXI6cGFzcw=="));
    let meta = flows[1]
        .dict()
        .get("metadata")
        .and_then(|m| m.as_dict())
        .unwrap();
    assert_eq!(
        meta.get("stickycookie"),
        Some(&crate::tnetstring::Value::Bool(true))
    );
}

/// Each malformed spec stops start-up with one line naming the option
/// and the broken part.
#[test]
fn malformed_specs_name_the_option_and_the_part() {
    for (set, want) in [
        (
            Options {
                map_remote: vec!["|a".into()],
                ..Options::default()
            },
            r#"map_remote "|a": 1 part(s) where 2 or 3 are expected; the form is [/filter]/url-regex/replacement, split on its first character"#,
        ),
        (
            Options {
                map_remote: vec!["|~x|a|b".into()],
                ..Options::default()
            },
            r#"map_remote "|~x|a|b": its filter part: filter "~x": unknown filter ~x at position 0 ("~x"); the filters are ~a ~all ~b ~bq ~bs ~c ~comment ~d ~dns ~dst ~e ~h ~hq ~hs ~http ~m ~marked ~marker ~meta ~q ~replay ~replayq ~replays ~s ~src ~t ~tcp ~tq ~ts ~u ~udp ~websocket"#,
        ),
        (
            Options {
                map_remote: vec!["|[|b".into()],
                ..Options::default()
            },
            r#"map_remote "|[|b": the URL regex "[" does not compile: unterminated character set"#,
        ),
        (
            Options {
                map_remote: vec![r"|(a)|\2".into()],
                ..Options::default()
            },
            r#"map_remote "|(a)|\\2": the replacement "\\2" is not a valid re.sub template: invalid group reference 2"#,
        ),
        (
            Options {
                map_local: vec!["|a|/no/such/dir".into()],
                ..Options::default()
            },
            r#"map_local "|a|/no/such/dir": the path "/no/such/dir" cannot be used: No such file or directory (os error 2); give an existing file or directory"#,
        ),
        (
            Options {
                modify_headers: vec!["|x|@/no/such/file".into()],
                ..Options::default()
            },
            r#"modify_headers "|x|@/no/such/file": cannot read the value file /no/such/file: No such file or directory (os error 2)"#,
        ),
        (
            Options {
                modify_headers: vec![r"/x/\x4".into()],
                ..Options::default()
            },
            r#"modify_headers "/x/\\x4": the value "\\x4" is not a valid escaped string: invalid \x escape at position 0"#,
        ),
        (
            Options {
                modify_body: vec!["/(/x".into()],
                ..Options::default()
            },
            r#"modify_body "/(/x": the regex "(" does not compile: missing ), unterminated subpattern"#,
        ),
        (
            Options {
                modify_body: vec![""].into_iter().map(String::from).collect(),
                ..Options::default()
            },
            r#"modify_body "": it is empty"#,
        ),
        (
            Options {
                stickycookie: Some("~d (".into()),
                ..Options::default()
            },
            r#"stickycookie "~d (": not a valid filter: ~d needs a regex at position 3 ("("); write ~d REGEX, quoting it if it has spaces or ( ) ~ ' ""#,
        ),
    ] {
        let e = Addons::new(&set).unwrap_err();
        assert_eq!(e.to_string(), want);
    }
}

#[test]
fn block_list_answers_or_closes_live_requests_and_rules_swap() {
    let addons = options(|o| o.block_list = vec!["/~u hello/404".into()]);
    let mut flow = get();
    run(
        &addons,
        &mut flow,
        true,
        &[Event::RequestHeaders, Event::Request],
    );
    let response = flow.response().expect("blocked with a response");
    assert_eq!(
        response.get("status_code").and_then(|v| v.as_int()),
        Some(404)
    );
    assert_eq!(
        header(&flow, Which::Response, "server").as_deref(),
        Some("waylay")
    );
    assert_eq!(
        header(&flow, Which::Response, "content-length").as_deref(),
        Some("0")
    );
    let meta = flow
        .dict()
        .get("metadata")
        .and_then(|m| m.as_dict())
        .unwrap();
    assert_eq!(
        meta.get("blocklisted"),
        Some(&crate::tnetstring::Value::Bool(true))
    );
    // Offline flows are left alone, as mitmproxy leaves flows not live.
    let mut offline = get();
    run(&addons, &mut offline, false, &[Event::Request]);
    assert_eq!(offline, get());

    // 444 kills the flow.
    let log = Arc::new(Lines::default());
    let closing = options(|o| o.block_list = vec!["|~all|444".into()]);
    let mut flow = get();
    flow.dict_mut().remove("response");
    assert!(closing.run(Stage::BeforeScripts, Event::Request, &mut flow, true, &*log));
    assert_eq!(flow.error_msg(), Some("Connection killed."));

    // Rules swapped in take effect for the next flow; the others stay.
    let addons = options(|o| o.anticache = true);
    assert!(!addons.wants(Event::ResponseHeaders));
    let rules = Options {
        modify_headers: vec!["/~s/x-rule/on".into()],
        ..Options::default()
    };
    addons.set_rules(super::Rules::new(&rules).unwrap());
    assert!(addons.wants(Event::ResponseHeaders));
    let mut flow = get();
    run(
        &addons,
        &mut flow,
        true,
        &[Event::RequestHeaders, Event::ResponseHeaders],
    );
    assert_eq!(
        header(&flow, Which::Response, "x-rule").as_deref(),
        Some("on")
    );
    addons.set_rules(super::Rules::default());
    assert!(!addons.is_empty(), "anticache stays");
    let mut flow = get();
    run(
        &addons,
        &mut flow,
        true,
        &[Event::RequestHeaders, Event::ResponseHeaders],
    );
    assert_eq!(header(&flow, Which::Response, "x-rule"), None);

    for (spec, says) in [
        ("", "block_list \"\": it is empty"),
        ("/~all", "1 part(s) where 2 are expected"),
        ("/~all/999999", "is not an HTTP status"),
        ("/~q ~/404", "its filter part"),
    ] {
        let o = Options {
            block_list: vec![spec.into()],
            ..Options::default()
        };
        let why = Addons::new(&o).unwrap_err().to_string();
        assert!(why.contains(says), "{spec}: {why}");
    }
}
