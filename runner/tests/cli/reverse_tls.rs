//! Reverse mode over TLS toward the client: h2 to the client whatever
//! the server speaks, as mitmdump offers it, and h2 on both sides.

use crate::modes::curl_raw;
use crate::origin::Origin;
use crate::support::{Proxy, scratch};
use crate::tls_origin::{Cert, TlsOrigin};

#[test]
fn a_reverse_proxy_takes_tls_and_speaks_h2_on_both_sides() {
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let spec = format!("reverse:https://localhost:{}", origin.addr.port());
    let trusted = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.display()
    );
    let proxy = Proxy::start(&[
        "--mode",
        &spec,
        "--set",
        &trusted,
        "-s",
        "examples/add_header",
    ]);
    let port = proxy.addr.rsplit(':').next().unwrap().to_owned();
    let out = curl_raw(&[
        "-i",
        "--http2",
        "--cacert",
        &proxy.ca_cert(),
        "--resolve",
        &format!("localhost:{port}:127.0.0.1"),
        &format!("https://localhost:{port}/version"),
    ]);
    assert!(out.starts_with("HTTP/2 200"), "{out}");
    assert!(out.contains("newheader: foo"), "{out}");
    assert!(
        out.contains("HTTP/2.0"),
        "the origin was spoken to in h2: {out}"
    );
    // Plain HTTP to the same listener goes to the server over TLS.
    let plain = curl_raw(&[&format!("http://127.0.0.1:{port}/hello")]);
    assert_eq!(plain, "hello from origin\n");
    proxy.stop();
}

/// What curl gets over TLS in h2 (offering h1 too) from a reverse
/// listener at `addr` trusting `ca`: the HTTP version and status.
fn h2_through_reverse(addr: &str, ca: &str, path: &str) -> String {
    let port = addr.rsplit(':').next().unwrap();
    curl_raw(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_version} %{http_code}",
        "--http2",
        "--cacert",
        ca,
        "--resolve",
        &format!("localhost:{port}:127.0.0.1"),
        &format!("https://localhost:{port}{path}"),
    ])
}

#[test]
fn a_tls_client_gets_h2_whatever_the_reverse_server_speaks_as_from_mitmdump() {
    let Some(python) = crate::interop::peer() else {
        return;
    };
    let plain = Origin::start();
    let untrusted = TlsOrigin::start(Cert::SelfSigned, false);
    for (spec, path, expected) in [
        // A plain server: the client still gets h2, translated to h1.
        (format!("reverse:http://{}", plain.addr), "/hello", "2 200"),
        // A server whose certificate fails: h2, and the failure as 502.
        (
            format!("reverse:https://localhost:{}", untrusted.addr.port()),
            "/version",
            "2 502",
        ),
    ] {
        let proxy = Proxy::start(&["--mode", &spec]);
        let ours = h2_through_reverse(&proxy.addr, &proxy.ca_cert(), path);
        proxy.stop();
        let confdir = scratch();
        let mitmdump = crate::mitmdump::Mitmdump::start(
            &python,
            confdir.path(),
            &["--mode".into(), spec.clone()],
        );
        let ca = confdir.path().join("mitmproxy-ca-cert.pem");
        let theirs = h2_through_reverse(&mitmdump.addr, ca.to_str().unwrap(), path);
        mitmdump.stop();
        assert_eq!(ours, expected, "{spec}");
        assert_eq!(ours, theirs, "{spec}: Waylay, then mitmdump");
    }
}

#[test]
fn a_server_replay_answer_under_an_untrusted_server_reaches_an_h2_client_in_h2() {
    let untrusted = TlsOrigin::start(Cert::SelfSigned, false);
    let spec = format!("reverse:https://localhost:{}", untrusted.addr.port());
    let dir = scratch();
    let recorded = crate::support::path_in(&dir, "recorded.mitm");
    // Recorded once with the server's certificate not checked...
    let insecure = Proxy::start(&["--mode", &spec, "-k", "-w", &recorded]);
    let got = h2_through_reverse(&insecure.addr, &insecure.ca_cert(), "/version");
    insecure.stop();
    assert_eq!(got, "1.1 200", "a server that speaks HTTP/1.1 is followed");
    // ...then answered from the recording, the server's TLS failing.
    let replaying = Proxy::start(&["--mode", &spec, "-S", &recorded]);
    let got = h2_through_reverse(&replaying.addr, &replaying.ca_cert(), "/version");
    replaying.stop();
    assert_eq!(got, "2 200", "h2, whatever the server");
}
