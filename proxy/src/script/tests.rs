//! Dispatch through the real C boundary, in-process: the scripts below are
//! exported the way script crates export theirs.

use waylay_sdk::{Connection, Context, Flow, Script};

use crate::test_support::testdata;
use crate::testing::{Run, run_file, run_file_with_args};

fn golden_path(name: &str) -> std::path::PathBuf {
    testdata().join("flows").join(name)
}

/// Logs every event it sees.
#[derive(Default)]
struct Recorder;

impl Script for Recorder {
    fn start(&mut self, ctx: &Context, argv: &[&str]) {
        ctx.info(&format!("start {argv:?}"));
    }
    fn client_connect(&mut self, ctx: &Context, _: &Connection) {
        ctx.info("client_connect");
    }
    fn server_connect(&mut self, ctx: &Context, _: &Connection) {
        ctx.info("server_connect");
    }
    fn request_headers(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("request_headers {}", flow.request().path()));
    }
    fn request(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("request {}", flow.request().path()));
    }
    fn response_headers(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("response_headers {}", flow.request().path()));
    }
    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("response {}", flow.request().path()));
    }
    fn error(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("error {}", flow.request().path()));
    }
    fn client_disconnect(&mut self, ctx: &Context, _: &Connection) {
        ctx.info("client_disconnect");
    }
    fn done(&mut self, ctx: &Context) {
        ctx.info("done");
    }
}

#[test]
fn offline_order_is_mitmproxys() {
    let run = run_file_with_args::<Recorder>(golden_path("all.mitm"), &["a", "b c"]);
    insta::assert_snapshot!(run.log.join("\n"), @r#"
    info: start ["a", "b c"]
    info: request_headers /hello?x=1
    info: request /hello?x=1
    info: response_headers /hello?x=1
    info: response /hello?x=1
    info: request_headers /submit
    info: request /submit
    info: response_headers /submit
    info: response /submit
    info: request_headers /missing/page
    info: request /missing/page
    info: response_headers /missing/page
    info: response /missing/page
    info: request_headers /nothing-listens-here
    info: request /nothing-listens-here
    info: error /nothing-listens-here
    info: request_headers /secure
    info: request /secure
    info: response_headers /secure
    info: response /secure
    info: done
    "#);
}

#[test]
fn a_tcp_flow_passes_through_a_script_without_tcp_hooks() {
    let run = run_file::<Recorder>(golden_path("tcp.mitm"));
    assert_eq!(run.log, ["info: start []", "info: done"]);
    assert_eq!(
        run.flows,
        crate::testing::read_flows(golden_path("tcp.mitm"))
    );
}

/// Changes the response, then panics in `response` for one path.
#[derive(Default)]
struct Panicky;

impl Script for Panicky {
    fn response(&mut self, _: &Context, flow: &mut Flow) {
        let response = flow.response_mut().expect("response hook has a response");
        response.headers_mut().set("touched", "yes");
        if flow.request().path() == "/submit" {
            panic!("boom on submit");
        }
    }
}

#[test]
fn a_panicking_hook_fails_only_its_flow_and_undoes_its_changes() {
    let original = crate::testing::read_flows(golden_path("all.mitm"));
    let run = run_file::<Panicky>(golden_path("all.mitm"));
    assert_eq!(run.flows.len(), 5);
    assert_eq!(
        run.flows[1], original[1],
        "the flow whose hook panicked is unchanged"
    );
    assert_ne!(run.flows[0], original[0], "other flows keep their changes");
    assert_eq!(run.log.len(), 1, "{:?}", run.log);
    let line = &run.log[0];
    assert!(
        line.starts_with(&format!(
            "error: hook `response` panicked on flow {}: boom on submit",
            original[1].id()
        )),
        "{line}"
    );
    assert!(
        line.ends_with("the flow goes on as it was before the hook"),
        "{line}"
    );
}

/// Moves every request with `set_url` (its fields alone go to the undo
/// log), changes a header and the body after it, then panics for one path.
#[derive(Default)]
struct MovesThenPanics;

impl Script for MovesThenPanics {
    fn request(&mut self, _: &Context, flow: &mut Flow) {
        let panics = flow.request().path() == "/submit";
        let request = flow.request_mut();
        request
            .set_url("https://moved.example:8443/elsewhere?x=1")
            .unwrap();
        request.set_url("http://again.example/").unwrap();
        request.headers_mut().set("x-moved", "yes");
        request.set_content(b"changed").unwrap();
        if panics {
            panic!("boom after set_url");
        }
    }
}

#[test]
fn a_panic_after_set_url_puts_every_field_back() {
    let original = crate::testing::read_flows(golden_path("all.mitm"));
    let run = run_file::<MovesThenPanics>(golden_path("all.mitm"));
    assert_eq!(
        run.flows[1], original[1],
        "the flow whose hook panicked is unchanged, host header included"
    );
    let moved = run.flows[0].request().expect("a request");
    assert_eq!(crate::http::raw(moved, "host"), b"again.example");
    assert_eq!(
        crate::http::header(moved, "host"),
        Some(&b"again.example"[..])
    );
}

/// Tries to kill every flow, logging the refusal.
#[derive(Default)]
struct Killer;

impl Script for Killer {
    fn request(&mut self, ctx: &Context, flow: &mut Flow) {
        assert!(!flow.is_live() && !flow.killable());
        if let Err(e) = flow.kill() {
            ctx.warn(&e.to_string());
        }
    }
}

#[test]
fn killing_a_saved_flow_is_refused_not_a_crash() {
    let run = run_file::<Killer>(golden_path("get.mitm"));
    assert_eq!(
        run.log,
        [
            "warn: flow 0e60e288-f2a8-4650-8c50-900760fc21e4 cannot be killed: it was read from a file, not live traffic"
        ]
    );
    assert_eq!(
        run.flows,
        crate::testing::read_flows(golden_path("get.mitm"))
    );
}

/// Answers the refused flow itself; annotates every flow.
#[derive(Default)]
struct Responder;

impl Script for Responder {
    fn request(&mut self, _: &Context, flow: &mut Flow) {
        if flow.request().port() == 18099 {
            flow.respond(418, "short-circuited\n")
                .headers_mut()
                .set("content-type", "text/plain");
        }
        flow.set_comment("seen");
        flow.set_marked(":default:");
        flow.set_metadata("by", "responder");
    }
    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!(
            "response {}",
            flow.response().map_or(0, |r| r.status_code())
        ));
    }
}

#[test]
fn a_response_set_in_request_gets_response_events() {
    let run = run_file::<Responder>(golden_path("refused.mitm"));
    insta::assert_snapshot!(run.render());
}

/// Reads every part of the flow API and logs it.
#[derive(Default)]
struct Reader;

impl Script for Reader {
    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        let req = flow.request();
        ctx.info(&format!(
            "{} {} {}://{}:{}{} {} authority={:?}",
            flow.id(),
            req.method(),
            req.scheme(),
            req.host(),
            req.port(),
            req.path(),
            req.http_version(),
            req.authority()
        ));
        ctx.info(&format!(
            "url={} host header={:?} agent={:?}",
            req.url(),
            req.headers().get("HOST"),
            req.headers().get("user-agent")
        ));
        ctx.info(&format!(
            "request body={:?} decoded={:?}",
            req.raw_content().map(<[u8]>::len),
            req.content()
        ));
        let resp = flow.response().unwrap();
        ctx.info(&format!(
            "<< {} {} {} fields={} body={:?}",
            resp.status_code(),
            resp.reason(),
            resp.http_version(),
            resp.headers().len(),
            resp.content().unwrap().map(String::from_utf8_lossy)
        ));
        let client = flow.client().unwrap();
        ctx.info(&format!(
            "client {} peer={:?} sock={:?} tls={} version={:?} cipher={:?} alpn={:?} offers={:?} mode={:?}",
            client.id(),
            client.peer(),
            client.sock(),
            client.tls(),
            client.tls_version(),
            client.cipher(),
            client.alpn(),
            client.alpn_offers(),
            client.proxy_mode()
        ));
        let server = flow.server().unwrap();
        ctx.info(&format!(
            "server address={:?} sni={:?} tls={} certificates={} first starts {:?}",
            server.address(),
            server.sni(),
            server.tls(),
            server.certificates().len(),
            server
                .certificates()
                .first()
                .map(|c| String::from_utf8_lossy(&c[..27]).into_owned())
        ));
        ctx.info(&format!(
            "timestamps created={:?} request={:?} client={:?} error={:?}",
            flow.timestamp_created(),
            req.timestamp_start(),
            client.timestamp_start(),
            flow.error().map(|e| e.msg().to_owned())
        ));
    }
    fn error(&mut self, ctx: &Context, flow: &mut Flow) {
        let e = flow.error().unwrap();
        ctx.info(&format!("error {:?} at {:?}", e.msg(), e.timestamp()));
    }
}

#[test]
fn the_flow_api_reads_what_the_file_holds() {
    let run = run_file::<Reader>(golden_path("all.mitm"));
    insta::assert_snapshot!(run.log.join("\n"));
}

/// Rewrites a compressed body through the decoded view.
#[derive(Default)]
struct Gzipper;

impl Script for Gzipper {
    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        let response = flow.response_mut().unwrap();
        response.headers_mut().set("content-encoding", "gzip");
        response.set_content(b"compressed by waylay").unwrap();
        let raw = response.raw_content().unwrap().to_vec();
        ctx.info(&format!(
            "raw starts {:?}, decoded {:?}",
            &raw[..2],
            response.content().unwrap().map(String::from_utf8_lossy)
        ));
        response.headers_mut().set("content-encoding", "br");
        ctx.info(&format!("as br: {}", response.content().unwrap_err()));
    }
}

#[test]
fn bodies_decode_and_encode_per_content_encoding() {
    let run: Run = run_file::<Gzipper>(golden_path("get.mitm"));
    assert_eq!(
        run.log[0],
        "info: raw starts [31, 139], decoded Some(\"compressed by waylay\")"
    );
    assert!(
        run.log[1].starts_with("info: as br: body is not valid br"),
        "{}",
        run.log[1]
    );
}

/// Panics while being created.
struct BadDefault;

impl Default for BadDefault {
    fn default() -> Self {
        panic!("no config")
    }
}

impl Script for BadDefault {}

#[test]
fn a_panicking_constructor_is_an_error_not_a_crash() {
    let collect = std::sync::Arc::new(crate::testing::tests_support_sink());
    let descriptor = Box::leak(Box::new(waylay_sdk::__export::descriptor::<BadDefault>()));
    let err = super::Script::from_descriptor(descriptor, "bad", vec![], &*collect).unwrap_err();
    assert_eq!(
        err.to_string(),
        "script bad: creating it (its `Default`) panicked: no config; fix the constructor"
    );
}

mod tcp;
mod websocket;
