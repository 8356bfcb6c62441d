//! WebSocket flows through the live proxy, with a real client and origin
//! (tokio-tungstenite): absolute-form `ws://`, in a CONNECT tunnel, and
//! intercepted `wss://`; a script that rewrites, drops and injects; close
//! codes from either side; a server that breaks off mid-frame; the
//! message size limit; another protocol's switch passed through; and
//! mitmproxy reading the capture.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use waylay_proxy::Flow;
use waylay_proxy::tnetstring::Value;

use crate::support::{Proxy, flows, path_in, scratch};
use crate::ws_origin::WsOrigin;

const RECORDER: &str = "runner/tests/fixtures/recorder";
const REWRITE: &str = "examples/websocket-rewrite";

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Reads a response head byte by byte (nothing after it is taken).
async fn read_head(io: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(
            io.read(&mut byte).await.unwrap(),
            1,
            "closed mid-head: {head:?}"
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A WebSocket to `origin` through the proxy, its upgrade sent in
/// absolute form as a browser without CONNECT would.
pub(crate) async fn absolute(
    proxy: &Proxy,
    origin: &WsOrigin,
    path: &str,
) -> WebSocketStream<TcpStream> {
    let mut stream = TcpStream::connect(&proxy.addr).await.unwrap();
    let request = format!(
        "GET http://{}{path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        origin.addr, origin.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{head}"
    );
    WebSocketStream::from_raw_socket(stream, Role::Client, None).await
}

/// A CONNECT tunnel to `host:port` through the proxy.
async fn tunnel(proxy: &Proxy, host: &str, port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(&proxy.addr).await.unwrap();
    let connect = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n");
    stream.write_all(connect.as_bytes()).await.unwrap();
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

pub(crate) async fn next_text<S>(ws: &mut WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => text.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// The flow's WebSocket messages as `(from_client, text, dropped,
/// injected)`.
pub(crate) fn messages(flow: &Flow) -> Vec<(bool, String, bool, bool)> {
    let ws = flow
        .dict()
        .get("websocket")
        .and_then(Value::as_dict)
        .unwrap();
    ws.get("messages")
        .and_then(Value::as_list)
        .unwrap()
        .iter()
        .map(|m| {
            let m = m.as_list().unwrap();
            (
                matches!(m[1], Value::Bool(true)),
                String::from_utf8_lossy(m[2].as_bytes().unwrap()).into_owned(),
                matches!(m[4], Value::Bool(true)),
                matches!(m[5], Value::Bool(true)),
            )
        })
        .collect()
}

/// The flow's close: `(closed_by_client, code, reason)`.
fn close(flow: &Flow) -> (Option<bool>, Option<i64>, String) {
    let ws = flow
        .dict()
        .get("websocket")
        .and_then(Value::as_dict)
        .unwrap();
    (
        match ws.get("closed_by_client") {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        },
        ws.get("close_code").and_then(Value::as_int),
        ws.get("close_reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    )
}

/// The recorder's WebSocket lines.
fn ws_events(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| {
            l.split_once("] ")
                .map(|(_, e)| e.trim_start_matches(['-', ' ']))
        })
        .filter(|e| e.starts_with("websocket") || e.starts_with("inject"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_script_rewrites_drops_and_injects_messages_in_an_absolute_form_websocket() {
    let origin = WsOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "ws.mitm");
    // The recorder runs second: it sees the greeting the rewriter
    // injected at `websocket_start` already in the list.
    let proxy = Proxy::start(&["-s", REWRITE, "-s", RECORDER, "-w", &file]);
    runtime().block_on(async {
        let mut ws = absolute(&proxy, &origin, "/ws/echo").await;
        assert_eq!(next_text(&mut ws).await, "welcome to the rewritten chat");
        ws.send(Message::text("hello there")).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "echo: hi there");
        ws.send(Message::text("buy spam now")).await.unwrap();
        ws.send(Message::binary(&b"\x00\x01bin"[..])).await.unwrap();
        match ws.next().await {
            Some(Ok(Message::Binary(data))) => assert_eq!(&data[..], b"echo: \x00\x01bin"),
            other => panic!("expected the binary echo, got {other:?}"),
        }
        ws.close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "done".into(),
        }))
        .await
        .unwrap();
        // The proxy answers the close and ends the connection.
        while let Some(Ok(_)) = ws.next().await {}
    });
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    assert_eq!(
        messages(&saved[0]),
        [
            (false, "welcome to the rewritten chat".into(), false, true),
            (true, "hello there".into(), false, false),
            (false, "echo: hi there".into(), false, false),
            (true, "buy spam now".into(), true, false),
            (true, "\0\u{1}bin".into(), false, false),
            (false, "echo: \0\u{1}bin".into(), false, false),
        ]
    );
    assert_eq!(close(&saved[0]), (Some(true), Some(1000), "done".into()));
    assert_eq!(saved[0].error_msg(), None);
    let events = ws_events(&stopped.stdout);
    assert_eq!(
        events.first().map(String::as_str),
        Some("websocket_start /ws/echo 1 messages")
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some("websocket_end 6 messages, close Some(1000) Some(\"done\") by client Some(true)")
    );
    assert!(
        events.contains(&"websocket_message #3 -> text \"buy spam now\" dropped".to_owned()),
        "{events:?}"
    );
}

#[test]
fn a_websocket_in_a_connect_tunnel_sees_the_server_close() {
    let origin = WsOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "ws.mitm");
    let proxy = Proxy::start(&["-s", RECORDER, "-w", &file]);
    runtime().block_on(async {
        let stream = tunnel(&proxy, "127.0.0.1", origin.addr.port()).await;
        let (mut ws, response) = tokio_tungstenite::client_async(origin.ws_url("/ws/bye"), stream)
            .await
            .unwrap();
        assert_eq!(response.status(), 101);
        ws.send(Message::text("hello")).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "echo: hello");
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4000);
                assert_eq!(frame.reason.as_str(), "server says bye");
            }
            other => panic!("expected the server's close, got {other:?}"),
        }
    });
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    assert_eq!(
        close(&saved[0]),
        (Some(false), Some(4000), "server says bye".into())
    );
    assert_eq!(messages(&saved[0]).len(), 2);
}

/// With nothing to read a WebSocket's messages (no capture file, no view,
/// no script hooked on them), each is framed again and sent straight on
/// without being kept: both sides still get every message, text and
/// binary, and the close. The first WebSocket keeps its messages (the
/// proxy learns that `websocket_end` is not hooked when it first calls
/// it); the second is relayed without keeping them.
#[test]
fn a_websocket_nothing_reads_still_carries_every_message() {
    let origin = WsOrigin::start(false);
    let proxy = Proxy::start(&["-s", "examples/add_header"]);
    runtime().block_on(async {
        for _ in 0..2 {
            let mut ws = absolute(&proxy, &origin, "/ws/echo").await;
            for i in 0..20 {
                let said = format!("hello {i}");
                ws.send(Message::text(said.clone())).await.unwrap();
                assert_eq!(next_text(&mut ws).await, format!("echo: {said}"));
            }
            let big = vec![7u8; 100_000];
            ws.send(Message::binary(big.clone())).await.unwrap();
            match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                Ok(Some(Ok(Message::Binary(data)))) => {
                    assert_eq!(&data[..6], b"echo: ");
                    assert_eq!(&data[6..], &big[..]);
                }
                other => panic!("expected the binary echo, got {other:?}"),
            }
            ws.close(None).await.unwrap();
            while let Some(Ok(_)) = ws.next().await {}
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let stopped = proxy.stop();
    assert_eq!(
        stopped.stdout.matches("/ws/echo << 101").count(),
        2,
        "the flow lines: {}",
        stopped.stdout
    );
}

/// A rustls client config that trusts the proxy's CA.
fn trusting(ca_file: &str) -> std::sync::Arc<rustls::ClientConfig> {
    let pem = std::fs::read(ca_file).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    std::sync::Arc::new(config)
}

#[test]
fn an_intercepted_wss_websocket_is_rewritten() {
    let origin = WsOrigin::start(true);
    let trusted = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.as_ref().unwrap().display()
    );
    let dir = scratch();
    let file = path_in(&dir, "wss.mitm");
    let proxy = Proxy::start(&["-s", REWRITE, "--set", &trusted, "-w", &file]);
    runtime().block_on(async {
        let stream = tunnel(&proxy, "localhost", origin.addr.port()).await;
        let connector = tokio_rustls::TlsConnector::from(trusting(&proxy.ca_cert()));
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name, stream).await.unwrap();
        let (mut ws, _) = tokio_tungstenite::client_async(origin.ws_url("/ws/echo"), tls)
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "welcome to the rewritten chat");
        ws.send(Message::text("hello over tls")).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "echo: hi over tls");
        ws.close(None).await.unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    });
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    let req = saved[0].request().unwrap();
    assert_eq!(
        req.get("scheme").and_then(Value::as_bytes),
        Some(&b"https"[..])
    );
    assert_eq!(messages(&saved[0]).len(), 3);
    // An empty close frame: no status, as wsproto records it.
    assert_eq!(close(&saved[0]), (Some(true), Some(1005), String::new()));
}

#[test]
fn a_server_that_breaks_off_mid_message_ends_the_flow_with_an_error() {
    let origin = WsOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "ws.mitm");
    let proxy = Proxy::start(&["-s", RECORDER, "-w", &file]);
    runtime().block_on(async {
        let mut ws = absolute(&proxy, &origin, "/ws/reset").await;
        ws.send(Message::text("hello")).await.unwrap();
        // The proxy closes the client's side too.
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
        assert!(ended.is_ok(), "the client's side was left open");
    });
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    assert_eq!(close(&saved[0]).1, Some(1006));
    assert_eq!(close(&saved[0]).0, Some(false));
    let error = saved[0].error_msg().unwrap_or_default().to_owned();
    assert!(
        error.contains("in the middle of a WebSocket message"),
        "{error}"
    );
    let events = ws_events(&stopped.stdout);
    assert!(
        events
            .last()
            .is_some_and(|e| e.starts_with("websocket_end 1 messages, close Some(1006)")),
        "{events:?}"
    );
}

#[test]
fn a_message_over_the_limit_ends_the_flow_with_1009() {
    let origin = WsOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "ws.mitm");
    let proxy = Proxy::start(&["--set", "websocket_max_message=1k", "-w", &file]);
    runtime().block_on(async {
        let mut ws = absolute(&proxy, &origin, "/ws/echo").await;
        ws.send(Message::text("small")).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "echo: small");
        ws.send(Message::text("x".repeat(4096))).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                assert_eq!(u16::from(frame.code), 1009)
            }
            other => panic!("expected a 1009 close, got {other:?}"),
        }
    });
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    assert_eq!(close(&saved[0]).1, Some(1009));
    let error = saved[0].error_msg().unwrap_or_default().to_owned();
    assert!(error.contains("websocket_max_message"), "{error}");
    assert_eq!(messages(&saved[0]).len(), 2, "the big one is not kept");
}

#[test]
fn another_protocols_switch_passes_through_and_is_recorded_as_http() {
    let origin = WsOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "raw.mitm");
    let proxy = Proxy::start(&["-w", &file]);
    runtime().block_on(async {
        let mut stream = TcpStream::connect(&proxy.addr).await.unwrap();
        let request = format!(
            "GET http://{}/raw HTTP/1.1\r\nHost: {}\r\nUpgrade: raw-echo\r\nConnection: Upgrade\r\n\r\n",
            origin.addr, origin.addr
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let head = read_head(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        stream.write_all(b"bytes both ways").await.unwrap();
        let mut back = [0u8; 15];
        stream.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"bytes both ways");
    });
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    let resp = saved[0].response().unwrap();
    assert_eq!(resp.get("status_code").and_then(Value::as_int), Some(101));
    assert!(saved[0].dict().get("websocket").is_none_or(Value::is_null));
}

/// The venv's Python with mitmproxy (and the websockets package), or
/// `None` outside CI when it is missing.
fn peer() -> Option<std::path::PathBuf> {
    let python = crate::support::root().join("target/mitmproxy-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing; `cargo xtask test` installs it",
            python.display()
        );
    }
    eprintln!(
        "skipping: {} is missing; run `cargo xtask peer`",
        python.display()
    );
    None
}

#[test]
fn mitmproxy_reads_a_live_websocket_capture() {
    let Some(python) = peer() else { return };
    let origin = WsOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "ws.mitm");
    let proxy = Proxy::start(&["-s", REWRITE, "-w", &file]);
    runtime().block_on(async {
        let mut ws = absolute(&proxy, &origin, "/ws/echo").await;
        assert_eq!(next_text(&mut ws).await, "welcome to the rewritten chat");
        ws.send(Message::text("hello mitmproxy")).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "echo: hi mitmproxy");
        ws.send(Message::binary(&b"\xffbin"[..])).await.unwrap();
        let _ = ws.next().await;
        ws.close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "leaving".into(),
        }))
        .await
        .unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    });
    proxy.stop();
    let script = r#"
import sys
from mitmproxy import io
with open(sys.argv[1], "rb") as f:
    for flow in io.FlowReader(f).stream():
        ws = flow.websocket
        for m in ws.messages:
            print("client" if m.from_client else "server", m.type.name, m.content.hex(), m.injected, m.dropped)
        print("close", ws.closed_by_client, ws.close_code, ws.close_reason)
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, &file])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hex = |s: &[u8]| s.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let expected = [
        format!(
            "server TEXT {} True False",
            hex(b"welcome to the rewritten chat")
        ),
        format!("client TEXT {} False False", hex(b"hello mitmproxy")),
        format!("server TEXT {} False False", hex(b"echo: hi mitmproxy")),
        format!("client BINARY {} False False", hex(b"\xffbin")),
        format!("server BINARY {} False False", hex(b"echo: \xffbin")),
        "close True 1001 leaving".to_owned(),
    ];
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn permessage_deflate_between_real_clients_is_undone_for_scripts_and_redone_on_the_wire() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let file = path_in(&dir, "deflate.mitm");
    let proxy = Proxy::start(&["-s", REWRITE, "-w", &file]);
    // Python's `websockets` on both ends: it offers and accepts
    // permessage-deflate by default, and checks every frame it gets.
    let script = r#"
import asyncio, sys
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

async def echo(ws):
    async for message in ws:
        await ws.send("echo: " + message if isinstance(message, str) else b"echo: " + message)

async def main():
    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/chat", proxy=sys.argv[1]) as ws:
            print("extensions", [e.name for e in ws.protocol.extensions])
            print("got", await ws.recv())
            text = "hello " * 2000
            await ws.send(text)
            reply = await ws.recv()
            print("got", reply == "echo: " + text.replace("hello", "hi"), len(reply))
            await ws.close(1000, "deflated")

asyncio.run(main())
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, &proxy.url()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stopped = proxy.stop();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stopped.stderr
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "extensions ['permessage-deflate']",
            "got welcome to the rewritten chat",
            "got True 6006",
        ]
    );
    let saved = flows(&file);
    assert_eq!(saved.len(), 1);
    let resp = saved[0].response().unwrap();
    let agreed = waylay_proxy::http::header(resp, "sec-websocket-extensions").unwrap_or_default();
    assert!(
        String::from_utf8_lossy(agreed).contains("permessage-deflate"),
        "{resp:?}"
    );
    // Scripts and the capture see messages inflated.
    let msgs = messages(&saved[0]);
    assert_eq!(msgs[1].1, "hello ".repeat(2000));
    assert_eq!(
        close(&saved[0]),
        (Some(true), Some(1000), "deflated".into())
    );
}

/// A long WebSocket keeps only its newest messages in memory
/// (`stream_messages_memory`); the older ones are read back for a script
/// that asks, changed where it changes them, and written in their place.
#[test]
fn a_long_websocket_spills_its_older_messages_and_still_writes_them_all() {
    let origin = WsOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "long.mitm");
    let proxy = Proxy::start(&[
        "-s",
        RECORDER,
        "--set",
        "stream_messages_memory=4k",
        "--set",
        "recorder_rewrite_first=rewritten at the end",
        "-w",
        &file,
    ]);
    let sent: Vec<String> = (0..300)
        .map(|i| format!("message {i} {}", "x".repeat(i % 97)))
        .collect();
    runtime().block_on(async {
        let mut ws = absolute(&proxy, &origin, "/ws/echo").await;
        for text in &sent {
            ws.send(Message::text(text.as_str())).await.unwrap();
            assert_eq!(next_text(&mut ws).await, format!("echo: {text}"));
        }
        ws.close(None).await.unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    });
    let stopped = proxy.stop();
    assert!(
        !stopped.stderr.contains("cannot move"),
        "{}",
        stopped.stderr
    );
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    let mut expected: Vec<_> = sent
        .iter()
        .flat_map(|t| {
            [
                (true, t.clone(), false, false),
                (false, format!("echo: {t}"), false, false),
            ]
        })
        .collect();
    expected[0].1 = "rewritten at the end".into();
    assert_eq!(messages(&saved[0]), expected);
    let events = ws_events(&stopped.stdout);
    // The script's indexes count the spilled messages; message 0 was
    // read back from the spill, and changed there.
    assert!(
        events.contains(&format!(
            "websocket_message #599 <- text {:?}",
            format!("echo: {}", sent[299])
        )),
        "{:?}",
        events.iter().rev().take(3).collect::<Vec<_>>()
    );
    assert!(
        stopped
            .stdout
            .contains("first message \"message 0 \", now \"rewritten at the end\""),
        "{}",
        stopped.stdout
    );
    assert!(
        events
            .last()
            .is_some_and(|e| e.starts_with("websocket_end 600 messages")),
        "{events:?}"
    );
    // mitmproxy reads every message too.
    let Some(python) = peer() else { return };
    let script = r#"
import sys
from mitmproxy import io
with open(sys.argv[1], "rb") as f:
    for flow in io.FlowReader(f).stream():
        ms = flow.websocket.messages
        print(len(ms), ms[0].content.decode(), ms[-1].content.decode()[:18])
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, &file])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "600 rewritten at the end echo: message 299"
    );
}
