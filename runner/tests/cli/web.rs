//! `--web`: the view's API without a browser (windows, sorting, filters,
//! bodies, the token, the Host check, the push channel's Origin check),
//! and the proxy refusing to forward to the view.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::offline_run::Offline;
use crate::origin::Origin;
use crate::support::{Proxy, curl, golden, raw, root};

/// A running view: its address and token, and the runner serving it
/// (offline), or the proxy's (live).
pub struct View {
    pub addr: String,
    pub token: String,
    child: Option<Child>,
}

/// The address and token in a "Web view at http://ADDR/?token=T" line.
fn parse_line(line: &str) -> Option<(String, String)> {
    let url = line.strip_prefix("Web view at http://")?;
    let (addr, token) = url.split_once("/?token=")?;
    Some((addr.to_owned(), token.trim().to_owned()))
}

impl View {
    /// `runner -n --web --set web_port=0 ARGS`, once it serves.
    pub fn offline(args: &[&str]) -> View {
        let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
            .args(["-n", "--web", "--set", "web_port=0"])
            .args(args)
            .current_dir(root())
            .env("CARGO_TARGET_DIR", root().join("target/test-scripts"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the runner starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && let Some(found) = parse_line(&line) {
                    let _ = tx.send(found);
                    sent = true;
                }
            }
        });
        let Ok((addr, token)) = rx.recv_timeout(Duration::from_secs(120)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the runner did not print the view's address");
        };
        View {
            addr,
            token,
            child: Some(child),
        }
    }

    /// The view a live proxy started with `--web` prints.
    pub fn of(proxy: &Proxy) -> View {
        let (addr, token) = proxy
            .lines()
            .iter()
            .find_map(|l| parse_line(l))
            .expect("the proxy prints the view's address");
        View {
            addr,
            token,
            child: None,
        }
    }

    /// The address the runner printed, token and all.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }

    /// A GET with the token's cookie: status, head, body.
    pub fn get(&self, path: &str) -> (u16, String, String) {
        self.request(path, &[("Cookie", &format!("waylay_token={}", self.token))])
    }

    /// A GET with `headers` (and `Host` unless given): status, head, body.
    pub fn request(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
        let mut req = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            req += &format!("Host: {}\r\n", self.addr);
        }
        for (n, v) in headers {
            req += &format!("{n}: {v}\r\n");
        }
        req += "\r\n";
        let out = raw(&self.addr, req.as_bytes());
        let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_owned(), body.to_owned())
    }

    /// A JSON answer that must be 200.
    pub fn json(&self, path: &str) -> Value {
        let (status, head, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {head}\n{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    /// A POST with a JSON body (or none): status and body.
    pub fn post(&self, path: &str, body: Option<Value>) -> (u16, String) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.post_bytes(path, "application/json", body.as_bytes())
    }

    /// A POST with `body` as it is: status and body.
    pub fn post_bytes(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        self.call("POST", path, content_type, body)
    }

    /// A PUT of JSON `body`: status and body.
    pub fn put(&self, path: &str, body: Value) -> (u16, String) {
        self.call("PUT", path, "application/json", body.to_string().as_bytes())
    }

    /// A request with `method` and `body` as it is: status and body.
    pub fn call(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nCookie: waylay_token={}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            self.token,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        let out = crate::support::raw(&self.addr, &req);
        let status = out
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
        (status, body)
    }

    /// Waits until the view has `n` flows.
    pub fn wait_for_flows(&self, n: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let w = self.json("/api/flows");
            if w["total"].as_u64() >= Some(n) {
                return w;
            }
            assert!(Instant::now() < deadline, "the view has {w}, not {n} flows");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for View {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn urls(window: &Value) -> Vec<&str> {
    window["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .collect()
}

#[test]
fn windows_sort_and_filter_on_the_server() {
    let all = golden("all.mitm");
    let view = View::offline(&["-r", all.to_str().unwrap(), "-q"]);
    let w = view.wait_for_flows(5);
    assert_eq!(
        (w["total"].as_u64(), w["matched"].as_u64()),
        (Some(5), Some(5))
    );
    let by_status = view.json("/api/flows?sort=status&desc=1&count=2");
    assert_eq!(
        urls(&by_status),
        [
            "http://127.0.0.1:18081/missing/page",
            "http://127.0.0.1:18081/submit"
        ]
    );
    let second = view.json("/api/flows?sort=status&desc=1&start=2&count=2");
    assert_eq!(second["start"], 2);
    assert_eq!(second["rows"].as_array().unwrap().len(), 2);
    let posts = view.json("/api/flows?filter=~m%20POST");
    assert_eq!(
        (posts["matched"].as_u64(), posts["total"].as_u64()),
        (Some(1), Some(5))
    );
    let lit = view.json("/api/flows?highlight=~c%20404");
    let highlighted: Vec<bool> = lit["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["highlighted"].as_bool().unwrap())
        .collect();
    assert_eq!(highlighted, [false, false, true, false, false]);
    // A bad filter: 400, with what and where.
    let (status, _, body) = view.get("/api/flows?filter=~m%20GET%20%26%20~x");
    assert_eq!(status, 400, "{body}");
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["field"], "filter");
    assert_eq!(err["position"], 9, "{err}");
    assert!(
        err["error"].as_str().unwrap().contains("unknown filter ~x"),
        "{err}"
    );
    let (status, _, body) = view.get("/api/flows?sort=colour");
    assert_eq!(status, 400);
    assert!(body.contains("expected time, method"), "{body}");
    // The detail, and a body by range, never served as what it claims.
    let detail = view.json("/api/flows/1");
    assert_eq!(detail["request"]["method"], "POST");
    assert_eq!(detail["response"]["status_code"], 201);
    let (status, head, part) = view.get("/api/flows/1/response/body?offset=2&limit=8");
    assert_eq!(status, 200);
    assert!(head.contains("x-body-length: 16"), "{head}");
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    assert_eq!(part.len(), 8);
    let (status, _, body) = view.get("/api/flows/9/response/body");
    assert_eq!(status, 404);
    assert!(body.contains("there is no flow 9"), "{body}");
    // Export gives the flows back as the file held them.
    let (status, _, _) = view.get("/api/save?format=mitm&flows=0,2");
    assert_eq!(status, 200);
}

#[test]
fn the_token_the_host_and_the_origin_are_checked() {
    let all = golden("all.mitm");
    let view = View::offline(&["-r", all.to_str().unwrap(), "-q"]);
    let (status, head, body) = view.request("/api/flows", &[]);
    assert_eq!(status, 403, "{head}");
    assert!(body.contains("needs its access token"), "{body}");
    assert!(head.contains("x-frame-options: DENY"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    let (status, _, _) = view.request("/api/flows", &[("Cookie", "waylay_token=wrong")]);
    assert_eq!(status, 403);
    // The printed address sets the cookie and drops the token from the URL.
    let (status, head, _) = view.request(&format!("/?token={}", view.token), &[]);
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("location: /\r\n"), "{head}");
    assert!(
        head.contains(&format!(
            "set-cookie: waylay_token={}; HttpOnly; SameSite=Strict; Path=/",
            view.token
        )),
        "{head}"
    );
    // A page on another site whose name now points here (DNS rebinding).
    let cookie = format!("waylay_token={}", view.token);
    let port = view.addr.rsplit_once(':').unwrap().1;
    let (status, _, body) = view.request(
        "/api/flows",
        &[
            ("Host", &format!("rebind.example:{port}")),
            ("Cookie", &cookie),
        ],
    );
    assert_eq!(status, 403);
    assert!(body.contains("DNS rebinding"), "{body}");
    let (status, _, _) = view.request(
        "/api/flows",
        &[("Host", &format!("localhost:{port}")), ("Cookie", &cookie)],
    );
    assert_eq!(status, 200);
    // The push channel takes the view's own page only.
    let upgrade = |origin: &str| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&view.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        write!(
            stream,
            "GET /api/updates HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n\r\n",
            view.addr
        )
        .unwrap();
        let mut head = [0; 12];
        stream.read_exact(&mut head).unwrap();
        String::from_utf8_lossy(&head[9..12])
            .parse::<u16>()
            .unwrap()
    };
    assert_eq!(upgrade("http://evil.example"), 403);
    let own = format!("http://{}", view.addr);
    assert_eq!(upgrade(&own), 101);
}

#[test]
fn live_flows_reach_the_view_and_the_proxy_refuses_to_forward_to_it() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    assert_eq!(
        curl(&proxy, &[&origin.url("/hello")]),
        "hello from origin\n"
    );
    curl(&proxy, &[&origin.url("/data.json")]);
    let w = view.wait_for_flows(2);
    assert_eq!(urls(&w), [origin.url("/hello"), origin.url("/data.json")]);
    // A request through the proxy to the view's own address (mitmproxy's
    // CVE-2025-23217): refused, token or not.
    let through = curl(
        &proxy,
        &[
            "-i",
            "-b",
            &format!("waylay_token={}", view.token),
            &format!("http://{}/api/flows", view.addr),
        ],
    );
    assert!(through.starts_with("HTTP/1.1 502"), "{through}");
    assert!(through.contains("web view"), "{through}");
    let out = proxy.stop();
    assert!(
        out.stdout.contains("Web view at http://127.0.0.1:"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_web_settings_get_one_line() {
    // A port already taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let taken_port = format!("web_port={port}");
    let in_use = format!(
        "runner: error: --web: cannot listen on 127.0.0.1:{port}; is mitmweb or another runner there?"
    );
    // (the option, the error line, whether the OS's own words follow it)
    for (option, line, os_words) in [
        (
            "web_port=99999",
            "runner: error: --set web_port=99999: expected a port number from 0 to 65535",
            false,
        ),
        (
            "web_host=example.com",
            "runner: error: --set web_host=example.com: expected an IP address such as 127.0.0.1 or ::1",
            false,
        ),
        (taken_port.as_str(), in_use.as_str(), true),
    ] {
        let out = Offline::golden("get.mitm")
            .args(&["--web"])
            .set(option)
            .run();
        assert_eq!(out.code, 1, "{option}: {}", out.stderr);
        let said = out.error_line();
        assert!(
            said == line || (os_words && said.starts_with(line)),
            "{option}: {said}"
        );
        assert_eq!(out.runner_lines().len(), 1, "{}", out.stderr);
    }
}

/// The event pane's lines so far, as "level: text".
pub fn log_lines(view: &View) -> Vec<String> {
    view.json("/api/log?level=debug")["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}: {}",
                l["level"].as_str().unwrap(),
                l["text"].as_str().unwrap()
            )
        })
        .collect()
}

/// Waits until a log line contains `what`.
pub fn wait_for_log(view: &View, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(line) = log_lines(view).into_iter().find(|l| l.contains(what)) {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no log line has {what:?}: {:?}",
            log_lines(view)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_file_posted_to_open_joins_the_view_and_a_bad_one_says_why() {
    let view = View::offline(&["-r", golden("websocket.mitm").to_str().unwrap(), "-q"]);
    view.wait_for_flows(1);
    let all = std::fs::read(golden("all.mitm")).unwrap();
    let (status, body) =
        view.post_bytes("/api/open?name=all.mitm", "application/octet-stream", &all);
    assert_eq!(status, 202, "{body}");
    let w = view.wait_for_flows(6);
    assert_eq!(w["total"], 6);
    wait_for_log(&view, "Opened 5 flow(s) from all.mitm.");
    // A HAR file too.
    let har = std::fs::read(golden("all.har")).unwrap();
    let (status, _) = view.post_bytes("/api/open?name=all.har", "application/json", &har);
    assert_eq!(status, 202);
    view.wait_for_flows(7);
    // Not a flow file: one line that says where and what, and the flows
    // before it stay.
    let (status, _) = view.post_bytes(
        "/api/open?name=junk.mitm",
        "application/octet-stream",
        b"hello there",
    );
    assert_eq!(status, 202);
    let line = wait_for_log(&view, "junk.mitm");
    assert!(
        line.starts_with("error: runner: junk.mitm: ")
            || line.starts_with("warn: runner: junk.mitm: "),
        "{line}"
    );
    assert!(
        line.ends_with("the view took the 0 flow(s) before it"),
        "{line}"
    );
    let (status, _) = view.post_bytes(
        "/api/open?name=cut.mitm",
        "application/octet-stream",
        &all[..all.len() - 10],
    );
    assert_eq!(status, 202);
    let line = wait_for_log(&view, "cut.mitm");
    assert!(
        line.ends_with("the view took the 4 flow(s) before it"),
        "{line}"
    );
    // Nothing at all: refused at once.
    let (status, body) =
        view.post_bytes("/api/open?name=empty.mitm", "application/octet-stream", b"");
    assert_eq!(status, 400);
    assert!(
        body.contains("empty.mitm: the file is empty; pick a .mitm or HAR file"),
        "{body}"
    );
}
