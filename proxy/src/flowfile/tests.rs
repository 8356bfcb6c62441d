//! Flow file reader and writer tests: golden files, truncation, corruption, versions.

use std::io::Cursor;

use super::{FlowReader, FlowWriter, ReadErrorKind};
use crate::flow::{Flow, FlowKind};
use crate::test_support::golden;
use crate::tnetstring::Value;

fn read_all(bytes: &[u8]) -> (Vec<Flow>, Option<String>) {
    let mut flows = Vec::new();
    for item in FlowReader::new(Cursor::new(bytes.to_vec())) {
        match item {
            Ok(flow) => flows.push(flow),
            Err(e) => return (flows, Some(e.to_string())),
        }
    }
    (flows, None)
}

fn write_all(flows: &[Flow]) -> Vec<u8> {
    let mut writer = FlowWriter::new(Vec::new());
    for flow in flows {
        writer.write_flow(flow).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn golden_files_round_trip_byte_for_byte() {
    let cases = [
        ("get.mitm", 1, FlowKind::Http),
        ("post.mitm", 1, FlowKind::Http),
        ("notfound.mitm", 1, FlowKind::Http),
        ("refused.mitm", 1, FlowKind::Http),
        ("https.mitm", 1, FlowKind::Http),
        ("websocket.mitm", 1, FlowKind::Http),
        ("tcp.mitm", 1, FlowKind::Tcp),
        ("all.mitm", 5, FlowKind::Http),
    ];
    for (name, count, kind) in cases {
        let bytes = golden(name);
        let (flows, err) = read_all(&bytes);
        assert_eq!(err, None, "{name}");
        assert_eq!(flows.len(), count, "{name}");
        assert_eq!(flows[0].kind(), kind, "{name}");
        assert!(
            write_all(&flows) == bytes,
            "{name} did not round-trip byte for byte"
        );
    }
}

#[test]
fn concatenated_files_are_one_file() {
    let mut bytes = golden("get.mitm");
    bytes.extend(golden("tcp.mitm"));
    let (flows, err) = read_all(&bytes);
    assert_eq!((flows.len(), err), (2, None));
}

#[test]
fn empty_file_has_no_flows() {
    assert_eq!(read_all(b"").0.len(), 0);
}

#[test]
fn truncation_keeps_the_flows_before_it() {
    let all = golden("all.mitm");
    let first_len = golden("get.mitm").len();
    let cut = &all[..first_len + 100];
    let (flows, err) = read_all(cut);
    assert_eq!(flows.len(), 1);
    let err = err.unwrap();
    assert!(
        err.starts_with(&format!(
            "byte {first_len}: the file ends inside a flow (100 of "
        )),
        "{err}"
    );
    // Cut inside the length prefix.
    let (flows, err) = read_all(&all[..first_len + 2]);
    assert_eq!(flows.len(), 1);
    assert!(err.unwrap().contains("the file ends inside a flow"));
}

#[test]
fn corruption_is_located() {
    let mut bytes = golden("get.mitm");
    let at = bytes.len();
    bytes.extend(golden("post.mitm"));
    // Damage a length prefix inside the second flow.
    let inner = bytes[at..]
        .windows(8)
        .position(|w| w == b"6:method")
        .unwrap()
        + at;
    bytes[inner] = b'x';
    let (flows, err) = read_all(&bytes);
    assert_eq!(flows.len(), 1);
    let err = err.unwrap();
    assert!(err.contains("corrupt flow"), "{err}");
    assert!(err.starts_with("byte "), "{err}");

    let (flows, err) = read_all(b"hello world");
    assert_eq!(flows.len(), 0);
    assert_eq!(
        err.unwrap(),
        "byte 0: corrupt flow: expected a tnetstring length prefix (digits then ':'), found 'h'; this is not a \
         valid mitmproxy flow file from here on"
    );
}

#[test]
fn a_huge_length_prefix_does_not_allocate_it() {
    let (flows, err) = read_all(b"999999999999:abc");
    assert_eq!(flows.len(), 0);
    assert!(
        err.unwrap()
            .contains("the file ends inside a flow (16 of 1000000000013 bytes)")
    );
}

#[test]
fn non_dicts_are_not_flows() {
    let (_, err) = read_all(b"3:abc,");
    assert_eq!(
        err.unwrap(),
        "byte 0: expected a flow (a tnetstring dict), found a bytes value; is this a mitmproxy flow file?"
    );
}

fn with_version(version: Option<i64>) -> Vec<u8> {
    let (mut flows, _) = read_all(&golden("get.mitm"));
    match version {
        Some(v) => flows[0].dict_mut().insert("version", Value::Int(v)),
        None => drop(flows[0].dict_mut().remove("version")),
    }
    write_all(&flows)
}

#[test]
fn older_versions_are_migrated_and_the_others_refused_by_number() {
    // Format 20 differs from 21 only in a QUIC name: read as 21.
    let (flows, err) = read_all(&with_version(Some(20)));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(flows[0].dict().get("version"), Some(&Value::Int(21)));
    let mut bytes = golden("get.mitm");
    let at = bytes.len();
    bytes.extend(with_version(Some(3)));
    let (flows, err) = read_all(&bytes);
    assert_eq!(flows.len(), 1);
    assert_eq!(
        err.unwrap(),
        format!(
            "byte {at}: flow format version 3 is older than any mitmproxy 11 reads (0.11 and newer); \
             open the file with the mitmproxy that wrote it and save it again"
        )
    );
    let (_, err) = read_all(&with_version(Some(22)));
    assert!(
        err.unwrap()
            .contains("flow format version 22 is newer than 21")
    );
    let (_, err) = read_all(&with_version(None));
    assert!(err.unwrap().contains("flow has no format version"));
}

#[test]
fn har_files_are_read_as_mitmproxy_reads_them() {
    // Recognised by content, byte order mark or not.
    let har = golden("all.har");
    let (flows, err) = read_all(&har);
    assert_eq!((flows.len(), err), (5, None));
    let bom = [&b"\xef\xbb\xbf"[..], &har].concat();
    assert_eq!(read_all(&bom).0.len(), 5);
    // A broken entry stops reading there; the flows before it are read.
    let broken =
        String::from_utf8(har)
            .unwrap()
            .replacen("\"method\": \"POST\"", "\"method\": 7", 1);
    let (flows, err) = read_all(broken.as_bytes());
    assert_eq!(flows.len(), 1);
    assert!(
        err.unwrap()
            .starts_with("HAR entry 1: request.method is missing or not a string")
    );
    let (flows, err) = read_all(b"{\"log\": {\"entries\": [");
    assert!(flows.is_empty());
    assert!(err.unwrap().contains("is not valid JSON"));
}

#[test]
fn reader_matches_error_kinds() {
    let mut reader = FlowReader::new(Cursor::new(b"5:ab".to_vec()));
    let err = reader.read_flow().unwrap().unwrap_err();
    assert!(matches!(
        err.kind,
        ReadErrorKind::Truncated {
            expected: 8,
            found: 4
        }
    ));
    assert!(
        reader.read_flow().is_none(),
        "a reader stops after an error"
    );
}

#[test]
fn no_single_byte_change_crashes_the_reader() {
    // Every position, three ways: a digit, a tag character and a high byte.
    // Whatever the reader accepts must then be fully readable and writable.
    let original = golden("get.mitm");
    for at in 0..original.len() {
        for replacement in [b'7', b'}', 0xff] {
            let mut bytes = original.clone();
            bytes[at] = replacement;
            for item in FlowReader::new(&bytes[..]) {
                let Ok(flow) = item else { break };
                let _ = crate::testing::render(std::slice::from_ref(&flow));
                let _ = crate::summary::flow_line(&flow);
                let mut value = flow.as_value().clone();
                value.forget_raw();
                let mut out = Vec::new();
                crate::tnetstring::write(&value, &mut out);
            }
        }
    }
}

#[test]
fn a_whole_file_read_on_threads_is_the_file_read_in_order() {
    let mut bytes = Vec::new();
    for _ in 0..7 {
        bytes.extend_from_slice(&golden("all.mitm"));
    }
    let (sequential, none) = super::read_all(&bytes, 1);
    assert!(none.is_none());
    assert_eq!(sequential.len(), 35);
    for threads in [2, 3, 8, 64] {
        let (flows, error) = super::read_all(&bytes, threads);
        assert!(error.is_none());
        assert_eq!(flows, sequential, "{threads} threads");
    }
}

#[test]
fn a_whole_file_read_on_threads_reports_the_first_error_at_its_offset() {
    let one = golden("all.mitm");
    let mut bytes = one.repeat(4);
    // The third copy's first item made a list: not a flow.
    let start = one.len() * 2;
    let end = super::items(&bytes).unwrap()[10].1;
    assert_eq!(super::items(&bytes).unwrap()[10].0, start);
    bytes[end - 1] = b']';
    let (whole, expected) = super::read_all(&bytes, 1);
    let (flows, error) = super::read_all(&bytes, 4);
    assert_eq!(flows.len(), whole.len());
    assert_eq!(flows.len(), 10);
    assert_eq!(error.unwrap().offset, expected.unwrap().offset);
    // Truncated: the prefixes no longer add up, so one reader says where.
    let (flows, error) = super::read_all(&one[..one.len() - 3], 4);
    assert_eq!(flows.len(), 4);
    assert!(matches!(
        error.unwrap().kind,
        ReadErrorKind::Truncated { .. }
    ));
    // HAR: read whole, as by FlowReader.
    let har = golden("all.har");
    let (flows, error) = super::read_all(&har, 4);
    assert!(error.is_none());
    assert_eq!(flows.len(), 5);
}

/// A flow in its file form (`compact`) answers its id, its type and
/// its connections' addresses without being built, as the built flow
/// answers them, and writes the same bytes.
#[cfg(feature = "live")]
#[test]
fn the_file_form_reads_and_writes_as_the_built_flow() {
    let mut flows = 0;
    for name in ["all.mitm", "https.mitm", "websocket.mitm", "tcp.mitm"] {
        for read in FlowReader::new(&golden(name)[..]) {
            let built = Flow::from_value(read.unwrap().as_value().rebuilt()).unwrap();
            let mut compact = built.clone();
            compact.compact();
            assert!(compact.dict().unbuilt().is_some(), "{name}");
            assert_eq!(compact.id(), built.id());
            assert_eq!(compact.kind(), built.kind());
            assert!(compact.dict().unbuilt().is_some(), "{name}: read unbuilt");
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            crate::tnetstring::write(compact.as_value(), &mut ours);
            crate::tnetstring::write(built.as_value(), &mut theirs);
            assert_eq!(ours, theirs, "{name}");
            for (conn, key) in [
                ("client_conn", "peername"),
                ("client_conn", "sockname"),
                ("server_conn", "address"),
            ] {
                let record = compact.conn(conn).unwrap();
                assert!(record.unbuilt().is_some(), "{name}: {conn}");
                let addr = crate::summary::addr;
                assert_eq!(addr(Some(record), key), addr(built.conn(conn), key));
                assert!(record.unbuilt().is_some(), "{name}: {conn} read unbuilt");
            }
            flows += 1;
        }
    }
    assert!(flows >= 8, "{flows} flows read");
}
