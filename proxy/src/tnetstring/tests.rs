//! tnetstring round trips and located errors.

use bytes::Bytes;

use super::{Value, parse, write};

fn roundtrip(input: &str) -> Value {
    let buf = Bytes::copy_from_slice(input.as_bytes());
    let value = parse(&buf).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    let mut out = Vec::new();
    write(&value, &mut out);
    assert_eq!(
        String::from_utf8_lossy(&out),
        input,
        "round trip of {input:?}"
    );
    value
}

fn parse_err(input: impl AsRef<[u8]>) -> String {
    parse(&Bytes::copy_from_slice(input.as_ref()))
        .unwrap_err()
        .to_string()
}

#[test]
fn scalars_round_trip() {
    assert_eq!(roundtrip("0:~"), Value::Null);
    assert_eq!(roundtrip("4:true!"), Value::Bool(true));
    assert_eq!(roundtrip("5:false!"), Value::Bool(false));
    assert_eq!(roundtrip("2:42#"), Value::Int(42));
    assert_eq!(roundtrip("3:-17#"), Value::Int(-17));
    assert_eq!(
        roundtrip("17:1795477162.814858^"),
        Value::Float(1795477162.814858)
    );
    assert_eq!(roundtrip("5:hello,"), Value::bytes(b"hello"));
    assert_eq!(roundtrip("0:,"), Value::bytes(b""));
    assert_eq!(roundtrip("6:h\u{e9}llo;"), Value::text("h\u{e9}llo"));
}

#[test]
fn containers_keep_order() {
    let v = roundtrip("23:1:b;1:2#1:a;1:1#1:c;0:~}");
    let d = v.as_dict().unwrap();
    let keys: Vec<_> = d.iter().map(|(k, _)| k.as_str().unwrap()).collect();
    assert_eq!(keys, ["b", "a", "c"]);
    roundtrip("16:3:abc,7:1:x,0:,]]");
    roundtrip("0:]");
    roundtrip("0:}");
}

#[test]
fn bad_input_is_located() {
    let cases = [
        ("5:abc,", "byte 0: item claims 5 bytes but only 3 remain"),
        ("x:abc,", "byte 0: expected a tnetstring length prefix"),
        ("12", "byte 0: the data ends inside a length prefix"),
        (
            "1234567890123:",
            "byte 0: expected a tnetstring length prefix",
        ),
        ("3:abc?", "byte 5: unknown tnetstring type tag '?'"),
        ("2:4x#", "byte 2: bad integer \"4x\""),
        ("3:yes!", "byte 2: bad boolean \"yes\""),
        (
            "8:1:a;2:1#}",
            "byte 6: item claims 2 bytes but only 1 remain",
        ),
        ("7:1:5#0:~}", "byte 2: dict key is not text or bytes"),
        ("4:1:a;}", "byte 2: dict key without a value"),
        ("3:abc,xyz", "byte 6: 3 stray bytes after the value"),
    ];
    assert!(parse_err(b"3:a\xff\xfe;").starts_with("byte 3: text value is not valid UTF-8"));
    for (input, want) in cases {
        let got = parse_err(input);
        assert!(
            got.starts_with(want),
            "{input:?}: got {got:?}, want {want:?}"
        );
    }
}

/// Each of `texts` as an item tagged `tag` passes the check exactly when
/// it parses as a `T`.
fn checks_as_parsed<T: std::str::FromStr>(tag: char, texts: &[&str]) {
    for text in texts {
        let item = format!("{}:{text}{tag}", text.len());
        let checked = parse(&Bytes::from(item.clone())).is_ok();
        assert_eq!(checked, text.parse::<T>().is_ok(), "{item}");
    }
}

/// The checker's shortcuts for plain numbers accept exactly what the
/// parsers accept, so a value the check passes always builds.
#[test]
fn number_shortcuts_agree_with_the_parsers() {
    let floats = [
        "5",
        "5.",
        ".5",
        "1700000000.25",
        ".",
        "",
        "..5",
        "5..",
        "1.2.3",
        "-5.5",
        "+1",
        "1e5",
        "1e+16",
        "inf",
        "nan",
        "NaN",
        " 5",
        "5 ",
        "0x10",
        "1_0",
        "00012.5000",
    ];
    checks_as_parsed::<f64>('^', &floats);
    let ints = [
        "0",
        "-0",
        "-",
        "",
        "123456789012345678",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "+5",
        "5.0",
        " 5",
        "1_000",
        "0012",
    ];
    checks_as_parsed::<i64>('#', &ints);
}

#[test]
fn deep_nesting_is_refused() {
    let mut s = String::from("0:]");
    for _ in 0..100 {
        s = format!("{}:{}]", s.len(), s);
    }
    assert!(parse_err(&s).contains("nested more than 64 deep"));
}

#[test]
fn golden_flows_reserialize_byte_for_byte() {
    for name in ["all.mitm", "websocket.mitm", "tcp.mitm"] {
        let bytes = crate::test_support::golden(name);
        let mut out = Vec::new();
        for flow in crate::flowfile::FlowReader::new(&bytes[..]) {
            let mut value = flow.unwrap().as_value().clone();
            value.forget_raw();
            write(&value, &mut out);
        }
        assert!(out == bytes, "{name} did not re-serialize byte for byte");
    }
}

/// A value written around a hole, with the hole's items filled in, is the
/// value written whole with those items at the front of its list.
#[test]
fn a_spliced_write_is_the_whole_write_with_the_items_in_front() {
    let items = ["5:early,", "5:older,", "1:1#"];
    let hole: String = items.concat();
    let t = |payload: &str, tag: char| format!("{}:{payload}{tag}", payload.len());
    let last = t(&t("last", ','), ']');
    let inner = t(&format!("{}{}", t("messages", ';'), last), '}');
    for (whole, path) in [
        (t("", ']'), vec![]),
        (last.clone(), vec![]),
        (
            t(
                &format!("{}{}{}{last}", t("a", ';'), t("1", '#'), t("m", ';')),
                '}',
            ),
            vec!["m"],
        ),
        (
            t(
                &format!(
                    "{}{}{}{inner}{}{}",
                    t("a", ';'),
                    t("1", '#'),
                    t("websocket", ';'),
                    t("z", ';'),
                    t("", '~')
                ),
                '}',
            ),
            vec!["websocket", "messages"],
        ),
    ] {
        let value = parse(&Bytes::from(whole.clone())).unwrap();
        let (head, tail) = super::write_spliced(&value, &path, hole.len() as u64).unwrap();
        let got = [head, hole.clone().into_bytes(), tail].concat();
        // The same value with the items put in front, written whole.
        let mut expected_value = value.clone();
        let mut at = &mut expected_value;
        for key in &path {
            at = at.as_dict_mut().unwrap().get_mut(key).unwrap();
        }
        let list = at.as_list_mut().unwrap();
        for (i, item) in items.iter().enumerate() {
            list.insert(i, parse(&Bytes::from(item.to_string())).unwrap());
        }
        let mut expected = Vec::new();
        write(&expected_value, &mut expected);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected)
        );
        assert!(parse(&Bytes::from(got)).is_ok());
    }
    let not_a_list = parse(&Bytes::from_static(b"4:1:1#]")).unwrap();
    assert!(super::write_spliced(&not_a_list, &["m"], 0).is_none());
}

/// The plainest writer there is: each value's payload written whole, then
/// prefixed. What [`write`] gives must be what this gives.
fn reference(value: &Value) -> Vec<u8> {
    let (payload, tag): (Vec<u8>, u8) = match value {
        Value::Null => (Vec::new(), b'~'),
        Value::Bool(b) => (b.to_string().into_bytes(), b'!'),
        Value::Int(i) => (i.to_string().into_bytes(), b'#'),
        Value::Float(f) => {
            let mut digits = Vec::new();
            super::pyfloat::write(*f, &mut digits);
            (digits, b'^')
        }
        Value::Bytes(b) => (b.to_vec(), b','),
        Value::Text(b) => (b.to_vec(), b';'),
        Value::List(l) => (l.items().iter().flat_map(reference).collect(), b']'),
        Value::Dict(d) => (
            d.iter()
                .flat_map(|(k, v)| [reference(k), reference(v)].concat())
                .collect(),
            b'}',
        ),
    };
    let mut out = format!("{}:", payload.len()).into_bytes();
    out.extend(payload);
    out.push(tag);
    out
}

/// Built containers are written back to front, with long pieces (bodies,
/// unchanged containers over 256 bytes) set aside and copied as they
/// are: short and long pieces side by side, two long ones in a row, a
/// long one first and last, and every scalar, come out as the plain
/// writer has them.
#[test]
fn built_containers_write_as_the_plain_writer_does() {
    let long = |n: usize, c: u8| Value::bytes(&vec![c; n]);
    let parsed = |text: String| parse(&Bytes::from(text)).unwrap();
    let raw_long = parsed(format!("{}:{}:{},]", 300 + 5, 300, "r".repeat(300)));
    let raw_short = parsed("8:1:k;1:7#}".to_owned());
    let mut inner = super::Dict::with_capacity(4);
    inner.push("first", long(1000, b'a'));
    inner.push("short", Value::bytes(b"0123456789"));
    inner.push("raw", raw_long.clone());
    inner.push("last", long(257, b'z'));
    let mut top = super::Dict::with_capacity(8);
    top.push("body", long(5000, b'b'));
    top.push(
        "two",
        Value::list(vec![long(300, b'x'), long(300, b'y'), Value::text("t")]),
    );
    top.push("inner", Value::Dict(inner.into()));
    top.push("raws", Value::list(vec![raw_short, raw_long, Value::Null]));
    top.push(
        "numbers",
        Value::list(vec![
            Value::Int(i64::MIN),
            Value::Int(-1),
            Value::Int(0),
            Value::Float(1.5),
            Value::Float(1795477162.8247561),
            Value::Float(1e20),
            Value::Float(-0.0),
            Value::Float(0.00001),
            Value::Float(f64::NAN),
            Value::Bool(true),
            Value::Bool(false),
        ]),
    );
    top.push("empty", Value::list(Vec::new()));
    top.push("end", long(400, b'e'));
    let value = Value::Dict(top.into());
    let mut out = b"before".to_vec();
    write(&value, &mut out);
    assert_eq!(out[..6], *b"before");
    assert!(
        out[6..] == reference(&value)[..],
        "differs from the plain writer"
    );
    // A second write on the same thread reuses the scratch buffer.
    let mut again = Vec::new();
    write(&value, &mut again);
    assert!(again == out[6..]);
}

#[test]
fn fields_finds_what_get_finds_in_one_walk() {
    let dict = roundtrip("32:1:a,1:1#1:b;1:2#1:a,1:3#2:cc,0:~}");
    let dict = dict.as_dict().unwrap();
    let keys = ["cc", "a", "b", "zz", "a", ""];
    let with_empty = roundtrip("14:0:,1:4#1:a,0:~}");
    let with_empty = with_empty.as_dict().unwrap();
    let [empty, a] = with_empty.fields(["", "a"]);
    assert_eq!(
        (empty.and_then(Value::as_int), a),
        (Some(4), with_empty.get("a"))
    );
    let found = dict.fields(keys);
    for (key, got) in keys.iter().zip(found) {
        assert_eq!(got, dict.get(key), "{key:?}");
    }
    // The first of two equal keys, as `get` gives it; an absent key and
    // the empty one are absent.
    assert_eq!(found[1].and_then(Value::as_int), Some(1));
    assert_eq!((found[3], found[5]), (None, None));
    assert!(found[0].is_some_and(Value::is_null));
}
