//! The filter language by example: what parses, what each term matches
//! in the golden flows, and the one line each malformed expression gets.
//! (`proxy/tests/filter_interop.rs` holds the same answers against
//! mitmproxy itself.)

use super::Filter;
use crate::testing::read_flows;

fn golden(name: &str) -> Vec<crate::Flow> {
    read_flows(format!(
        "{}/../testdata/flows/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// Which flows of `filters.mitm` match, as indices.
fn selected(expression: &str) -> Vec<usize> {
    let filter = Filter::parse(expression).unwrap_or_else(|e| panic!("{e}"));
    golden("filters.mitm")
        .iter()
        .enumerate()
        .filter(|(_, f)| filter.matches(f))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn terms_select_what_mitmproxy_selects() {
    // Flow indices of filters.mitm (see make_golden.py): 0-2 plain HTTP,
    // 3-4 TCP, 5-6 UDP, 7-9 DNS, 10 marked and commented, 11 starred,
    // 12-13 replays, 14 gzip JSON POST, 15 image via Host, 16 HTTP/2,
    // 17 CONNECT, 18 broken gzip, 19 Cyrillic, 20 no bodies, 21 IPv6,
    // 22 zstd 500, 23 odd Host, 24 deflate PUT, 25 WebSocket, 26 mixed
    // case with an error.
    for (expression, want) in [
        ("~tcp", vec![3, 4]),
        ("~udp & ~e", vec![6]),
        ("~dns & ~q", vec![8]),
        ("~websocket", vec![2, 25]),
        ("~marked", vec![10, 11]),
        ("~marker star", vec![11]),
        ("~replay", vec![12, 13]),
        ("~replayq", vec![12]),
        ("~c 404", vec![21]),
        ("~b alice", vec![14]),
        ("~bs t0k3n", vec![14]),
        ("~bs boom", vec![22]),
        ("~bq haystack", vec![24]),
        ("~b needle", vec![18, 24]),
        ("~bs привет", vec![19]),
        ("~d example.com", vec![14, 15, 22, 24, 25]),
        ("~d пример", vec![19]),
        ("~u tunnel.example.net:443", vec![17]),
        ("~u dns.google", vec![7, 8, 9]),
        ("~b canonical", vec![9]),
        ("~m ^DELETE$", vec![26]),
        ("~t Font", vec![26]),
        ("~a", vec![15, 16, 21, 22]),
        ("~meta \"ok: True\"", vec![10]),
        ("~comment \"line$\"", vec![10]),
        ("~src \"^::1:5555$\"", vec![21]),
        ("~dst 2001:db8::1:443", vec![21]),
        ("~h \"X-Multi: b\"", vec![22]),
        ("~d \"bad host\"", vec![23]),
        ("~u \"https://2001:db8::1/v6\"", vec![21]),
        (
            "~d example & ~s & !~t image",
            vec![14, 16, 17, 19, 22, 24, 25, 26],
        ),
        ("~c 2xx", vec![]),
        ("~d a|~d b", vec![21, 23]),
    ] {
        assert_eq!(selected(expression), want, "{expression}");
    }
}

#[test]
fn operators_and_grouping() {
    let all = golden("filters.mitm").len();
    assert_eq!(selected("~all").len(), all);
    assert_eq!(selected("!~all"), Vec::<usize>::new());
    assert_eq!(selected("~tcp | ~udp"), vec![3, 4, 5, 6]);
    assert_eq!(selected("( ~tcp | ~udp ) & ~e"), vec![4, 6]);
    assert_eq!(selected("~tcp ~e"), vec![4]);
    assert_eq!(selected("!!~tcp"), vec![3, 4]);
    // Side by side binds loosest: (~tcp | ~udp) AND ~e.
    assert_eq!(selected("~tcp | ~udp ~e"), vec![4, 6]);
    // `~s |` is ~s and the bare regex "|", which matches every URL.
    assert_eq!(selected("~s |"), selected("~s & ~http | ~s & ~dns"));
}

#[test]
fn quoting_follows_pyparsing() {
    assert_eq!(selected(r#"~bs "it's""#), vec![2, 3, 4, 5, 6, 25]);
    assert_eq!(selected(r"~b '\d+'"), selected("~b d+"));
    assert_eq!(selected(r#"~b "\\d+""#), selected(r"~b \d+"));
    // pyparsing 3.2 turns only \0, \xH2 and \uH4 into characters.
    assert_eq!(
        super::syntax::unquote(&r"\x41\x12\u04\0\03\t\q".chars().collect::<Vec<_>>()),
        "x41\x12\x04\x0003\tq"
    );
}

/// Every malformed expression gets one line: the expression, what
/// happened, where, and what to do.
#[test]
fn errors_are_one_line() {
    let flags = "the filters are ~a ~all ~b ~bq ~bs ~c ~comment ~d ~dns ~dst ~e ~h ~hq ~hs ~http ~m ~marked ~marker ~meta ~q ~replay ~replayq ~replays ~s ~src ~t ~tcp ~tq ~ts ~u ~udp ~websocket";
    for (expression, position, want) in [
        ("", 0, r#"filter "": the expression is empty; give one such as "~d example.com & ~s""#.to_owned()),
        (" ", 1, r#"filter " ": the expression is only whitespace; give one such as "~d example.com & ~s""#.to_owned()),
        ("~d example.com & (~s", 20, r#"filter "~d example.com & (~s": expected ")" at position 20 (the end) to close the "(" at position 17; add it (inside parentheses, join terms with & or |)"#.to_owned()),
        ("(~s)", 3, r#"filter "(~s)": ~s must be followed by a space or the end, not ")" at position 3 (")"); write "~s )" (mitmproxy reads it the same way)"#.to_owned()),
        ("~x", 0, format!(r#"filter "~x": unknown filter ~x at position 0 ("~x"); {flags}"#)),
        // Control characters are escaped where the message quotes them.
        ("~x\n\0", 0, format!(r#"filter "~x\n\0": unknown filter ~x at position 0 ("~x\n\u{{0}}"); {flags}"#)),
        ("~s ~replayx", 3, format!(r#"filter "~s ~replayx": unknown filter ~replayx at position 3 ("~replayx"); {flags}"#)),
        ("~c99", 2, r#"filter "~c99": unknown filter ~c99 at position 2 ("99"); did you mean "~c 99"? (a flag and its argument are separated by a space)"#.to_owned()),
        ("~b", 2, r#"filter "~b": ~b needs a regex at position 2 (the end); write ~b REGEX, quoting it if it has spaces or ( ) ~ ' ""#.to_owned()),
        ("~c x", 3, r#"filter "~c x": ~c needs a status code (digits) at position 3 ("x"); write ~c 404"#.to_owned()),
        ("~h [", 3, r#"filter "~h [": ~h's regex "[" at position 3 ("[") does not compile: unterminated character set"#.to_owned()),
        ("~d 'abc", 3, r#"filter "~d 'abc": the quote ' at position 3 ("'abc") is never closed; close it with ' (a backslash escapes one inside)"#.to_owned()),
        ("~d a)", 4, r#"filter "~d a)": unexpected ')' at position 4 (")"); expected a filter such as ~d REGEX, an operator (! & |), a parenthesis or a regex"#.to_owned()),
        ("~s | (", 6, r#"filter "~s | (": expected a filter such as ~d REGEX, "!", "(" or a regex at position 6 (the end); an operator or "(" needs something after it"#.to_owned()),
        (r#"~b "a(?=b)""#, 3, r#"filter "~b "a(?=b)"": ~b's regex "a(?=b)" at position 3 (""a(?=b)"") does not compile: look-ahead ((?=...), (?!...)) is not supported"#.to_owned()),
        ("~b a{2,1}", 3, r#"filter "~b a{2,1}": ~b's regex "a{2,1}" at position 3 ("a{2,1}") does not compile: invalid repetition count range, the start must be <= the end"#.to_owned()),
        ("~u very-long-regex-here(", 24, r#"filter "~u very-long-regex-here(": expected a filter such as ~d REGEX, "!", "(" or a regex at position 24 (the end); an operator or "(" needs something after it"#.to_owned()),
    ] {
        let e = Filter::parse(expression).unwrap_err();
        assert_eq!(e.to_string(), want, "{expression:?}");
        assert!(!e.to_string().contains('\n'));
        assert_eq!(e.position(), position, "{expression:?}");
    }
    let e = Filter::parse("~d example.com & (~s").unwrap_err();
    assert_eq!((e.position(), e.expression()), (20, "~d example.com & (~s"));
}
