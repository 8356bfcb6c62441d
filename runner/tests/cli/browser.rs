//! Headless Chromium through the live proxy: a page and its script are
//! rewritten on the way, and the DOM the browser built shows it.

use std::process::Command;

use crate::cdp::chromium;
use crate::origin::Origin;
use crate::support::{Proxy, scratch};
use crate::tls_origin::{Cert, TlsOrigin};
use crate::ws_origin::WsOrigin;

/// Headless Chromium through `proxy`, with `extra` flags; the DOM it
/// built for `url`, and what it said.
fn dump_dom(chromium: &str, proxy: &Proxy, extra: &[String], url: &str) -> (String, String) {
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
        .args(extra)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn chromium_loads_a_page_and_its_script_rewritten() {
    let Some(chromium) = chromium() else { return };
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "examples/replace-text hello howdy"]);
    let (dom, stderr) = dump_dom(chromium, &proxy, &[], &origin.url("/page.html"));
    assert!(
        dom.contains("<p id=\"page\">howdy from the page</p>"),
        "{dom}\n{stderr}"
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

/// The base64 SHA-256 of a certificate's public key, as Chromium's
/// `--ignore-certificate-errors-spki-list` wants it.
fn spki_hash(cert: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl x509 -in '{cert}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"
        ))
        .output()
        .expect("openssl runs (apt-get install openssl)");
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(hash.len(), 44, "{}", String::from_utf8_lossy(&out.stderr));
    hash
}

#[test]
fn chromium_loads_an_https_page_intercepted_and_rewritten() {
    let Some(chromium) = chromium() else { return };
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let trusted = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.display()
    );
    let proxy = Proxy::start(&["-s", "examples/replace-text hello howdy", "--set", &trusted]);
    // Chromium trusts the proxy's CA by its key, as a user's browser
    // trusts it once installed.
    let trust = format!(
        "--ignore-certificate-errors-spki-list={}",
        spki_hash(&proxy.ca_cert())
    );
    let (dom, stderr) = dump_dom(chromium, &proxy, &[trust], &origin.url("/page.html"));
    assert!(
        dom.contains("<p id=\"page\">howdy from the page</p>"),
        "{dom}\n{stderr}"
    );
    assert!(
        dom.contains("<p id=\"script\">howdy from the script</p>"),
        "{dom}"
    );
    let stopped = proxy.stop();
    assert!(
        stopped.stdout.contains(&format!(
            "GET {} HTTP/2.0 << HTTP/2.0 200 OK",
            origin.url("/app.js")
        )),
        "{}",
        stopped.stdout
    );
}

#[test]
fn chromium_opens_a_websocket_through_the_proxy_and_shows_the_rewritten_messages() {
    let Some(chromium) = chromium() else { return };
    let origin = WsOrigin::start(false);
    // The page's held fetch need not be waited for at shutdown.
    let proxy = Proxy::start(&[
        "-s",
        "examples/websocket-rewrite",
        "--set",
        "shutdown_grace=0",
    ]);
    let (dom, stderr) = dump_dom(chromium, &proxy, &[], &origin.page_url());
    assert!(
        dom.contains("<p id=\"got\">welcome to the rewritten chat | echo: hi from the page</p>"),
        "{dom}\n{stderr}"
    );
    let stopped = proxy.stop();
    assert!(
        stopped.stdout.contains("<< 101 Switching Protocols"),
        "{}",
        stopped.stdout
    );
}

#[test]
fn chromium_opens_an_intercepted_wss_websocket_and_shows_the_rewritten_messages() {
    let Some(chromium) = chromium() else { return };
    let origin = WsOrigin::start(true);
    let trusted = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.as_ref().unwrap().display()
    );
    let proxy = Proxy::start(&[
        "-s",
        "examples/websocket-rewrite",
        "--set",
        &trusted,
        "--set",
        "shutdown_grace=0",
    ]);
    let trust = format!(
        "--ignore-certificate-errors-spki-list={}",
        spki_hash(&proxy.ca_cert())
    );
    let (dom, stderr) = dump_dom(chromium, &proxy, &[trust], &origin.page_url());
    assert!(
        dom.contains("<p id=\"got\">welcome to the rewritten chat | echo: hi from the page</p>"),
        "{dom}\n{stderr}"
    );
    proxy.stop();
}
