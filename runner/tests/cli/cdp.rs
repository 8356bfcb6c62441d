//! A small Chrome DevTools Protocol driver for the web view's tests:
//! Debian's headless Chromium, one page, `Runtime.evaluate`, key presses
//! and screenshots, over the WebSocket client the tests already have
//! (`tungstenite`). ARCHITECTURE.md says why this is not chromiumoxide.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::stream::MaybeTlsStream;
use tokio_tungstenite::tungstenite::{Message, WebSocket, connect};

use crate::support::{root, scratch};

/// Debian's Chromium; `None` (outside CI) to skip.
pub fn chromium() -> Option<&'static str> {
    let path = "/usr/bin/chromium";
    if std::path::Path::new(path).exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{path} is missing; .ci/run installs Debian's chromium");
    }
    eprintln!("skipping: {path} is not installed (apt-get install chromium)");
    None
}

/// A headless Chromium with one page attached. When the test that owns
/// it panics, it saves a screenshot under `target/web-screenshots/`.
pub struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    name: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with the flags the machine notes give, and opens
    /// a blank page; `name` names the screenshot.
    pub fn start(chromium: &str, name: &str) -> Browser {
        let profile = scratch();
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--window-size=1280,800",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium prints its DevTools address");
        let (mut socket, _) = connect(url.as_str()).expect("DevTools accepts the connection");
        if let MaybeTlsStream::Plain(s) = socket.get_mut() {
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        }
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            name: name.to_owned(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({}));
        browser.call("Runtime.enable", json!({}));
        browser
    }

    /// Sends a command (to the page once attached) and waits for its
    /// answer; panics on a protocol error.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::Text(msg.to_string().into()))
            .expect("DevTools takes the command");
        loop {
            let reply = self.socket.read().expect("DevTools answers");
            let Message::Text(text) = reply else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    /// Loads `url`.
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
    }

    /// Evaluates `js` in the page (awaiting a promise) and returns its
    /// value.
    pub fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{js}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Waits up to 20 s for `js` to be true; panics with `what` and the
    /// page's text if it never is.
    pub fn wait_for(&mut self, js: &str, what: &str) {
        self.wait_for_long(js, what, Duration::from_secs(20));
    }

    /// [`wait_for`](Browser::wait_for), up to `limit`.
    pub fn wait_for_long(&mut self, js: &str, what: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let r = self.call(
                "Runtime.evaluate",
                json!({"expression": format!("!!({js})"), "returnByValue": true}),
            );
            if r["result"]["value"] == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                let text = self.eval("document.body ? document.body.innerText : ''");
                panic!("timed out waiting until {what} ({js}); the page said:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `text` into the element `selector` as keystrokes.
    pub fn type_into(&mut self, selector: &str, text: &str) {
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector:?}); e.focus(); e.select(); }})()"
        ));
        self.call("Input.insertText", json!({"text": text}));
    }

    /// Presses one key (`j`, `Enter`, `Tab`, …) as a user would.
    pub fn press(&mut self, key: &str) {
        let (code, text) = match key {
            "Enter" => (13, "\r"),
            "Tab" => (9, ""),
            "Escape" => (27, ""),
            k => (k.to_ascii_uppercase().chars().next().unwrap() as i64, k),
        };
        for kind in ["keyDown", "keyUp"] {
            let mut params = json!({"type": kind, "key": key, "windowsVirtualKeyCode": code});
            if kind == "keyDown" && !text.is_empty() {
                params["text"] = json!(text);
            }
            self.call("Input.dispatchKeyEvent", params);
        }
    }

    /// Presses Ctrl with `key` (a letter).
    pub fn press_ctrl(&mut self, key: &str) {
        let code = key.to_ascii_uppercase().chars().next().unwrap() as i64;
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "windowsVirtualKeyCode": code, "modifiers": 2}),
            );
        }
    }

    /// Clicks the element `selector` with Ctrl held, as a user choosing
    /// more than one row does.
    pub fn ctrl_click(&mut self, selector: &str) {
        self.eval(&format!(
            "document.querySelector({selector:?}).dispatchEvent(new MouseEvent('click', {{bubbles: true, ctrlKey: true}}))"
        ));
    }

    /// Puts `path` in the file input `selector`, as picking it in the
    /// file dialog does (its `change` event fires).
    pub fn set_file(&mut self, selector: &str, path: &std::path::Path) {
        let doc = self.call("DOM.getDocument", json!({}));
        let root = doc["root"]["nodeId"].clone();
        let node = self.call(
            "DOM.querySelector",
            json!({"nodeId": root, "selector": selector}),
        );
        self.call(
            "DOM.setFileInputFiles",
            json!({"files": [path.display().to_string()], "nodeId": node["nodeId"]}),
        );
    }

    /// Saves a screenshot; returns where.
    pub fn screenshot(&mut self) -> PathBuf {
        use base64::Engine as _;
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let dir = root().join("target/web-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.png", self.name));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or(""))
            .unwrap_or_default();
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = self.screenshot();
            eprintln!("the page at the failure: {}", path.display());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
