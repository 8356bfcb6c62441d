//! Round-trip properties over generated inputs (proptest): what Waylay
//! writes, it reads back the same.

use bytes::Bytes;
use proptest::prelude::*;
use waylay_proxy::Flow;
use waylay_proxy::flowfile::{FlowReader, FlowWriter};
use waylay_proxy::tnetstring::{self, Dict, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        // Finite floats: NaN is not equal to itself.
        (-1e300f64..1e300).prop_map(Value::Float),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::bytes(&b)),
        "[a-zA-Z0-9 ,:;!#^~\\]}é]{0,20}".prop_map(|s| Value::text(&s)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::list),
            proptest::collection::vec(("[a-z_]{1,8}", inner), 0..8).prop_map(|entries| {
                let mut d = Dict::new();
                for (k, v) in entries {
                    d.insert(&k, v);
                }
                Value::Dict(d.into())
            }),
        ]
    })
}

fn written(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    tnetstring::write(value, &mut out);
    out
}

proptest! {
    #[test]
    fn tnetstrings_round_trip(v in value()) {
        let bytes = written(&v);
        let back = tnetstring::parse(&Bytes::from(bytes.clone())).unwrap();
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(written(&back), bytes);
    }

    #[test]
    fn flow_files_round_trip(dicts in proptest::collection::vec(
        proptest::collection::vec(("[a-z_]{1,8}", value()), 0..6), 0..5)
    ) {
        let flows: Vec<Flow> = dicts.into_iter().map(|entries| {
            let mut d = Dict::new();
            for (k, v) in entries {
                d.insert(&k, v);
            }
            // What makes a dict a flow to the reader: its format version.
            d.insert("version", Value::Int(21));
            Flow::from_value(Value::Dict(d.into())).unwrap()
        }).collect();
        let mut writer = FlowWriter::new(Vec::new());
        for flow in &flows {
            writer.write_flow(flow).unwrap();
        }
        let file = writer.finish().unwrap();
        let mut reader = FlowReader::new(&file[..]);
        let mut back = Vec::new();
        while let Some(flow) = reader.read_flow() {
            back.push(flow.unwrap());
        }
        prop_assert_eq!(back.len(), flows.len());
        for (a, b) in back.iter().zip(&flows) {
            prop_assert_eq!(a.as_value(), b.as_value());
        }
    }

    #[test]
    fn http1_heads_round_trip(
        method in "[A-Z]{1,7}",
        path in "/[a-zA-Z0-9/?=&%._~-]{0,30}",
        fields in proptest::collection::vec(
            ("[A-Za-z][A-Za-z0-9-]{0,15}", "[ -~]{0,40}"), 0..20),
    ) {
        // Field values as a parser sees them: no leading or trailing space.
        let fields: Vec<(String, String)> =
            fields.into_iter().map(|(n, v)| (n, v.trim().to_owned())).collect();
        let refs: Vec<(&[u8], &[u8])> =
            fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect();
        let mut out = Vec::new();
        waylay_proxy::h1::write_head(
            &mut out,
            [method.as_bytes(), path.as_bytes(), b"HTTP/1.1"],
            &refs,
        );
        let buf = Bytes::from(out.clone());
        let (head, len) = waylay_proxy::h1::parse_request(&buf).unwrap().unwrap();
        prop_assert_eq!(len, out.len());
        prop_assert_eq!(&head.first[..], method.as_bytes());
        prop_assert_eq!(&head.second[..], path.as_bytes());
        let parsed: Vec<(Vec<u8>, Vec<u8>)> =
            head.headers.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> =
            refs.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        prop_assert_eq!(parsed, want);
    }

    #[test]
    fn connect_targets_round_trip(host in "[a-z0-9.-]{1,30}", port in 1u16..) {
        let (h, p) = waylay_proxy::live::record::parse_authority(
            format!("{host}:{port}").as_bytes()).unwrap();
        prop_assert_eq!((h.as_str(), p), (host.as_str(), port));
        let v6 = waylay_proxy::live::record::parse_authority(
            format!("[::{port:x}]:{port}").as_bytes()).unwrap();
        prop_assert_eq!(v6, (format!("::{port:x}"), port));
    }

    #[test]
    fn chunked_bodies_decode_to_what_was_encoded(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..50), 0..10),
        split in 0usize..400,
    ) {
        let mut wire = Vec::new();
        for c in &chunks {
            wire.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            wire.extend_from_slice(c);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\n\r\n");
        let split = split.min(wire.len());
        let mut decoder = waylay_proxy::h1::ChunkedDecoder::default();
        let mut out = Vec::new();
        let mut buf = bytes::BytesMut::from(&wire[..split]);
        let mut done = decoder.decode(&mut buf, &mut out).unwrap();
        if !done {
            buf.extend_from_slice(&wire[split..]);
            done = decoder.decode(&mut buf, &mut out).unwrap();
        }
        prop_assert!(done);
        prop_assert_eq!(out, chunks.concat());
    }
}
