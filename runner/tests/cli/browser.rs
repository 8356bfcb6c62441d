//! Headless Chromium through the live proxy: a page and its script are
//! rewritten on the way, and the DOM the browser built shows it.

use std::process::Command;

use crate::origin::Origin;
use crate::support::{Proxy, scratch};

/// Debian's Chromium, or `None` (outside CI) to skip.
fn chromium() -> Option<&'static str> {
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

#[test]
fn chromium_loads_a_page_and_its_script_rewritten() {
    let Some(chromium) = chromium() else { return };
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "examples/replace_text hello howdy"]);
    let profile = scratch();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server={}", proxy.url()))
        // Chromium sends loopback traffic direct unless told otherwise.
        .arg("--proxy-bypass-list=<-loopback>")
        .arg("--dump-dom")
        .arg(origin.url("/page.html"))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<p id=\"page\">howdy from the page</p>"),
        "{dom}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.contains("<p id=\"script\">howdy from the script</p>"),
        "{dom}"
    );
    let stopped = proxy.stop();
    assert!(
        stopped
            .stdout
            .contains(&format!("GET {} << 200 OK", origin.url("/app.js"))),
        "{}",
        stopped.stdout
    );
}
