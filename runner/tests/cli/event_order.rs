//! The order of every mitmproxy 11 event, beside mitmdump 11: the same
//! clients through Waylay with `runner/tests/fixtures/events` and through
//! mitmdump with `runner/tests/interop/events.py`, which log each event by
//! name and act alike (a CONNECT to `refuse.test` refused with a 403, TLS
//! for `localhost` passed through). Live: plain HTTP, HTTPS through
//! CONNECT, a CONNECT to a closed port, one the script refuses, TLS failing
//! on the client's side and on the server's, and a pass-through decided in
//! `tls_clienthello`. Offline: the sample captures.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::interop::peer;
use crate::mitmdump::Mitmdump;
use crate::offline_run::Offline;
use crate::origin::Origin;
use crate::support::{Proxy, curl_via, golden, root, scratch};
use crate::tls_origin::{Cert, TlsOrigin};

const FIXTURE: &str = "runner/tests/fixtures/events";

/// The event names in `lines`, in order.
fn events<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            l.as_ref()
                .split_once("EVENT ")
                .map(|(_, e)| e.trim().to_owned())
        })
        .collect()
}

/// Waits until the events past the first `from` include `last` (when
/// given) and have stopped growing for a moment, then returns them.
fn settle_until(lines: impl Fn() -> Vec<String>, from: usize, last: Option<&str>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = events(&lines()).len();
    let mut quiet_since = Instant::now();
    let done = |events: &[String]| last.is_none_or(|last| events[from..].iter().any(|e| e == last));
    while Instant::now() < deadline
        && (quiet_since.elapsed() < Duration::from_millis(700) || !done(&events(&lines())))
    {
        std::thread::sleep(Duration::from_millis(50));
        let now = events(&lines()).len();
        if now != seen {
            seen = now;
            quiet_since = Instant::now();
        }
    }
    events(&lines())[from..].to_vec()
}

/// [`settle_until`] without an event to wait for.
fn settle(lines: impl Fn() -> Vec<String>, from: usize) -> Vec<String> {
    settle_until(lines, from, None)
}

/// The events without `server_disconnected`, whose place depends on which
/// side of a connection closes first (it varies run to run in mitmdump
/// too), and how many of those there were.
fn ordered(events: &[String]) -> (Vec<String>, usize) {
    let closes = events
        .iter()
        .filter(|e| *e == "server_disconnected")
        .count();
    let rest = events
        .iter()
        .filter(|e| *e != "server_disconnected")
        .cloned()
        .collect();
    (rest, closes)
}

fn curl(proxy: &str, args: &[&str]) {
    curl_via(proxy, &[&["-o", "/dev/null"], args].concat());
}

#[test]
fn live_events_come_in_mitmdumps_order() {
    let Some(python) = peer() else { return };
    let plain = Origin::start();
    let tls = TlsOrigin::start(Cert::Trusted, false);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().port();
    drop(closed);
    let plain_port = plain.addr.port();
    let tls_port = tls.addr.port();
    let scenarios: Vec<(&str, Vec<String>)> = vec![
        ("plain HTTP", vec![plain.url("/hello")]),
        (
            "HTTPS through CONNECT (no SNI: intercepted)",
            vec!["-k".into(), format!("https://127.0.0.1:{tls_port}/")],
        ),
        (
            "a CONNECT to a closed port",
            vec!["-k".into(), format!("https://127.0.0.1:{dead}/")],
        ),
        (
            "a CONNECT the script refuses",
            vec!["-k".into(), "https://refuse.test/".into()],
        ),
        (
            "TLS failing on the client's side (it does not trust the CA)",
            vec![format!("https://127.0.0.1:{tls_port}/")],
        ),
        (
            "TLS failing on the server's side (it speaks plain HTTP)",
            vec!["-k".into(), format!("https://127.0.0.1:{plain_port}/hello")],
        ),
        (
            "a pass-through decided in tls_clienthello (SNI localhost)",
            vec!["-k".into(), format!("https://localhost:{tls_port}/")],
        ),
    ];

    let dir = scratch();
    let script = root().join("runner/tests/interop/events.py");
    let mitmdump = Mitmdump::start(
        &python,
        dir.path(),
        &["-k".into(), "-s".into(), script.display().to_string()],
    );
    let waylay = Proxy::start(&["-k", "-s", FIXTURE]);
    // `start` (mitmproxy's `load`), `configure`, `running`.
    let theirs_start = settle_until(|| mitmdump.lines(), 0, Some("running"));
    let ours_start = settle_until(|| waylay.lines(), 0, Some("running"));
    assert_eq!(ours_start, ["start", "configure", "running"]);
    assert_eq!(ours_start, theirs_start);

    for (what, args) in &scenarios {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let from = events(&mitmdump.lines()).len();
        curl(&mitmdump.url, &args);
        // Every scenario ends with the client's connection.
        let theirs = settle_until(|| mitmdump.lines(), from, Some("client_disconnect"));
        let from = events(&waylay.lines()).len();
        curl(&waylay.url(), &args);
        let ours = settle_until(|| waylay.lines(), from, Some("client_disconnect"));
        eprintln!("{what}: {ours:?}");
        assert_eq!(
            ordered(&ours),
            ordered(&theirs),
            "{what}:\n waylay:   {ours:?}\n mitmdump: {theirs:?}"
        );
    }

    let theirs = events(&mitmdump.stop());
    let ours = waylay.stop().stdout;
    let ours = events(&ours.lines().collect::<Vec<_>>());
    assert_eq!(ours.last().map(String::as_str), Some("done"));
    assert_eq!(theirs.last(), ours.last());
}

/// A stand-in upstream proxy: keeps the head of each CONNECT it is sent
/// and refuses it.
fn refusing_upstream() -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
            let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        }
    });
    (port, rx)
}

#[test]
fn http_connect_upstream_changes_what_the_upstream_proxy_is_sent() {
    let Some(python) = peer() else { return };
    let target = ["-k", "https://127.0.0.1:4443/"];
    let (upstream, theirs) = refusing_upstream();
    let mode = format!("upstream:http://127.0.0.1:{upstream}");
    let dir = scratch();
    let script = root().join("runner/tests/interop/events.py");
    let args = ["--mode", &mode, "-k", "-s", &script.display().to_string()].map(str::to_owned);
    let mitmdump = Mitmdump::start(&python, dir.path(), &args);
    curl(&mitmdump.url, &target);
    let theirs = theirs
        .recv_timeout(Duration::from_secs(10))
        .expect("mitmdump sends a CONNECT");
    let (upstream, ours) = refusing_upstream();
    let mode = format!("upstream:http://127.0.0.1:{upstream}");
    let waylay = Proxy::start(&["--mode", &mode, "-k", "-s", FIXTURE]);
    curl(&waylay.url(), &target);
    let ours = ours
        .recv_timeout(Duration::from_secs(10))
        .expect("waylay sends a CONNECT");
    for (who, head) in [("mitmdump", &theirs), ("waylay", &ours)] {
        assert!(
            head.starts_with("CONNECT 127.0.0.1:4443 HTTP/1.1\r\n"),
            "{who}: {head}"
        );
        assert!(
            head.to_lowercase().contains("x-upstream-hook: 1\r\n"),
            "{who}: {head}"
        );
    }
    let events = settle(|| waylay.lines(), 0);
    assert!(
        events.contains(&"http_connect_upstream".to_owned()),
        "{events:?}"
    );
}

#[test]
fn offline_events_are_mitmdumps_with_update_after_each() {
    let Some(python) = peer() else { return };
    for sample in ["all.mitm", "websocket.mitm", "tcp.mitm", "refused.mitm"] {
        let file = golden(sample);
        let file = file.to_str().unwrap();
        let ours = Offline::read(file).script(FIXTURE).run().ok();
        let ours = events(&ours.stdout.lines().collect::<Vec<_>>());
        let script = root().join("runner/tests/interop/events.py");
        let theirs = Command::new(python.with_file_name("mitmdump"))
            .args(["-n", "-r", file, "-s"])
            .arg(&script)
            .output()
            .unwrap();
        let theirs = String::from_utf8_lossy(&theirs.stdout);
        let theirs = events(&theirs.lines().collect::<Vec<_>>());
        assert!(theirs.contains(&"update".to_owned()), "{theirs:?}");
        assert_eq!(ours, theirs, "{sample}");
    }
}

#[test]
fn http_connect_may_send_a_tunnel_elsewhere_and_a_panic_in_it_refuses_the_connect() {
    let origin = TlsOrigin::start(Cert::Trusted, false);
    let dir = scratch();
    let lib = format!(
        r#"use waylay_sdk::{{Context, Flow, Script}};
#[derive(Default)]
pub struct Redirect;
impl Script for Redirect {{
    fn http_connect(&mut self, _ctx: &Context, flow: &mut Flow) {{
        match flow.request().host() {{
            "elsewhere.test" => {{
                flow.request_mut().set_host("127.0.0.1");
                flow.request_mut().set_port({port});
            }}
            "boom.test" => panic!("no tunnels to boom.test"),
            _ => {{}}
        }}
    }}
}}
waylay_sdk::export_script!(Redirect);
"#,
        port = origin.addr.port()
    );
    crate::support::write_crate(
        dir.path(),
        &[
            (
                "Cargo.toml",
                &crate::support::manifest("redirect", "\"cdylib\"", true),
            ),
            ("src/lib.rs", &lib),
        ],
    );
    let proxy = Proxy::start(&["-k", "-s", dir.path().to_str().unwrap()]);
    let out = curl_via(&proxy.url(), &["-k", "https://elsewhere.test/hello"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from origin\n",
        "the tunnel went to the origin"
    );
    let out = curl_via(&proxy.url(), &["-k", "-v", "https://boom.test/"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CONNECT tunnel failed, response 502"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stopped = proxy.stop();
    assert!(
        stopped.stderr.contains("hook `http_connect` panicked")
            || stopped.stdout.contains("hook `http_connect` panicked"),
        "{}{}",
        stopped.stdout,
        stopped.stderr
    );
}
