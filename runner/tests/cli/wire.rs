//! The bytes on the wire, beside mitmdump 11: the same raw requests through
//! each, to an origin that answers with fixed bytes (Content-Length,
//! chunked, close-delimited, 204, 304, HEAD) and records what it was sent.
//! What the client receives and what the origin receives must be the same
//! bytes from both, with and without a script that changes the body.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::mitmdump::Mitmdump;
use crate::support::{Proxy, scratch, write_crate};

/// What the origin answers for each path, whatever the method.
const ANSWERS: &[(&str, &str)] = &[
    (
        "/length",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: keep-alive\r\nX-Mixed-Case: Yes\r\n\r\nhello there",
    ),
    (
        "/chunked",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nX-After: 1\r\n\r\n5\r\nhello\r\n6\r\n there\r\n0\r\n\r\n",
    ),
    (
        "/until-close",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Framing: none\r\n\r\nhello until close",
    ),
    (
        "/http10",
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    ),
    (
        "/nocontent",
        "HTTP/1.1 204 No Content\r\nX-Empty: yes\r\n\r\n",
    ),
    (
        "/notmodified",
        "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 50\r\n\r\n",
    ),
];

/// An origin that answers from [`ANSWERS`] (a HEAD gets the head only)
/// and keeps every request's bytes.
struct RawOrigin {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl RawOrigin {
    fn start() -> RawOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let keep = keep.clone();
                std::thread::spawn(move || answer(stream, &keep));
            }
        });
        RawOrigin { addr, seen }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn answer(mut stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    loop {
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => request.push(byte[0]),
                _ => return,
            }
        }
        let text = String::from_utf8_lossy(&request).into_owned();
        let length = text
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let chunked = text
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let mut body = vec![0u8; length];
        if stream.read_exact(&mut body).is_err() {
            return;
        }
        // A chunked body, as it came: up to its last chunk.
        while chunked && !body.ends_with(b"0\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => body.push(byte[0]),
                _ => return,
            }
        }
        seen.lock()
            .unwrap()
            .push(format!("{text}{}", String::from_utf8_lossy(&body)));
        let head = text.starts_with("HEAD ");
        let path = text.split_whitespace().nth(1).unwrap_or("/");
        let path = path
            .rsplit_once("//")
            .map_or(path, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
        let Some((_, bytes)) = ANSWERS.iter().find(|(p, _)| *p == path) else {
            return;
        };
        let bytes = if head {
            &bytes[..bytes.find("\r\n\r\n").unwrap() + 4]
        } else {
            bytes
        };
        if stream.write_all(bytes.as_bytes()).is_err() || path == "/until-close" {
            return;
        }
    }
}

/// Reads one byte, or `None` at the end of the stream or after 10 s.
fn byte(stream: &mut TcpStream) -> Option<u8> {
    let mut b = [0u8; 1];
    matches!(stream.read(&mut b), Ok(1)).then_some(b[0])
}

/// Reads up to and including `end`, or to the end of the stream.
fn until(stream: &mut TcpStream, out: &mut Vec<u8>, end: &[u8]) {
    while !out.ends_with(end) {
        match byte(stream) {
            Some(b) => out.push(b),
            None => return,
        }
    }
}

/// Sends `request` to `proxy` on a fresh connection; returns the response
/// read by its own framing (a length, chunks, or the end of the stream),
/// then `<closed>` if the proxy closed the connection after it.
fn exchange(proxy: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(proxy).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    until(&mut stream, &mut out, b"\r\n\r\n");
    let head = String::from_utf8_lossy(&out).to_ascii_lowercase();
    let status = head.get(9..12).unwrap_or_default().to_owned();
    let field = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    let bodiless = request.starts_with("HEAD ")
        || status.starts_with('1')
        || status == "204"
        || status == "304";
    let mut closed = false;
    if bodiless {
    } else if field("transfer-encoding:").is_some_and(|te| te.ends_with("chunked")) {
        loop {
            let mut size = Vec::new();
            until(&mut stream, &mut size, b"\r\n");
            out.extend_from_slice(&size);
            let n = usize::from_str_radix(String::from_utf8_lossy(&size).trim(), 16).unwrap_or(0);
            if n == 0 {
                // Trailers, if any, then the blank line.
                let mut rest = b"\r\n".to_vec();
                until(&mut stream, &mut rest, b"\r\n\r\n");
                out.extend_from_slice(&rest[2..]);
                break;
            }
            for _ in 0..n + 2 {
                out.extend(byte(&mut stream));
            }
        }
    } else if let Some(n) = field("content-length:").and_then(|v| v.parse::<usize>().ok()) {
        for _ in 0..n {
            out.extend(byte(&mut stream));
        }
    } else {
        let _ = stream.read_to_end(&mut out);
        closed = true;
    }
    // Whether the proxy closes after it: a proxy that does, does at once.
    if !closed {
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        closed = matches!(stream.read(&mut [0u8; 1]), Ok(0));
    }
    if closed {
        out.extend_from_slice(b"<closed>");
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every request, in turn, through the proxy at `proxy`: what the client
/// got and what the origin was sent, for each.
fn run_all(proxy: &str, origin: &RawOrigin) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, _) in ANSWERS {
        for method in ["GET", "HEAD", "POST", "POST chunked"] {
            let url = format!("http://{}{path}", origin.addr);
            let mut request = format!(
                "{} {url} HTTP/1.1\r\nHost: {}\r\nUser-Agent: wire-test\r\nAccept: */*\r\nX-Client-Case: Kept\r\nProxy-Connection: Keep-Alive\r\n",
                method.split(' ').next().unwrap(),
                origin.addr
            );
            match method {
                "POST" => {
                    request += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2"
                }
                "POST chunked" => {
                    request += "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n"
                }
                _ => request += "Connection: keep-alive\r\n\r\n",
            }
            let got = exchange(proxy, &request);
            std::thread::sleep(Duration::from_millis(50));
            let sent = origin.take().join("\n---\n");
            out.push((format!("{method} {path}"), got, sent));
        }
    }
    out
}

/// Runs every request through Waylay (`waylay_args`) and mitmdump
/// (`mitm_args`) and compares the bytes.
fn compare(waylay_args: &[&str], mitm_args: &[String]) {
    let Some(python) = crate::interop::peer() else {
        return;
    };
    let origin = RawOrigin::start();
    let proxy = Proxy::start(waylay_args);
    let ours = run_all(&proxy.addr, &origin);
    proxy.stop();
    let confdir = scratch();
    let mitmdump = Mitmdump::start(&python, confdir.path(), mitm_args);
    let theirs = run_all(&mitmdump.addr, &origin);
    mitmdump.stop();
    let mut differ = Vec::new();
    for ((what, got, sent), (_, their_got, their_sent)) in ours.iter().zip(&theirs) {
        if got != their_got {
            differ.push(format!(
                "{what}: the client got\n  Waylay:   {got:?}\n  mitmdump: {their_got:?}"
            ));
        }
        if sent != their_sent {
            differ.push(format!(
                "{what}: the origin was sent\n  Waylay:   {sent:?}\n  mitmdump: {their_sent:?}"
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn the_bytes_on_the_wire_are_mitmdumps() {
    compare(&[], &[]);
}

#[test]
fn with_a_script_that_changes_bodies_the_bytes_are_mitmdumps() {
    let dir = scratch();
    let script = dir.path().join("reword");
    write_crate(
        &script,
        &[
            (
                "Cargo.toml",
                &crate::support::manifest("reword", "\"cdylib\"", true),
            ),
            (
                "src/lib.rs",
                r#"
use waylay_sdk::{Context, Flow, Script};

#[derive(Default)]
pub struct Reword;

impl Script for Reword {
    fn request(&mut self, _: &Context, flow: &mut Flow) {
        let body = String::from_utf8_lossy(flow.request().content().ok().flatten().unwrap_or_default()).into_owned();
        if !body.is_empty() {
            let _ = flow.request_mut().set_content(body.replace("a=1", "a=one"));
        }
    }
    fn response(&mut self, _: &Context, flow: &mut Flow) {
        let Some(response) = flow.response_mut() else { return };
        let body = String::from_utf8_lossy(response.content().ok().flatten().unwrap_or_default()).into_owned();
        if !body.is_empty() {
            let _ = response.set_content(body.replace("hello", "howdy, world"));
        }
    }
}

waylay_sdk::export_script!(Reword);
"#,
            ),
        ],
    );
    let python = dir.path().join("reword.py");
    std::fs::write(
        &python,
        r#"
def request(flow):
    if flow.request.content:
        flow.request.content = flow.request.content.replace(b"a=1", b"a=one")

def response(flow):
    if flow.response.content:
        flow.response.content = flow.response.content.replace(b"hello", b"howdy, world")
"#,
    )
    .unwrap();
    compare(
        &["-s", script.to_str().unwrap()],
        &["-s".into(), python.to_str().unwrap().into()],
    );
}
