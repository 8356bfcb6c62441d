//! The HTTP/1 codec: heads, framing decisions, chunked decoding, writing.

use bytes::{Bytes, BytesMut};

use super::*;

fn req(raw: &str) -> Result<Option<(Head, usize)>, HeadError> {
    parse_request(&Bytes::copy_from_slice(raw.as_bytes()))
}

fn head(raw: &str) -> Head {
    req(raw).unwrap().unwrap().0
}

#[test]
fn request_heads_keep_case_order_and_duplicates() {
    let (h, len) = req("GET http://a.test/x?y=1 HTTP/1.1\r\nHost: a.test\r\nX-Dup: 1\r\nx-dup: 2\r\nUser-Agent: t\r\n\r\nBODY").unwrap().unwrap();
    assert_eq!(len, 85);
    assert_eq!(
        (&h.first[..], &h.second[..], &h.third[..]),
        (&b"GET"[..], &b"http://a.test/x?y=1"[..], &b"HTTP/1.1"[..])
    );
    let names: Vec<&[u8]> = h.headers.iter().map(|(n, _)| &n[..]).collect();
    assert_eq!(names, [&b"Host"[..], b"X-Dup", b"x-dup", b"User-Agent"]);
    assert_eq!(
        h.headers_named("X-DUP").collect::<Vec<_>>(),
        [&b"1"[..], b"2"]
    );
    assert_eq!(req("GET / HTTP/1.1\r\nHost: a").unwrap(), None, "partial");
}

#[test]
fn malformed_heads_are_refused() {
    for raw in [
        "GET / HTTP/1.1\r\nHost: a\r\n folded: no\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
        "NOT HTTP AT ALL\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\n\n",
        "GET / HTTP/1.1\r\nHost: a\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: b\n",
    ] {
        assert!(matches!(req(raw), Err(HeadError::Malformed(_))), "{raw:?}");
    }
    let many: String = (0..300).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_eq!(
        req(&format!("GET / HTTP/1.1\r\n{many}\r\n")),
        Err(HeadError::TooManyHeaders)
    );
}

#[test]
fn request_framing() {
    let cases = [
        ("GET / HTTP/1.1\r\n\r\n", Ok(BodyKind::None)),
        (
            "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
            Ok(BodyKind::Length(5)),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
            Ok(BodyKind::Length(5)),
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            Ok(BodyKind::Chunked),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            Err(FramingError::ConflictingContentLength),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            Err(FramingError::LengthAndTransferEncoding),
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            Err(FramingError::NotChunkedLast),
        ),
        (
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            Err(FramingError::TransferEncodingInHttp10),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            Err(FramingError::InvalidContentLength("-1".into())),
        ),
    ];
    for (raw, want) in cases {
        let got = request_body(&head(raw));
        assert_eq!(got, want, "{raw:?}");
    }
}

/// Every ambiguity that lets two readers see different messages is a
/// smuggling risk; a number or a chunk that is merely broken is not.
#[test]
fn smuggling_risks_are_the_ambiguities() {
    for (error, risk) in [
        (FramingError::ConflictingContentLength, true),
        (FramingError::LengthAndTransferEncoding, true),
        (FramingError::NotChunkedLast, true),
        (FramingError::TransferEncodingInHttp10, true),
        (FramingError::InvalidContentLength("-1".into()), false),
        (FramingError::LineTooLong(4096), false),
        (FramingError::InvalidChunkSize("zz".into()), false),
        (FramingError::ChunkSizeOutOfRange, false),
        (FramingError::NoCrlfAfterChunk, false),
        (FramingError::TrailerWithoutColon, false),
    ] {
        assert_eq!(error.is_smuggling_risk(), risk, "{error}");
    }
}

#[test]
fn response_framing() {
    let resp = |raw: &str| {
        parse_response(&Bytes::copy_from_slice(raw.as_bytes()))
            .unwrap()
            .unwrap()
            .0
    };
    let ok_cl = resp("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
    assert_eq!(response_body(b"GET", 200, &ok_cl), Ok(BodyKind::Length(3)));
    assert_eq!(response_body(b"HEAD", 200, &ok_cl), Ok(BodyKind::None));
    assert_eq!(response_body(b"GET", 304, &ok_cl), Ok(BodyKind::None));
    assert_eq!(response_body(b"GET", 204, &ok_cl), Ok(BodyKind::None));
    let bare = resp("HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(response_body(b"GET", 200, &bare), Ok(BodyKind::Close));
    let chunked =
        resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n");
    assert_eq!(response_body(b"GET", 200, &chunked), Ok(BodyKind::Chunked));
    let status = resp("HTTP/1.0 404 Not Found\r\n\r\n");
    assert_eq!(
        (&status.first[..], &status.second[..], &status.third[..]),
        (&b"HTTP/1.0"[..], &b"404"[..], &b"Not Found"[..])
    );
}

#[test]
fn chunked_decodes_across_any_split() {
    let wire = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\nNEXT";
    for split in 0..wire.len() {
        let mut decoder = ChunkedDecoder::default();
        let mut buf = BytesMut::from(&wire[..split]);
        let mut out = Vec::new();
        assert!(!decoder.decode(&mut buf, &mut out).unwrap() || split >= wire.len() - 4);
        buf.extend_from_slice(&wire[split..]);
        assert!(
            decoder.decode(&mut buf, &mut out).unwrap(),
            "split at {split}"
        );
        assert_eq!(out, b"hello world");
        assert_eq!(&buf[..], b"NEXT");
        assert_eq!(
            decoder.trailers(),
            [(Bytes::from_static(b"X-Trailer"), Bytes::from_static(b"yes"))]
        );
    }
}

#[test]
fn bad_chunks_are_refused() {
    for wire in [
        &b"zz\r\n"[..],
        b"5\r\nhelloXX",
        b"-1\r\n",
        b"11111111111111111\r\n",
    ] {
        let mut decoder = ChunkedDecoder::default();
        let mut out = Vec::new();
        assert!(
            decoder.decode(&mut BytesMut::from(wire), &mut out).is_err(),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
}

#[test]
fn hop_by_hop_fields() {
    let tokens = connection_tokens([&b"close, X-Private"[..]].into_iter());
    for name in [
        "Connection",
        "proxy-connection",
        "Keep-Alive",
        "Transfer-Encoding",
        "x-private",
        "Upgrade",
    ] {
        assert!(is_hop_by_hop(name.as_bytes(), &tokens), "{name}");
    }
    assert!(!is_hop_by_hop(b"Content-Length", &tokens));
}

#[test]
fn heads_are_written_as_given() {
    let mut out = Vec::new();
    write_head(
        &mut out,
        [b"GET", b"/x", b"HTTP/1.1"],
        &[(b"Host", b"a"), (b"X-Case", b"v")],
    );
    assert_eq!(out, b"GET /x HTTP/1.1\r\nHost: a\r\nX-Case: v\r\n\r\n");
}
