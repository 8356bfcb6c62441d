//! The exchange without sockets: a client and an origin over in-memory
//! pipes (`tokio::io::duplex`), a script in-process, and one table of
//! cases over both HTTP versions.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use waylay_sdk::{Context, Flow as SdkFlow, Script};

use super::dial::{Dial, Dialer, Dialing};
use super::handoff::Tunnel;
use super::options::Options;
use super::state::{Live, Session};
use super::upstream::Pool;
use super::wire::BoxIo;
use crate::flow::Flow;
use crate::script::{self, Scripts};

/// A script steered by the request path.
#[derive(Default)]
struct Probe;

fn path(flow: &SdkFlow) -> String {
    flow.request().path().into_owned()
}

impl Script for Probe {
    fn request_headers(&mut self, ctx: &Context, flow: &mut SdkFlow) {
        ctx.info(&format!("request_headers {}", path(flow)));
        if path(flow).contains("stream-up") {
            flow.request_mut().set_stream(true);
        }
    }

    fn request(&mut self, ctx: &Context, flow: &mut SdkFlow) {
        let path = path(flow);
        ctx.info(&format!("request {path}"));
        match path.as_str() {
            "/kill" => flow.kill().expect("a live flow can be killed"),
            "/answer" => {
                flow.respond(200, "from the script");
            }
            "/panic" => panic!("the probe panics on purpose"),
            _ => {}
        }
    }

    fn response_headers(&mut self, ctx: &Context, flow: &mut SdkFlow) {
        ctx.info(&format!("response_headers {}", path(flow)));
        if path(flow).contains("stream-down")
            && let Some(resp) = flow.response_mut()
        {
            resp.set_stream(true);
        }
    }

    fn response(&mut self, ctx: &Context, flow: &mut SdkFlow) {
        ctx.info(&format!("response {}", path(flow)));
    }

    fn error(&mut self, ctx: &Context, flow: &mut SdkFlow) {
        ctx.info(&format!("error {}", path(flow)));
    }
}

/// Keeps what scripts log.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl Lines {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl crate::script::LogSink for Lines {
    fn log(&self, _script: &str, level: waylay_sdk::Level, msg: &str) {
        let level = format!("{level:?}").to_lowercase();
        self.0.lock().unwrap().push(format!("{level}: {msg}"));
    }
}

/// An origin at the far end of a pipe, answering by path.
struct Origin;

async fn serve_origin(mut io: DuplexStream) {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let Ok(n) = io.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("content-length: ")
                    .or(l.strip_prefix("Content-Length: "))
            })
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let mut body_end = end + 4 + length;
        if chunked {
            while !buf[end..].windows(5).any(|w| w == b"0\r\n\r\n") {
                let Ok(n) = io.read(&mut chunk).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            body_end = buf.len();
        }
        while buf.len() < body_end {
            let Ok(n) = io.read(&mut chunk).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body_len = body_end - end - 4;
        buf.drain(..body_end);
        let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
        let answer: Vec<u8> = match path.as_str() {
            "/stall" => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            "/reset" => {
                let _ = io
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
                    .await;
                return;
            }
            "/garbage" => b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
            p if p.contains("chunked") => {
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                    .to_vec()
            }
            _ => format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\ngot {body_len} bytes",
                format!("got {body_len} bytes").len()
            )
            .into_bytes(),
        };
        if io.write_all(&answer).await.is_err() {
            return;
        }
    }
}

impl Dial for Origin {
    fn dial<'a>(&'a self, host: &'a str, _port: u16) -> Dialing<'a> {
        Box::pin(async move {
            if host == "refused.test" {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "Connection refused",
                ));
            }
            let (ours, theirs) = tokio::io::duplex(64 * 1024);
            tokio::spawn(serve_origin(theirs));
            let addr = SocketAddr::from(([127, 0, 0, 1], 80));
            Ok((Box::new(ours) as BoxIo, addr, addr))
        })
    }
}

/// A proxy with the probe script, an in-memory origin, and what it
/// logged and recorded.
struct Harness {
    live: Arc<Live>,
    log: Arc<Lines>,
    flows: Arc<Mutex<Vec<Flow>>>,
}

impl Harness {
    fn new(tune: impl FnOnce(&mut Options)) -> Harness {
        let log = Arc::new(Lines::default());
        let mut scripts = Scripts::new(log.clone());
        let descriptor = Box::leak(Box::new(waylay_sdk::__export::descriptor::<Probe>()));
        let probe = script::Script::from_descriptor(descriptor, "probe", Vec::new(), &*log)
            .expect("the probe loads");
        scripts.push(probe);
        let mut options = Options {
            dialer: Dialer::new(Arc::new(Origin)),
            response_timeout: Duration::from_millis(300),
            header_timeout: Duration::from_secs(2),
            ..Options::default()
        };
        tune(&mut options);
        let flows = Arc::new(Mutex::new(Vec::new()));
        let kept = flows.clone();
        let on_flow: Box<dyn Fn(&Flow) + Send + Sync> =
            Box::new(move |f: &Flow| kept.lock().unwrap().push(f.clone()));
        let live = Arc::new(Live::new(Arc::new(scripts), None, Some(on_flow), options));
        Harness { live, log, flows }
    }

    /// Sends raw HTTP/1 bytes through a client connection and returns
    /// everything the client got back before the proxy closed or went
    /// quiet; then the recorded flows and log.
    fn h1(self, request: &[u8]) -> (String, Vec<Flow>, Vec<String>) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let live = self.live.clone();
        let request = request.to_vec();
        let out = runtime.block_on(async move {
            let (client, proxy) = tokio::io::duplex(1 << 20);
            let (_closing_tx, closing) = tokio::sync::watch::channel(false);
            let addr = SocketAddr::from(([127, 0, 0, 1], 8080));
            let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
            let driver = tokio::spawn(super::conn::run(
                Box::new(proxy),
                peer,
                addr,
                live,
                Arc::default(),
                None,
                closing,
            ));
            let (mut read, mut write) = tokio::io::split(client);
            write.write_all(&request).await.unwrap();
            let mut out = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(3), read.read_to_end(&mut out)).await;
            drop(write);
            let _ = tokio::time::timeout(Duration::from_secs(3), driver).await;
            String::from_utf8_lossy(&out).into_owned()
        });
        drop(runtime);
        self.finish(out)
    }

    fn finish(self, out: String) -> (String, Vec<Flow>, Vec<String>) {
        self.live.done().unwrap();
        let flows = self.flows.lock().unwrap().clone();
        (out, flows, self.log.lines())
    }
}

fn get(path: &str) -> Vec<u8> {
    format!(
        "GET http://origin.test{path} HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST http://origin.test{path} HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One case: the client's bytes, options, and what must come of them.
struct Case {
    name: &'static str,
    request: Vec<u8>,
    stream_large_bodies: Option<u64>,
    /// The start of the client's answer ("" when it gets none).
    answer: &'static str,
    /// The flow's error, if it must have one.
    error: Option<&'static str>,
    /// Whether the recorded response kept its body.
    body_kept: Option<bool>,
    /// How the client's answer ends.
    ends: &'static str,
}

fn case(name: &'static str, request: Vec<u8>, answer: &'static str) -> Case {
    Case {
        name,
        request,
        stream_large_bodies: None,
        answer,
        error: None,
        body_kept: None,
        ends: "",
    }
}

#[test]
fn http1_exchanges() {
    let cases = [
        Case {
            body_kept: Some(true),
            ..case("forwarded", get("/ok"), "HTTP/1.1 200 OK\r\n")
        },
        case("short-circuit by a script", get("/answer"), "HTTP/1.1 200 OK\r\n"),
        case("killed in request", get("/kill"), ""),
        Case {
            error: Some("a script's `request` hook panicked"),
            ..case("a panicking hook", get("/panic"), "HTTP/1.1 502 ")
        },
        Case {
            error: Some("Connection refused"),
            ..case(
                "upstream refused",
                b"GET http://refused.test/ HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(),
                "HTTP/1.1 502 ",
            )
        },
        Case {
            error: Some("the connection closed in the middle of a message"),
            ..case("upstream reset mid-body", get("/reset"), "HTTP/1.1 502 ")
        },
        Case {
            error: Some("the server sent no response in 0s"),
            ..case("upstream stalled", get("/stall"), "HTTP/1.1 504 ")
        },
        Case {
            error: Some("invalid response from the server"),
            ..case("upstream not HTTP", get("/garbage"), "HTTP/1.1 502 ")
        },
        Case {
            body_kept: Some(true),
            ..case("chunked kept", get("/chunked"), "HTTP/1.1 200 OK\r\n")
        },
        Case {
            body_kept: Some(false),
            ..case("streamed by a script", get("/chunked-stream-down"), "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked")
        },
        Case {
            stream_large_bodies: Some(4),
            body_kept: Some(false),
            ..case("streamed when large, length unknown", get("/chunked"), "HTTP/1.1 200 OK\r\n")
        },
        Case {
            stream_large_bodies: Some(1),
            body_kept: Some(false),
            ..case("streamed when large, length known", get("/ok"), "HTTP/1.1 200 OK\r\ncontent-length: 11")
        },
        Case {
            body_kept: Some(true),
            ends: "\r\n\r\ngot 5 bytes",
            ..case("request body kept", post("/ok", "hello"), "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n")
        },
        Case {
            body_kept: Some(true),
            ends: "\r\n\r\ngot 5 bytes",
            ..case("request body streamed", post("/stream-up", "hello"), "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n")
        },
        case(
            "a bad target",
            b"GET /relative HTTP/1.1\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request\r\n",
        ),
        case(
            "smuggling",
            b"POST http://origin.test/ HTTP/1.1\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request\r\n",
        ),
        case(
            "the proxy itself",
            b"GET http://127.0.0.1:8080/ HTTP/1.1\r\n\r\n".to_vec(),
            "HTTP/1.1 508 Loop Detected\r\n",
        ),
    ];
    for c in cases {
        let threshold = c.stream_large_bodies;
        let harness = Harness::new(|o| o.stream_large_bodies = threshold);
        let (out, flows, log) = harness.h1(&c.request);
        assert!(out.starts_with(c.answer), "{}: answered {out:?}", c.name);
        assert!(out.ends_with(c.ends), "{}: answered {out:?}", c.name);
        if c.answer.is_empty() {
            assert!(out.is_empty(), "{}: answered {out:?}", c.name);
        }
        if let Some(error) = c.error {
            let got = flows.first().and_then(Flow::error_msg).unwrap_or_default();
            assert!(
                got.contains(error),
                "{}: error {got:?}, log {log:?}",
                c.name
            );
        }
        if let Some(kept) = c.body_kept {
            let flow = flows
                .first()
                .unwrap_or_else(|| panic!("{}: no flow", c.name));
            let resp = flow.response().expect("a response");
            assert_eq!(
                !resp
                    .get("content")
                    .is_none_or(crate::tnetstring::Value::is_null),
                kept,
                "{}: {flow:?}",
                c.name
            );
        }
    }
}

#[test]
fn http1_events_come_in_order() {
    let (_, flows, log) = Harness::new(|_| {}).h1(&get("/ok"));
    assert_eq!(flows.len(), 1);
    assert_eq!(
        log,
        [
            "info: request_headers /ok",
            "info: request /ok",
            "info: response_headers /ok",
            "info: response /ok"
        ]
    );
    let (_, _, log) = Harness::new(|_| {}).h1(&get("/answer"));
    assert_eq!(
        log,
        [
            "info: request_headers /answer",
            "info: request /answer",
            "info: response_headers /answer",
            "info: response /answer"
        ]
    );
}

/// An HTTP/2 client on a pipe to the proxy's h2 side: each request's
/// status, body and the recorded flows.
fn h2(
    requests: &[(&'static str, &'static str)],
    threshold: Option<u64>,
) -> (Vec<(u16, Bytes)>, Vec<Flow>) {
    let harness = Harness::new(|o| o.stream_large_bodies = threshold);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let live = harness.live.clone();
    let requests = requests.to_vec();
    let answers = runtime.block_on(async move {
        let (client, proxy) = tokio::io::duplex(1 << 20);
        let (_closing_tx, mut closing) = tokio::sync::watch::channel(false);
        let conn = super::record::client_conn(
            SocketAddr::from(([127, 0, 0, 1], 40000)),
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            0.0,
            "regular",
        );
        let session = Session::open(
            live,
            conn,
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            Arc::default(),
        );
        let tunnel = Tunnel {
            tls: false,
            host: "origin.test".into(),
            port: 80,
            reverse: false,
        };
        let server = tokio::spawn(async move {
            super::http2::serve(
                &session,
                Box::new(proxy),
                tunnel,
                Pool::default(),
                &mut closing,
            )
            .await;
        });
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(client))
                .await
                .unwrap();
        tokio::spawn(connection);
        let mut answers = Vec::new();
        for (method, path) in requests {
            let body = if method == "POST" { "hello" } else { "" };
            let request = http::Request::builder()
                .method(method)
                .uri(format!("http://origin.test{path}"))
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let response = sender.send_request(request).await;
            answers.push(match response {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body = r.into_body().collect().await.map(|b| b.to_bytes());
                    (status, body.unwrap_or_default())
                }
                // A reset stream (a killed flow).
                Err(_) => (0, Bytes::new()),
            });
        }
        drop(sender);
        let _ = tokio::time::timeout(Duration::from_secs(3), server).await;
        answers
    });
    drop(runtime);
    let (_, flows, _) = harness.finish(String::new());
    (answers, flows)
}

#[test]
fn http2_exchanges() {
    let (answers, flows) = h2(
        &[
            ("GET", "/ok"),
            ("GET", "/answer"),
            ("GET", "/kill"),
            ("GET", "/panic"),
            ("GET", "/stall"),
            ("GET", "/chunked-stream-down"),
            ("POST", "/stream-up"),
        ],
        None,
    );
    assert_eq!(answers[0], (200, Bytes::from("got 0 bytes")));
    assert_eq!(answers[1], (200, Bytes::from("from the script")));
    assert_eq!(answers[2].0, 0, "a killed stream is reset");
    assert_eq!(answers[3].0, 502);
    assert_eq!(answers[4].0, 504);
    assert_eq!(answers[5], (200, Bytes::from("hello world")));
    assert_eq!(answers[6], (200, Bytes::from("got 5 bytes")));
    assert_eq!(flows.len(), 7);
    let streamed = flows
        .iter()
        .find(|f| {
            super::send::authority(f.request().unwrap()).contains("origin")
                && crate::http::raw(f.request().unwrap(), "path") == b"/chunked-stream-down"
        })
        .expect("the streamed flow");
    assert!(
        streamed
            .response()
            .unwrap()
            .get("content")
            .is_some_and(crate::tnetstring::Value::is_null)
    );
}

#[test]
fn http2_streams_large_bodies_by_size() {
    let (answers, flows) = h2(&[("GET", "/chunked"), ("GET", "/ok")], Some(4));
    assert_eq!(answers[0], (200, Bytes::from("hello world")));
    assert_eq!(answers[1], (200, Bytes::from("got 0 bytes")));
    for flow in flows {
        assert!(
            flow.response()
                .unwrap()
                .get("content")
                .is_some_and(crate::tnetstring::Value::is_null),
            "streamed, not kept: {flow:?}"
        );
    }
}
