//! Each step on its own, then whole old files against what mitmproxy 11
//! wrote for them (`testdata/old-flows/expected/`, from `mitmdump -n -r
//! OLD -w NEW`).

use super::steps::{DUPLICATED, step};
use super::*;
use crate::flowfile::{FlowReader, FlowWriter};

fn t(s: &str) -> Value {
    Value::text(s)
}

fn b(s: &str) -> Value {
    Value::bytes(s.as_bytes())
}

fn i(n: i64) -> Value {
    Value::Int(n)
}

fn l(items: Vec<Value>) -> Value {
    Value::list(items)
}

/// A dict with text keys (`bytes_keys`: bytes keys, as Python 2 wrote).
fn o(entries: Vec<(&str, Value)>) -> Value {
    let mut d = Dict::new();
    for (k, v) in entries {
        d.push_entry(t(k), v);
    }
    Value::Dict(d.into())
}

fn ob(entries: Vec<(&str, Value)>) -> Value {
    let mut d = Dict::new();
    for (k, v) in entries {
        d.push_entry(b(k), v);
    }
    Value::Dict(d.into())
}

/// Runs the step from `version` on `flow`.
fn run(version: Version, flow: Value) -> Dict {
    let f = step(version).expect("a step");
    f(&mut Migrator::default(), flow.as_dict().unwrap().clone()).expect("the step runs")
}

fn at<'a>(d: &'a Dict, path: &[&str]) -> &'a Value {
    let (last, parents) = path.split_last().unwrap();
    let mut d = d;
    for p in parents {
        d = d
            .get(p)
            .and_then(Value::as_dict)
            .unwrap_or_else(|| panic!("no {p}"));
    }
    d.get(last).unwrap_or_else(|| panic!("no {last}"))
}

fn conns() -> Vec<(&'static str, Value)> {
    vec![
        ("client_conn", o(vec![])),
        ("server_conn", o(vec![("via", Value::Null)])),
    ]
}

#[test]
fn versions_are_read_as_mitmproxy_reads_them() {
    let v = |value: Value| version(o(vec![("version", value)]).as_dict().unwrap());
    assert_eq!(v(l(vec![i(0), i(11), i(3)])), Ok(Version::Release(0, 11)));
    assert_eq!(v(i(7)), Ok(Version::Int(7)));
    assert!(matches!(v(t("12")), Err(CompatError::BadVersion(_))));
    // A bytes key wins over a text one.
    let both = ob(vec![("version", i(22))]);
    let mut d = both.as_dict().unwrap().clone();
    d.push_entry(t("version"), i(5));
    assert_eq!(version(&d), Ok(Version::Int(22)));
    assert!(step(Version::Release(0, 10)).is_none());
    assert!(step(Version::Int(3)).is_none());
}

#[test]
fn steps_that_only_move_the_version() {
    for (from, to) in [
        (Version::Release(0, 11), l(vec![i(0), i(12)])),
        (Version::Release(0, 12), l(vec![i(0), i(13)])),
        (Version::Release(0, 14), l(vec![i(0), i(15)])),
        (Version::Release(3, 0), i(4)),
    ] {
        let out = run(from, ob(vec![("version", i(0))]));
        assert_eq!(out.get("version"), Some(&to), "{from:?}");
    }
}

#[test]
fn s013_014_renames_the_http_fields() {
    let flow = ob(vec![
        (
            "request",
            ob(vec![
                ("form_in", b("relative")),
                ("httpversion", l(vec![i(1), i(1)])),
            ]),
        ),
        (
            "response",
            ob(vec![
                ("httpversion", l(vec![i(1), i(0)])),
                ("code", i(200)),
                ("content", b("x")),
            ]),
        ),
        ("server_conn", ob(vec![("state", l(vec![]))])),
    ]);
    let out = run(Version::Release(0, 13), flow);
    assert_eq!(at(&out, &["request", "first_line_format"]), &b("relative"));
    assert_eq!(at(&out, &["request", "http_version"]), &b("HTTP/1.1"));
    assert_eq!(at(&out, &["response", "http_version"]), &b("HTTP/1.0"));
    assert_eq!(at(&out, &["response", "status_code"]), &i(200));
    assert_eq!(at(&out, &["response", "body"]), &b("x"));
    assert_eq!(at(&out, &["server_conn", "via"]), &Value::Null);
    assert!(
        at(&out, &["server_conn"])
            .as_dict()
            .unwrap()
            .get("state")
            .is_none()
    );
}

#[test]
fn s015_016_body_back_to_content_and_msg_to_reason() {
    let flow = ob(vec![
        ("request", ob(vec![("body", b("q")), ("form_out", b("x"))])),
        ("response", ob(vec![("body", b("r")), ("msg", b("OK"))])),
    ]);
    let out = run(Version::Release(0, 15), flow);
    assert_eq!(at(&out, &["request", "content"]), &b("q"));
    assert_eq!(at(&out, &["response", "content"]), &b("r"));
    assert_eq!(at(&out, &["response", "reason"]), &b("OK"));
    assert!(
        at(&out, &["request"])
            .as_dict()
            .unwrap()
            .get("form_out")
            .is_none()
    );
}

#[test]
fn s016_017_and_s017_018_the_peer_address() {
    let out = run(
        Version::Release(0, 16),
        ob(vec![("server_conn", ob(vec![]))]),
    );
    assert_eq!(at(&out, &["server_conn", "peer_address"]), &Value::Null);
    let flow = ob(vec![
        ("type", b("http")),
        ("id", b("abc")),
        ("server_conn", ob(vec![("peer_address", b("1.2.3.4"))])),
    ]);
    let out = run(Version::Release(0, 17), flow);
    assert_eq!(at(&out, &["server_conn", "ip_address"]), &b("1.2.3.4"));
    assert_eq!(at(&out, &["marked"]), &Value::Bool(false));
    assert_eq!(at(&out, &["type"]), &t("http"), "type and id become text");
    assert_eq!(at(&out, &["id"]), &t("abc"));
}

#[test]
fn s018_019_new_tls_fields_and_empty_metadata() {
    let flow = o(vec![
        (
            "request",
            o(vec![("stickyauth", i(1)), ("stickycookie", i(1))]),
        ),
        ("client_conn", o(vec![])),
        (
            "server_conn",
            o(vec![("via", o(vec![("address", Value::Null)]))]),
        ),
        ("metadata", o(vec![("kept", i(1))])),
    ]);
    let out = run(Version::Release(0, 18), flow);
    assert!(at(&out, &["request"]).as_dict().unwrap().is_empty());
    for key in ["sni", "alpn_proto_negotiated", "cipher_name", "tls_version"] {
        assert_eq!(at(&out, &["client_conn", key]), &Value::Null);
    }
    assert_eq!(
        at(&out, &["server_conn", "via", "alpn_proto_negotiated"]),
        &Value::Null
    );
    assert_eq!(at(&out, &["mode"]), &t("regular"));
    assert!(at(&out, &["metadata"]).as_dict().unwrap().is_empty());
    assert_eq!(
        run(Version::Release(0, 19), o(vec![])).get("version"),
        Some(&l(vec![i(1), i(0), i(0)]))
    );
}

#[test]
fn s100_200_flattens_addresses() {
    let addr = |h: &str| {
        o(vec![
            ("address", l(vec![b(h), i(80)])),
            ("use_ipv6", Value::Bool(false)),
        ])
    };
    let flow = o(vec![
        ("client_conn", o(vec![("address", addr("c"))])),
        (
            "server_conn",
            o(vec![
                ("address", addr("s")),
                ("source_address", addr("src")),
                ("ip_address", Value::Null),
                ("via", Value::Null),
            ]),
        ),
    ]);
    let out = run(Version::Release(1, 0), flow);
    assert_eq!(
        at(&out, &["client_conn", "address"]),
        &l(vec![b("c"), i(80)])
    );
    assert_eq!(
        at(&out, &["server_conn", "source_address"]),
        &l(vec![b("src"), i(80)])
    );
    assert_eq!(at(&out, &["server_conn", "ip_address"]), &Value::Null);
}

#[test]
fn s200_300_and_s6_7_add_tls_fields() {
    let out = run(Version::Release(2, 0), o(conns()));
    assert_eq!(at(&out, &["client_conn", "mitmcert"]), &Value::Null);
    assert_eq!(at(&out, &["server_conn", "tls_version"]), &Value::Null);
    let out = run(Version::Int(6), o(conns()));
    assert_eq!(at(&out, &["client_conn", "tls_extensions"]), &Value::Null);
}

#[test]
fn s4_5_gives_connections_ids_shared_within_a_run() {
    let flow = || {
        o(vec![
            (
                "client_conn",
                o(vec![
                    ("timestamp_start", i(1)),
                    ("address", l(vec![t("c"), i(1)])),
                ]),
            ),
            (
                "server_conn",
                o(vec![
                    ("timestamp_start", i(2)),
                    ("source_address", l(vec![t("s"), i(2)])),
                    ("via", Value::Null),
                ]),
            ),
        ])
    };
    let mut m = Migrator::default();
    let f = step(Version::Int(4)).unwrap();
    let one = f(&mut m, flow().as_dict().unwrap().clone()).unwrap();
    let two = f(&mut m, flow().as_dict().unwrap().clone()).unwrap();
    assert_eq!(
        at(&one, &["client_conn", "id"]),
        at(&two, &["client_conn", "id"])
    );
    assert_ne!(
        at(&one, &["client_conn", "id"]),
        at(&one, &["server_conn", "id"])
    );
}

#[test]
fn s5_6_ssl_becomes_tls() {
    let c = || {
        o(vec![
            ("ssl_established", Value::Bool(true)),
            ("timestamp_ssl_setup", i(3)),
        ])
    };
    let out = run(
        Version::Int(5),
        o(vec![("client_conn", c()), ("server_conn", c())]),
    );
    assert_eq!(
        at(&out, &["server_conn", "tls_established"]),
        &Value::Bool(true)
    );
    assert_eq!(at(&out, &["client_conn", "timestamp_tls_setup"]), &i(3));
}

#[test]
fn s7_8_and_s8_9_trailers_authority_and_replay() {
    let out = run(
        Version::Int(7),
        o(vec![("request", o(vec![])), ("response", Value::Null)]),
    );
    assert_eq!(at(&out, &["request", "trailers"]), &Value::Null);
    let flow = o(vec![
        (
            "request",
            o(vec![
                ("first_line_format", t("absolute")),
                ("is_replay", Value::Bool(false)),
            ]),
        ),
        ("response", o(vec![("is_replay", Value::Bool(true))])),
    ]);
    let out = run(Version::Int(8), flow);
    assert_eq!(at(&out, &["request", "authority"]), &b(""));
    assert_eq!(at(&out, &["is_replay"]), &t("response"));
}

#[test]
fn s9_10_sans_io_connection_fields() {
    let conn = || {
        o(vec![
            ("tls_established", Value::Bool(true)),
            ("alpn_proto_negotiated", b("h2")),
            ("cipher_name", t("AES")),
        ])
    };
    let mut server = conn().as_dict().unwrap().clone();
    server.insert("cert", b("PEM"));
    server.insert("via", Value::Null);
    let flow = o(vec![
        ("client_conn", conn()),
        ("server_conn", Value::Dict(server.into())),
    ]);
    let out = run(Version::Int(9), flow);
    assert_eq!(
        at(&out, &["client_conn", "sockname"]),
        &l(vec![t(""), i(0)])
    );
    assert_eq!(at(&out, &["client_conn", "alpn_offers"]), &l(vec![b("h2")]));
    assert_eq!(
        at(&out, &["client_conn", "cipher_list"]),
        &l(vec![t("AES")])
    );
    assert_eq!(
        at(&out, &["server_conn", "certificate_list"]),
        &l(vec![b("PEM")])
    );
    assert_eq!(at(&out, &["server_conn", "cipher_list"]), &Value::Null);
    assert_eq!(at(&out, &["server_conn", "tls"]), &Value::Bool(true));
}

#[test]
fn s10_11_sni_text_and_alpn() {
    let conn = |sni: Value| {
        o(vec![
            ("sni", sni),
            ("alpn_proto_negotiated", Value::Null),
            ("alpn_offers", Value::Null),
            ("cipher_list", Value::Null),
        ])
    };
    let mut server = conn(b("caf\u{e9}")).as_dict().unwrap().clone();
    server.insert("via", Value::Null);
    let out = run(
        Version::Int(10),
        o(vec![
            ("client_conn", conn(Value::Null)),
            ("server_conn", Value::Dict(server.into())),
        ]),
    );
    assert_eq!(at(&out, &["server_conn", "sni"]), &t("caf\\xc3\\xa9"));
    assert_eq!(at(&out, &["client_conn", "alpn"]), &Value::Null);
    assert_eq!(at(&out, &["client_conn", "alpn_offers"]), &l(vec![]));
}

#[test]
fn s11_12_merges_a_websocket_flow_into_its_handshake() {
    let mut m = Migrator::default();
    let f = step(Version::Int(11)).unwrap();
    let handshake = o(vec![
        ("id", t("hs")),
        ("type", t("http")),
        ("metadata", o(vec![("websocket", Value::Bool(true))])),
        ("server_conn", o(vec![("timestamp_end", Value::Null)])),
    ]);
    let ws = || {
        o(vec![
            ("id", t("ws")),
            ("type", t("websocket")),
            ("metadata", o(vec![("websocket_handshake", t("hs"))])),
            (
                "messages",
                l(vec![l(vec![
                    i(1),
                    Value::Bool(true),
                    t("hi"),
                    i(5),
                    Value::Bool(false),
                ])]),
            ),
            ("close_sender", t("client")),
            ("close_code", i(1000)),
            ("close_reason", t("")),
            ("client_conn", o(vec![])),
            ("server_conn", o(vec![("timestamp_end", i(9))])),
            ("error", Value::Null),
            ("intercepted", Value::Bool(false)),
            ("is_replay", Value::Null),
            ("marked", Value::Bool(false)),
        ])
    };
    let first = f(&mut m, handshake.as_dict().unwrap().clone()).unwrap();
    assert_eq!(at(&first, &["websocket"]), &Value::Null);
    let merged = f(&mut m, ws().as_dict().unwrap().clone()).unwrap();
    assert_eq!(
        at(&merged, &["id"]),
        &t("hs"),
        "the handshake's flow, again"
    );
    assert_eq!(
        at(&merged, &["websocket", "closed_by_client"]),
        &Value::Bool(true)
    );
    assert_eq!(at(&merged, &["websocket", "timestamp_end"]), &Value::Null);
    assert_eq!(at(&merged, &["metadata", "duplicated"]), &t(DUPLICATED));
    // A second one finds the handshake used: the placeholder.
    let lost = f(&mut m, ws().as_dict().unwrap().clone()).unwrap();
    assert_eq!(at(&lost, &["id"]), &t("ws"));
    assert_eq!(at(&lost, &["request", "host"]), &b("unknown"));
    assert_eq!(at(&lost, &["websocket", "timestamp_end"]), &i(9));
    // TCP flows get no `websocket` (mitmproxy's would, and fail).
    let tcp = f(
        &mut m,
        o(vec![("type", t("tcp")), ("metadata", o(vec![]))])
            .as_dict()
            .unwrap()
            .clone(),
    )
    .unwrap();
    assert!(tcp.get("websocket").is_none());
}

#[test]
fn s12_13_s13_14_s14_15_marks_comments_timestamps_injected() {
    let out = run(Version::Int(12), o(vec![("marked", Value::Bool(true))]));
    assert_eq!(at(&out, &["marked"]), &t(":default:"));
    let flow = o(vec![
        ("request", o(vec![("timestamp_end", Value::Float(10.5))])),
        (
            "response",
            o(vec![
                ("timestamp_start", Value::Null),
                ("timestamp_end", i(3)),
            ]),
        ),
    ]);
    let out = run(Version::Int(13), flow);
    assert_eq!(at(&out, &["comment"]), &t(""));
    assert_eq!(
        at(&out, &["response", "timestamp_start"]),
        &Value::Float(10.5)
    );
    assert_eq!(
        at(&out, &["response", "timestamp_end"]),
        &Value::Float(11.5)
    );
    let flow = o(vec![(
        "websocket",
        o(vec![("messages", l(vec![l(vec![i(1)])]))]),
    )]);
    let out = run(Version::Int(14), flow);
    assert_eq!(
        at(&out, &["websocket", "messages"]),
        &l(vec![l(vec![i(1), Value::Bool(false)])])
    );
}

#[test]
fn s15_16_to_s20_21_created_mode_proxy_mode_peernames_quic() {
    let out = run(
        Version::Int(15),
        o(vec![
            ("client_conn", o(vec![("timestamp_start", i(4))])),
            ("messages", l(vec![])),
        ]),
    );
    assert_eq!(
        at(&out, &["timestamp_created"]),
        &i(4),
        "from the client for a TCP flow"
    );
    let out = run(Version::Int(16), o(vec![("mode", t("transparent"))]));
    assert!(out.get("mode").is_none());
    let out = run(Version::Int(17), o(conns()));
    assert_eq!(at(&out, &["client_conn", "proxy_mode"]), &t("regular"));
    let flow = o(vec![
        (
            "client_conn",
            o(vec![
                ("address", l(vec![b("::1"), i(1)])),
                ("timestamp_start", Value::Null),
                ("tls_extensions", Value::Null),
                ("tls_established", Value::Bool(false)),
                ("cipher_name", Value::Null),
            ]),
        ),
        (
            "server_conn",
            o(vec![
                ("ip_address", Value::Null),
                ("source_address", l(vec![t("s"), i(2)])),
                ("via2", Value::Null),
                ("tls_established", Value::Bool(false)),
                ("address", l(vec![b("example.com"), i(443)])),
                ("sni", Value::Bool(true)),
            ]),
        ),
    ]);
    let out = run(Version::Int(18), flow);
    assert_eq!(
        at(&out, &["client_conn", "peername"]),
        &l(vec![t("::1"), i(1)])
    );
    assert_eq!(
        at(&out, &["client_conn", "timestamp_start"]),
        &Value::Float(0.0)
    );
    assert_eq!(
        at(&out, &["server_conn", "sockname"]),
        &l(vec![t("s"), i(2)])
    );
    assert_eq!(at(&out, &["server_conn", "sni"]), &t("example.com"));
    assert_eq!(at(&out, &["server_conn", "transport_protocol"]), &t("tcp"));
    let out = run(
        Version::Int(19),
        o(vec![
            ("client_conn", o(vec![("state", i(0))])),
            ("server_conn", o(vec![])),
        ]),
    );
    assert!(
        at(&out, &["client_conn"])
            .as_dict()
            .unwrap()
            .get("state")
            .is_none()
    );
    let flow = o(vec![
        ("client_conn", o(vec![("tls_version", t("QUIC"))])),
        ("server_conn", o(vec![("tls_version", Value::Null)])),
    ]);
    let out = run(Version::Int(20), flow);
    assert_eq!(at(&out, &["client_conn", "tls_version"]), &t("QUICv1"));
}

/// Every flow of `path` (under `testdata/old-flows`), as written, with
/// connection ids blanked where mitmproxy makes them at random (0.11 and
/// 0.18 files).
fn written(path: &str, random_ids: bool) -> Vec<u8> {
    let bytes =
        std::fs::read(crate::test_support::testdata().join("old-flows").join(path)).unwrap();
    let mut writer = FlowWriter::new(Vec::new());
    for flow in FlowReader::new(&bytes[..]) {
        let mut flow = flow.unwrap_or_else(|e| panic!("{path}: {e}"));
        if random_ids {
            for conn in ["client_conn", "server_conn"] {
                let c = flow
                    .dict_mut()
                    .get_mut(conn)
                    .and_then(Value::as_dict_mut)
                    .unwrap();
                c.insert("id", t("00000000-0000-4000-8000-000000000000"));
            }
        }
        writer.write_flow(&flow).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn old_files_are_written_as_mitmdump_writes_them() {
    for (name, random_ids) in [
        ("dumpfile-011", true),
        ("dumpfile-018", true),
        ("dumpfile-019", false),
        ("dumpfile-10", false),
        ("dumpfile-19", false),
        ("dumpfile-7", false),
        ("dumpfile-7-websocket", false),
    ] {
        let ours = written(&format!("{name}.mitm"), random_ids);
        let theirs = written(&format!("expected/{name}.mitm"), random_ids);
        assert!(
            ours == theirs,
            "{name}: Waylay's version 21 differs from mitmdump's"
        );
    }
}

#[test]
fn version_0_10_is_refused_as_mitmproxy_refuses_it() {
    let bytes =
        std::fs::read(crate::test_support::testdata().join("old-flows/dumpfile-010.mitm")).unwrap();
    let e = FlowReader::new(&bytes[..]).next().unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "byte 0: flow format version 0.10 is older than any mitmproxy 11 reads (0.11 and newer); \
         open the file with the mitmproxy that wrote it and save it again"
    );
}

#[test]
fn a_flow_whose_version_would_not_move_is_an_error_not_a_loop() {
    // A text `version` 0 first and a bytes one 0.11 after it: mitmproxy
    // reads the bytes one, and so do the steps, which set only that one.
    let mut d = Dict::new();
    d.push_entry(t("version"), i(0));
    d.push_entry(b("version"), l(vec![i(0), i(11)]));
    let e = Migrator::default().migrate(d).unwrap_err();
    assert!(matches!(e, CompatError::Malformed { .. }), "{e}");
    // A newer version under an old file's bytes key is a newer one.
    let mut d = Dict::new();
    d.push_entry(b("version"), i(22));
    assert_eq!(Migrator::default().migrate(d), Err(CompatError::Newer(22)));
}
