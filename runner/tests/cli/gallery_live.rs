//! The gallery's live-only examples, through the proxy with real clients:
//! `tls-passthrough` (mitmproxy's `tls_passthrough.py`) and
//! `http-connect`. Their hooks (`tls_clienthello`, `http_connect`, ...)
//! never fire offline, so there is no offline differential run for them.

use crate::support::{Proxy, curl_via, flows, path_in, scratch};
use crate::tls_origin::{Cert, TlsOrigin};

/// curl through `proxy`: its exit code and what it printed, both streams.
fn curl(proxy: &Proxy, args: &[&str]) -> (i32, String) {
    let out = curl_via(&proxy.url(), args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn tls_passthrough_gives_up_on_a_server_after_a_refused_certificate() {
    let origin = TlsOrigin::start(Cert::Trusted, false);
    let ca = origin.ca_file.display().to_string();
    let dir = scratch();
    let file = path_in(&dir, "passthrough.mitm");
    let proxy = Proxy::start(&[
        "-s",
        "examples/tls-passthrough",
        "--set",
        &format!("ssl_verify_upstream_trusted_ca={ca}"),
        "-w",
        &file,
    ]);
    let url = origin.url("/hello");
    let server = format!("127.0.0.1:{}", origin.addr.port());

    // 1. A client that accepts anything: intercepted.
    let (code, out) = curl(&proxy, &["-k", &url]);
    assert_eq!(code, 0, "{out}");
    // 2. A client that trusts only the real server's CA: it refuses the
    // proxy's certificate.
    let (code, out) = curl(&proxy, &["--cacert", &ca, &url]);
    assert_ne!(code, 0, "the proxy's certificate is refused: {out}");
    // 3. The same client again: passed through to the real server.
    let (code, out) = curl(&proxy, &["--cacert", &ca, &url]);
    assert_eq!(code, 0, "{out}");

    let said = proxy.stop().stdout;
    for line in [
        format!("TLS handshake successful: {server}"),
        format!("TLS handshake failed: {server}"),
        format!("TLS passthrough: {server}."),
    ] {
        assert!(said.contains(&line), "{line:?} in:\n{said}");
    }
    // Only the intercepted request is a flow: a pass-through records none.
    assert_eq!(flows(&file).len(), 1);
}

#[test]
fn http_connect_refuses_blocked_tunnels_and_logs_the_others() {
    let origin = TlsOrigin::start(Cert::Trusted, false);
    let proxy = Proxy::start(&[
        "-s",
        "examples/http-connect",
        "--set",
        "block_hosts=blocked.test",
        "-k",
    ]);
    let (code, out) = curl(&proxy, &["-k", "https://cdn.blocked.test/"]);
    assert_ne!(code, 0);
    assert!(
        out.contains("403"),
        "curl says the CONNECT got a 403: {out}"
    );
    let (code, out) = curl(&proxy, &["-k", &origin.url("/hello")]);
    assert_eq!(code, 0, "{out}");
    // Warnings go to standard error, information to standard output.
    let stopped = proxy.stop();
    let said = format!("{}{}", stopped.stdout, stopped.stderr);
    let port = origin.addr.port();
    assert!(
        said.contains("no tunnel to cdn.blocked.test:443: 403 (refused)"),
        "{said}"
    );
    assert!(
        said.contains(&format!("tunnel open to localhost:{port}")),
        "{said}"
    );
}
