//! Client replay (`-C`), and scripts' `Context::replay` and
//! `Context::duplicate`, against a real origin on loopback that counts
//! what it is sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use waylay_proxy::Flow;
use waylay_proxy::http::Which;
use waylay_proxy::tnetstring::Value;

use crate::offline_run::Offline;
use crate::support::{Proxy, curl, flows, golden, path_in, root, scratch};

/// The recording fixture, from the workspace root (where runs start).
const RECORDER: &str = "runner/tests/fixtures/recorder";

/// An origin that keeps every request line and body it gets, and how many
/// it was serving at once at most. `/slow...` answers after 300 ms.
struct Counting {
    addr: SocketAddr,
    seen: Seen,
    most: Arc<AtomicUsize>,
}

/// Each request line and its body, in the order they came.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

impl Counting {
    fn start() -> Counting {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (s, b, m) = (seen.clone(), busy.clone(), most.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, b, m) = (s.clone(), b.clone(), m.clone());
                std::thread::spawn(move || serve(stream, &s, &b, &m));
            }
        });
        Counting { addr, seen, most }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The request lines so far (`GET /a`).
    fn requests(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(l, _)| l.clone())
            .collect()
    }

    fn body_of(&self, line: &str) -> Option<Vec<u8>> {
        let seen = self.seen.lock().unwrap();
        seen.iter().find(|(l, _)| l == line).map(|(_, b)| b.clone())
    }

    /// Waits until it has `n` requests (at most 20 s).
    fn wait_for(&self, n: usize) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(20);
        while self.seen.lock().unwrap().len() < n && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.requests()
    }

    fn clear(&self) {
        self.seen.lock().unwrap().clear();
        self.most.store(0, Ordering::SeqCst);
    }
}

fn serve(
    stream: TcpStream,
    seen: &Mutex<Vec<(String, Vec<u8>)>>,
    busy: &AtomicUsize,
    most: &AtomicUsize,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_owned());
        }
        let length = head
            .iter()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut words = head[0].split_whitespace();
        let line = format!(
            "{} {}",
            words.next().unwrap_or(""),
            words.next().unwrap_or("")
        );
        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        let n = {
            let mut seen = seen.lock().unwrap();
            seen.push((line.clone(), body));
            seen.len()
        };
        if line.contains(" /slow") {
            std::thread::sleep(Duration::from_millis(300));
        }
        busy.fetch_sub(1, Ordering::SeqCst);
        let reply = format!("reply {n} to {line}");
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if out.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Records `paths` (a `POST` for paths starting `/post`, with a body)
/// through a live proxy into a flow file.
fn record(origin: &Counting, dir: &tempfile::TempDir, paths: &[&str]) -> String {
    let file = path_in(dir, "recorded.mitm");
    let proxy = Proxy::start(&["-w", &file]);
    for path in paths {
        let url = origin.url(path);
        if path.starts_with("/post") {
            curl(&proxy, &["-d", "name=waylay&x=1", &url]);
        } else {
            curl(&proxy, &[&url]);
        }
    }
    let out = proxy.stop();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(flows(&file).len(), paths.len());
    origin.clear();
    file
}

fn body(flow: &Flow, which: Which) -> String {
    let content = flow
        .message(which)
        .and_then(|m| m.get("content"))
        .and_then(Value::as_bytes)
        .unwrap_or_default();
    String::from_utf8_lossy(content).into_owned()
}

fn path(flow: &Flow) -> String {
    let path = flow.request().and_then(|r| r.get("path"));
    String::from_utf8_lossy(path.and_then(Value::as_bytes).unwrap_or_default()).into_owned()
}

#[test]
fn offline_client_replay_sends_every_request_again_and_writes_the_answers() {
    let origin = Counting::start();
    let dir = scratch();
    let recorded = record(&origin, &dir, &["/a", "/post/b", "/c?x=1&x=2"]);
    let result = Offline::new().args(&["-C", &recorded]).write().run().ok();
    assert_eq!(
        origin.requests(),
        ["GET /a", "POST /post/b", "GET /c?x=1&x=2"],
        "in order, once each"
    );
    assert_eq!(
        origin.body_of("POST /post/b").as_deref(),
        Some(&b"name=waylay&x=1"[..])
    );
    let before = flows(&recorded);
    let after = result.written();
    assert_eq!(after.len(), 3);
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        // mitmproxy's client replay sends the flow itself: the id stays.
        assert_eq!(a.id(), b.id());
        assert_eq!(a.text("is_replay"), Some("request"));
        assert!(a.error_msg().is_none(), "{:?}", a.error_msg());
        assert!(
            body(a, Which::Response).starts_with(&format!("reply {} to ", i + 1)),
            "{}",
            body(a, Which::Response)
        );
    }
    // The file the replay wrote is one mitmproxy's own reader takes.
    assert!(result.stdout.contains("/post/b"), "{}", result.stdout);
    finished_after(&result.stdout, "/c?x=1");
}

/// "client replay finished" comes once, after the line of the flow whose
/// path is `last`.
fn finished_after(stdout: &str, last: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    let finished: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].ends_with("client replay finished"))
        .collect();
    let flow = lines.iter().position(|l| l.contains(last));
    assert!(
        finished.len() == 1 && flow.is_some_and(|f| f < finished[0]),
        "{stdout}"
    );
}

#[test]
fn live_client_replay_replays_then_keeps_serving() {
    let origin = Counting::start();
    let dir = scratch();
    let recorded = record(&origin, &dir, &["/one", "/two"]);
    let capture = path_in(&dir, "capture.mitm");
    let proxy = Proxy::start(&["-C", &recorded, "-w", &capture]);
    assert_eq!(origin.wait_for(2), ["GET /one", "GET /two"]);
    // Still a proxy once the replays are done.
    let answer = curl(&proxy, &[&origin.url("/three")]);
    assert!(answer.starts_with("reply 3 to GET /three"), "{answer}");
    let out = proxy.stop();
    finished_after(&out.stdout, "/two");
    let captured = flows(&capture);
    let replayed: Vec<String> = captured
        .iter()
        .filter(|f| f.text("is_replay") == Some("request"))
        .map(path)
        .collect();
    assert_eq!(replayed, ["/one", "/two"]);
    assert_eq!(captured.len(), 3);
}

#[test]
fn concurrency_one_waits_for_each_answer_and_minus_one_does_not() {
    let origin = Counting::start();
    let dir = scratch();
    let recorded = record(&origin, &dir, &["/slow1", "/slow2", "/slow3", "/slow4"]);
    // (the concurrency option, whether more than one was out at once)
    for (option, together) in [(None, false), (Some("client_replay_concurrency=-1"), true)] {
        origin.clear();
        origin.most.store(0, Ordering::SeqCst);
        let mut run = Offline::new().args(&["-q", "-C", &recorded]);
        if let Some(option) = option {
            run = run.set(option);
        }
        run.run().ok();
        assert_eq!(origin.requests().len(), 4);
        let most = origin.most.load(Ordering::SeqCst);
        assert_eq!(most >= 2, together, "{option:?}: {most} at once at most");
    }
}

#[test]
fn a_replay_that_cannot_reach_its_server_is_an_error_flow_that_says_it_needed_the_network() {
    let refused = golden("refused.mitm");
    let result = Offline::new()
        .args(&["-C", refused.to_str().unwrap()])
        .write()
        .run()
        .ok();
    let written = result.written();
    assert_eq!(written.len(), 1);
    let error = written[0].error_msg().unwrap_or_default().to_owned();
    assert!(
        error.contains("127.0.0.1:18099") && error.contains("network, even offline"),
        "{error}"
    );
    assert_eq!(written[0].text("is_replay"), Some("request"));
}

#[test]
fn what_cannot_be_replayed_is_skipped_with_a_warning() {
    let ws = golden("websocket.mitm");
    let tcp = golden("tcp.mitm");
    let result = Offline::new()
        .args(&["-C", ws.to_str().unwrap(), "-C", tcp.to_str().unwrap()])
        .write()
        .run()
        .ok();
    let all = format!("{}{}", result.stdout, result.stderr);
    assert!(
        all.contains("can't replay WebSocket flows; skipped"),
        "{all}"
    );
    assert!(all.contains("can only replay HTTP flows; skipped"), "{all}");
    assert!(result.written().is_empty());
}

#[test]
fn bad_client_replay_input_is_one_line() {
    let dir = scratch();
    let missing = path_in(&dir, "missing.mitm");
    let broken = path_in(&dir, "broken.mitm");
    let mut bytes = std::fs::read(golden("get.mitm")).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&broken, bytes).unwrap();
    let cut_short = format!("runner: error: -C {broken}: ");
    // (arguments, [how the one error line starts, what it then says])
    for (args, [start, then]) in [
        (
            ["-C", missing.as_str()],
            ["runner: error: -C ", "cannot read the flows to replay"],
        ),
        (
            ["-C", broken.as_str()],
            [cut_short.as_str(), "nothing was replayed"],
        ),
        (
            ["--set", "client_replay_concurrency=4"],
            [
                "runner: error: ",
                "client_replay_concurrency=4: the only values are 1 (one at a time) and -1",
            ],
        ),
    ] {
        let result = Offline::new().args(&args).run();
        assert_eq!(result.code, 1, "{args:?}");
        let line = result.error_line();
        assert!(
            line.starts_with(start) && line.contains(then),
            "{args:?}: {line}"
        );
    }
}

fn example(name: &str) -> String {
    root().join("examples").join(name).display().to_string()
}

#[test]
fn a_script_replays_a_changed_copy_offline_and_live() {
    let origin = Counting::start();
    let dir = scratch();
    let recorded = record(&origin, &dir, &["/a", "/post/b"]);
    // Offline: each flow read is copied, changed and sent to the origin.
    let script = example("duplicate-modify-replay");
    let result = Offline::read(&recorded).script(&script).write().run().ok();
    assert_eq!(origin.requests(), ["GET /changed", "POST /changed"]);
    assert_eq!(
        origin.body_of("POST /changed").as_deref(),
        Some(&b"name=waylay&x=1"[..])
    );
    let written = result.written();
    let read = flows(&recorded);
    assert_eq!(written.len(), 4, "the two read and their two replays");
    assert_eq!(&written[..1], &read[..1]);
    let replays: Vec<&Flow> = written
        .iter()
        .filter(|f| f.text("is_replay") == Some("request"))
        .collect();
    assert_eq!(replays.len(), 2);
    for replay in replays {
        assert_eq!(path(replay), "/changed");
        assert!(read.iter().all(|f| f.id() != replay.id()), "a new id");
        assert!(body(replay, Which::Response).contains(" /changed"));
    }
    // Live: the client's request and its changed replay both reach the
    // origin; the replay is not replayed again.
    origin.clear();
    let capture = path_in(&dir, "capture.mitm");
    let proxy = Proxy::start(&["-s", &script, "-w", &capture]);
    let answer = curl(&proxy, &[&origin.url("/live")]);
    assert!(answer.contains("GET /live"), "{answer}");
    let mut seen = origin.wait_for(2);
    seen.sort();
    assert_eq!(seen, ["GET /changed", "GET /live"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(origin.requests().len(), 2);
    proxy.stop();
    let captured = flows(&capture);
    assert_eq!(captured.len(), 2);
    assert_eq!(
        captured
            .iter()
            .filter(|f| f.text("is_replay") == Some("request"))
            .count(),
        1
    );
}

#[test]
fn a_copy_is_seen_by_the_other_scripts_and_written() {
    let result = Offline::golden("get.mitm")
        .script(&format!("{RECORDER} A dup"))
        .script(&format!("{RECORDER} B"))
        .write()
        .run()
        .ok();
    let lines: Vec<&str> = result.stdout.lines().collect();
    let count = |what: &str| lines.iter().filter(|l| l.ends_with(what)).count();
    // A made the copy and does not see it; B sees the original and the copy.
    assert_eq!(count("A request /hello?x=1"), 1, "{}", result.stdout);
    assert_eq!(count("B request /hello?x=1"), 2, "{}", result.stdout);
    assert_eq!(count("B response /hello?x=1"), 2, "{}", result.stdout);
    let written = result.written();
    assert_eq!(written.len(), 2);
    let original = &flows(golden("get.mitm"))[0];
    assert_eq!(
        written[1].text("comment"),
        Some(&*format!("copy of {}", original.id()))
    );
    assert_ne!(written[1].id(), original.id());
    // B's header reached the copy as well as the original.
    let seen_by = |f: &Flow| {
        waylay_proxy::http::header(f.request().unwrap(), "x-seen-by")
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    assert!(seen_by(&written[1]).is_some());
}

#[test]
fn https_flows_replay_over_tls_and_a_certificate_failure_is_an_error_flow() {
    use crate::tls_origin::{Cert, TlsOrigin};
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let dir = scratch();
    let recorded = path_in(&dir, "recorded.mitm");
    let trust = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.display()
    );
    let proxy = Proxy::start(&["--set", &trust, "-w", &recorded]);
    crate::support::curl_https(&proxy, &[&origin.url("/secure")]);
    proxy.stop();
    assert_eq!(flows(&recorded).len(), 1);
    let status = |f: &Flow| {
        f.response()
            .and_then(|r| r.get("status_code"))
            .and_then(Value::as_int)
    };
    // Trusted: the replay gets the origin's answer, over HTTP/2 as the
    // origin offers it.
    let confdir = path_in(&dir, "conf");
    let replay = || Offline::new().args(&["--confdir", &confdir, "-C", &recorded]);
    let replayed = replay().set(&trust).write().run().ok().written();
    assert_eq!(
        status(&replayed[0]),
        Some(200),
        "{:?}",
        replayed[0].error_msg()
    );
    assert_eq!(replayed[0].text("is_replay"), Some("request"));
    // Not trusted: an error flow naming the certificate problem.
    let failed = replay().write().run().ok().written();
    let error = failed[0].error_msg().unwrap_or_default();
    assert!(status(&failed[0]).is_none());
    assert!(
        error.contains("certificate") && error.contains("even offline"),
        "{error}"
    );
}

#[test]
fn two_scripts_copying_each_others_copies_stop_at_one_each() {
    let result = Offline::golden("get.mitm")
        .script(&format!("{RECORDER} A dup"))
        .script(&format!("{RECORDER} B dup"))
        .write()
        .run()
        .ok();
    // The original, A's copy and B's copy; each script's attempt to copy
    // the other's copy is refused, in words.
    assert_eq!(result.written().len(), 3);
    let refused = result
        .stdout
        .lines()
        .filter(|l| l.contains("cannot copy: this flow is another script's copy"))
        .count();
    assert_eq!(refused, 2, "{}", result.stdout);
}

#[test]
fn a_copy_does_not_go_through_the_rewriting_options_again() {
    use waylay_proxy::flowfile::FlowWriter;
    let dir = scratch();
    // Two recordings for the golden GET, bodies "first" and "second".
    let recorded = path_in(&dir, "recorded.mitm");
    let mut writer = FlowWriter::new(std::fs::File::create(&recorded).unwrap());
    for body in ["first", "second"] {
        let mut flow = flows(golden("get.mitm")).remove(0).duplicate();
        let resp = flow.message_mut(Which::Response).unwrap();
        resp.insert("content", Value::bytes(body.as_bytes()));
        writer.write_flow(&flow).unwrap();
    }
    writer.flush().unwrap();
    drop(writer);
    let written = Offline::golden("get.mitm")
        .args(&["-S", &recorded])
        .script(&format!("{RECORDER} A dup"))
        .write()
        .run()
        .ok()
        .written();
    assert_eq!(written.len(), 2);
    // The flow read took the first recording; its copy is the same answer,
    // not the second recording taken by a second pass of server replay.
    assert_eq!(body(&written[0], Which::Response), "first");
    assert_eq!(body(&written[1], Which::Response), "first");
    assert_eq!(
        written[1].text("comment"),
        Some(&*format!("copy of {}", written[0].id()))
    );
}
