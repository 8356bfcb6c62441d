//! The WebSocket codec: the RFCs' example frames byte for byte, round
//! trips, each protocol rule, size limits, partial input, and the fuzz
//! target's invariants.

use bytes::{Bytes, BytesMut};
use flate2::{Compress, Compression, FlushCompress};

use super::*;

const MAX: usize = 1 << 20;
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

fn deflate() -> Option<Deflate> {
    Some(Deflate::default())
}

/// Every event in `bytes`, fed at once; the bytes must all be used.
fn decode_all(
    from: Peer,
    deflate: Option<Deflate>,
    max: usize,
    bytes: &[u8],
) -> Result<Vec<Event>, WsError> {
    let mut decoder = Decoder::new(from, deflate.as_ref(), max);
    let mut buf = BytesMut::from(bytes);
    let mut events = Vec::new();
    while let Some(event) = decoder.decode(&mut buf)? {
        events.push(event);
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(events)
}

fn text(s: &str) -> Event {
    Event::Message {
        text: true,
        payload: Bytes::copy_from_slice(s.as_bytes()),
    }
}

fn binary(b: &[u8]) -> Event {
    Event::Message {
        text: false,
        payload: Bytes::copy_from_slice(b),
    }
}

/// A frame: the first byte as given (FIN, RSV, opcode), then the length
/// in its shortest form, then the payload masked with `KEY` if `masked`.
fn raw(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mask = masked.then_some(KEY);
    let (head, size) = frame::header(false, 0, payload.len(), mask);
    let mut out = vec![first];
    out.extend_from_slice(&head[1..size]);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        frame::apply_mask(&mut out[start..], key);
    }
    out
}

#[test]
fn rfc_6455_examples_decode_and_encode_byte_for_byte() {
    let big: Vec<u8> = (0..=255).collect();
    let huge = vec![0x2a; 65536];
    let cases: Vec<(&str, Peer, Vec<u8>, Event)> = vec![
        (
            "unmasked text",
            Peer::Server,
            hex("81 05 48 65 6c 6c 6f"),
            text("Hello"),
        ),
        (
            "masked text",
            Peer::Client,
            hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"),
            text("Hello"),
        ),
        (
            "unmasked ping",
            Peer::Server,
            hex("89 05 48 65 6c 6c 6f"),
            Event::Ping(Bytes::from_static(b"Hello")),
        ),
        (
            "masked pong",
            Peer::Client,
            hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
            Event::Pong(Bytes::from_static(b"Hello")),
        ),
        (
            "256 bytes binary",
            Peer::Server,
            [hex("82 7e 01 00"), big.clone()].concat(),
            binary(&big),
        ),
        (
            "64 KiB binary",
            Peer::Server,
            [hex("82 7f 00 00 00 00 00 01 00 00"), huge.clone()].concat(),
            binary(&huge),
        ),
    ];
    for (name, from, wire, event) in cases {
        let mut out = Vec::new();
        encode(
            &mut Encoder::new(from.other(), None).with_mask_key(KEY),
            &event,
            &mut out,
        );
        assert_eq!(out, wire, "{name}");
        assert_eq!(
            decode_all(from, None, MAX, &wire).unwrap(),
            [event],
            "{name}"
        );
    }
    assert_eq!(
        decode_all(Peer::Server, None, MAX, &hex("01 03 48 65 6c 80 02 6c 6f")).unwrap(),
        [text("Hello")],
        "fragmented"
    );
}

#[test]
fn rfc_7692_examples_decode() {
    let hello = || text("Hello");
    let cases: Vec<(&str, &str, Vec<Event>)> = vec![
        ("one frame", "c1 07 f2 48 cd c9 c9 07 00", vec![hello()]),
        (
            "fragmented",
            "41 03 f2 48 cd 80 04 c9 c9 07 00",
            vec![hello()],
        ),
        (
            "the window shared by the second message",
            "c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00",
            vec![hello(), hello()],
        ),
        (
            "stored block",
            "c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00",
            vec![hello()],
        ),
        (
            "BFINAL set, then another message in a new stream",
            "c1 08 f3 48 cd c9 c9 07 00 00 c1 07 f2 48 cd c9 c9 07 00",
            vec![hello(), hello()],
        ),
        (
            "two deflate blocks",
            "c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00",
            vec![hello()],
        ),
        ("empty", "c1 01 00", vec![text("")]),
        (
            "uncompressed message beside compressed ones",
            "81 05 48 65 6c 6c 6f c1 07 f2 48 cd c9 c9 07 00",
            vec![hello(), hello()],
        ),
    ];
    for (name, wire, events) in cases {
        assert_eq!(
            decode_all(Peer::Server, deflate(), MAX, &hex(wire)).unwrap(),
            events,
            "{name}"
        );
    }
}

#[test]
fn compressed_hello_is_the_rfc_7692_bytes() {
    let mut out = Vec::new();
    Encoder::new(Peer::Client, deflate().as_ref()).message(true, b"Hello", &mut out);
    assert_eq!(out, hex("c1 07 f2 48 cd c9 c9 07 00"));
    // A small window: stored blocks (RFC 7692 section 7.2.3.3's bytes).
    let small = Deflate {
        server_max_window_bits: 10,
        ..Deflate::default()
    };
    out.clear();
    Encoder::new(Peer::Client, Some(&small)).message(true, b"Hello", &mut out);
    assert_eq!(out, hex("c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00"));
}

/// Messages of every kind and size that must survive a round trip.
fn messages() -> Vec<Event> {
    let mut noise = Vec::with_capacity(200_000);
    let mut x = 0x1234_5678_u32;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    vec![
        text("Hello"),
        text(""),
        binary(&[]),
        text(&"héllo wörld ".repeat(10_000)),
        Event::Ping(Bytes::from_static(b"are you there")),
        binary(&noise),
        Event::Pong(Bytes::new()),
        text("Hello"),
        binary(&noise[..70_000]),
        text("Hello again, Hello"),
        Event::Close(Some((1000, "bye".into()))),
        Event::Close(None),
    ]
}

fn encode(encoder: &mut Encoder, event: &Event, out: &mut Vec<u8>) {
    match event {
        Event::Message { text, payload } => encoder.message(*text, payload, out),
        Event::Ping(p) => encoder.ping(p, out),
        Event::Pong(p) => encoder.pong(p, out),
        Event::Close(c) => encoder.close(c.as_ref().map(|(c, r)| (*c, r.as_str())), out),
    }
}

#[test]
fn messages_round_trip_both_ways_with_and_without_deflate() {
    let configs = [
        None,
        deflate(),
        Some(Deflate {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..Deflate::default()
        }),
        Some(Deflate {
            server_max_window_bits: 9,
            client_max_window_bits: 8,
            ..Deflate::default()
        }),
    ];
    let messages = messages();
    for config in configs {
        for to in [Peer::Client, Peer::Server] {
            let mut encoder = Encoder::new(to, config.as_ref());
            let mut wire = Vec::new();
            for event in &messages {
                encode(&mut encoder, event, &mut wire);
            }
            assert_eq!(
                decode_all(to.other(), config, MAX, &wire).unwrap(),
                messages,
                "to {to:?} with {config:?}"
            );
            if config.is_some_and(|d| d.server_max_window_bits == 15) {
                // The text compresses; the noise (270,000 bytes) does not.
                assert!(wire.len() < 280_000, "compressed: {} bytes", wire.len());
            }
        }
    }
}

/// Compresses like a browser: one raw deflate stream for all messages,
/// each ended by a sync flush whose tail is dropped.
fn persistent_context(messages: &[&[u8]]) -> Vec<u8> {
    let mut z = Compress::new(Compression::default(), false);
    let mut wire = Vec::new();
    for message in messages {
        let mut data = Vec::with_capacity(message.len() + 64);
        let mut input = *message;
        loop {
            let before = z.total_in();
            z.compress_vec(input, &mut data, FlushCompress::Sync)
                .unwrap();
            input = &input[(z.total_in() - before) as usize..];
            if input.is_empty() && data.len() < data.capacity() {
                break;
            }
            data.reserve(1024);
        }
        assert!(data.ends_with(&[0, 0, 0xff, 0xff]));
        data.truncate(data.len() - 4);
        wire.extend(raw(0xc1, &data, true));
    }
    wire
}

#[test]
fn a_persistent_context_is_followed_across_messages() {
    let long = "the same words again and again ".repeat(500);
    let messages: Vec<&[u8]> = vec![
        b"Hello",
        b"Hello",
        long.as_bytes(),
        b"",
        long.as_bytes(),
        b"Hello",
    ];
    let wire = persistent_context(&messages);
    // Later messages refer back into earlier ones: far smaller than alone.
    assert!(wire.len() < long.len() / 10, "{} bytes", wire.len());
    let expected: Vec<Event> = messages
        .iter()
        .map(|m| text(std::str::from_utf8(m).unwrap()))
        .collect();
    assert_eq!(
        decode_all(Peer::Client, deflate(), MAX, &wire).unwrap(),
        expected
    );
}

#[test]
fn control_frames_between_fragments_come_as_they_arrive() {
    let wire = [
        raw(0x01, b"Hel", true),
        raw(0x89, b"", true),
        raw(0x00, b"l", true),
        raw(0x8a, b"pong", true),
        raw(0x80, b"o", true),
        raw(0x41, &hex("f2 48 cd"), true),
        raw(0x89, b"p", true),
        raw(0x80, &hex("c9 c9 07 00"), true),
        // A character split between fragments is fine.
        raw(0x01, &"é".as_bytes()[..1], true),
        raw(0x80, &"é".as_bytes()[1..], true),
        raw(0x88, &hex("03 e8 62 79 65"), true),
    ]
    .concat();
    assert_eq!(
        decode_all(Peer::Client, deflate(), MAX, &wire).unwrap(),
        [
            Event::Ping(Bytes::new()),
            Event::Pong(Bytes::from_static(b"pong")),
            text("Hello"),
            Event::Ping(Bytes::from_static(b"p")),
            text("Hello"),
            text("é"),
            Event::Close(Some((1000, "bye".into()))),
        ]
    );
}

#[test]
fn input_fed_one_byte_at_a_time_gives_the_same_events() {
    let mut wire = Vec::new();
    let mut encoder = Encoder::new(Peer::Server, deflate().as_ref());
    for event in &messages()[..5] {
        encode(&mut encoder, event, &mut wire);
    }
    wire.extend(raw(0x01, b"Hel", true));
    wire.extend(raw(0x89, b"ping", true));
    wire.extend(raw(0x80, b"lo", true));
    let at_once = decode_all(Peer::Client, deflate(), MAX, &wire).unwrap();
    assert_eq!(at_once.len(), 7);

    let mut decoder = Decoder::new(Peer::Client, deflate().as_ref(), MAX);
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    for &b in &wire {
        buf.extend_from_slice(&[b]);
        while let Some(event) = decoder.decode(&mut buf).unwrap() {
            events.push(event);
        }
    }
    assert!(buf.is_empty());
    assert_eq!(events, at_once);
}

#[test]
fn a_partial_frame_stays_in_the_buffer() {
    let wire = hex("81 05 48 65 6c 6c 6f");
    let mut decoder = Decoder::new(Peer::Server, None, MAX);
    let mut buf = BytesMut::from(&wire[..4]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(&buf[..], &wire[..4]);
    buf.extend_from_slice(&wire[4..]);
    buf.extend_from_slice(&wire[..1]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), Some(text("Hello")));
    assert_eq!(&buf[..], &wire[..1]);
}

/// What a decoder of `from`'s frames says to `wire`: the close code and
/// the message's last words.
fn refusal(from: Peer, deflate: Option<Deflate>, wire: &[u8]) -> (u16, String) {
    let e = decode_all(from, deflate, MAX, wire).unwrap_err();
    (e.close_code(), e.to_string())
}

#[test]
fn protocol_violations_are_refused() {
    let c = Peer::Client;
    let s = Peer::Server;
    // Who sends, what was agreed, the bytes; the close code, the words.
    type Case = (Peer, Option<Deflate>, Vec<u8>, u16, &'static str);
    let cases: Vec<Case> = vec![
        (s, None, raw(0x83, b"", false), 1002, "reserved opcode 0x3"),
        (s, None, raw(0x8b, b"", false), 1002, "reserved opcode 0xb"),
        (s, None, raw(0xa1, b"x", false), 1002, "RSV2 or RSV3"),
        (s, None, raw(0x91, b"x", false), 1002, "RSV2 or RSV3"),
        (
            s,
            None,
            raw(0xc1, b"x", false),
            1002,
            "permessage-deflate was not agreed",
        ),
        (
            s,
            deflate(),
            raw(0xc9, b"", false),
            1002,
            "control frame has RSV1",
        ),
        (
            s,
            deflate(),
            [
                raw(0x41, &hex("f2 48 cd"), false),
                raw(0xc0, &hex("c9 c9 07 00"), false),
            ]
            .concat(),
            1002,
            "continuation frame has RSV1",
        ),
        (
            s,
            None,
            raw(0x09, b"", false),
            1002,
            "control frame is fragmented",
        ),
        (
            s,
            None,
            raw(0x89, &[0; 126], false),
            1002,
            "carries 126 bytes",
        ),
        (
            s,
            None,
            raw(0x80, b"x", false),
            1002,
            "no fragmented message started",
        ),
        (
            s,
            None,
            raw(0x00, b"x", false),
            1002,
            "no fragmented message started",
        ),
        (
            s,
            None,
            [raw(0x01, b"x", false), raw(0x81, b"y", false)].concat(),
            1002,
            "before the fragmented one",
        ),
        (
            s,
            None,
            [raw(0x02, b"x", false), raw(0x01, b"y", false)].concat(),
            1002,
            "before the fragmented one",
        ),
        (
            c,
            None,
            raw(0x81, b"x", false),
            1002,
            "client is not masked",
        ),
        (s, None, raw(0x81, b"x", true), 1002, "server is masked"),
        (
            s,
            None,
            hex("82 7f 80 00 00 00 00 00 00 01"),
            1002,
            "most significant bit",
        ),
        (
            s,
            None,
            raw(0x88, b"x", false),
            1002,
            "close frame carries 1 byte",
        ),
        (s, None, raw(0x81, &[0xff], false), 1007, "not valid UTF-8"),
        (
            s,
            None,
            [raw(0x01, &[0xc3], false), raw(0x80, b"x", false)].concat(),
            1007,
            "not valid UTF-8",
        ),
        (
            s,
            None,
            raw(0x88, &hex("03 e8 ff"), false),
            1007,
            "not valid UTF-8",
        ),
        (
            s,
            deflate(),
            raw(0xc1, &[0xff; 8], false),
            1007,
            "could not be inflated",
        ),
        (
            s,
            deflate(),
            raw(0xc1, &hex("00 01 00 fe ff ff 00"), false),
            1007,
            "not valid UTF-8",
        ),
    ];
    for (from, deflate, wire, code, words) in cases {
        let (got_code, message) = refusal(from, deflate, &wire);
        assert!(
            got_code == code && message.contains(words),
            "{wire:02x?}: {got_code} {message:?}, wanted {code} and {words:?}"
        );
    }
}

#[test]
fn close_codes_allowed_on_the_wire() {
    for code in [
        0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
    ] {
        let wire = raw(0x88, &u16::to_be_bytes(code), false);
        let (got, message) = refusal(Peer::Server, None, &wire);
        assert!(
            got == 1002 && message.contains(&format!("code {code}")),
            "{code}: {message}"
        );
    }
    for code in [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999] {
        let wire = raw(0x88, &u16::to_be_bytes(code), false);
        assert_eq!(
            decode_all(Peer::Server, None, MAX, &wire).unwrap(),
            [Event::Close(Some((code, String::new())))]
        );
    }
    assert_eq!(
        decode_all(Peer::Server, None, MAX, &raw(0x88, b"", false)).unwrap(),
        [Event::Close(None)]
    );
}

#[test]
fn close_reasons_are_cut_on_a_char_boundary() {
    for (reason, kept) in [
        ("é".repeat(100), 61),
        ("x".repeat(200), 123),
        ("ok".into(), 2),
    ] {
        let mut out = Vec::new();
        Encoder::new(Peer::Client, None).close(Some((4000, &reason)), &mut out);
        assert!(out.len() <= 2 + 125);
        let events = decode_all(Peer::Server, None, MAX, &out).unwrap();
        let [Event::Close(Some((4000, got)))] = &events[..] else {
            panic!("{events:?}");
        };
        assert_eq!(got.chars().count(), kept, "{reason}");
        assert!(reason.starts_with(got.as_str()));
    }
    let mut out = Vec::new();
    let mut encoder = Encoder::new(Peer::Client, None);
    encoder.close(None, &mut out);
    encoder.ping(&[7; 200], &mut out);
    assert_eq!(
        decode_all(Peer::Server, None, MAX, &out).unwrap(),
        [Event::Close(None), Event::Ping(Bytes::from(vec![7; 125]))]
    );
}

#[test]
fn messages_over_the_limit_are_refused_from_their_header() {
    let too_large = WsError::TooLarge { limit: 10 };
    // Each cut after the header that shows it: the payload need not come.
    let cases: Vec<(&str, Option<Deflate>, Vec<u8>, usize)> = vec![
        ("one frame", None, raw(0x82, &[0; 11], false), 2),
        (
            "fragments",
            None,
            [raw(0x02, &[0; 6], false), raw(0x80, &[0; 5], false)].concat(),
            10,
        ),
        (
            "a huge frame",
            None,
            hex("82 7f 7f ff ff ff ff ff ff ff"),
            10,
        ),
        // Compressed data far larger than the limit cannot inflate to less
        // unless it is padding.
        ("compressed", deflate(), raw(0xc2, &[0; 300], false), 4),
    ];
    for (name, deflate, wire, cut) in cases {
        let mut decoder = Decoder::new(Peer::Server, deflate.as_ref(), 10);
        let mut buf = BytesMut::from(&wire[..cut]);
        assert_eq!(decoder.decode(&mut buf), Err(too_large.clone()), "{name}");
    }
    assert_eq!(
        decode_all(Peer::Server, None, 10, &raw(0x82, &[0; 10], false)).unwrap(),
        [binary(&[0; 10])],
        "exactly the limit"
    );
}

#[test]
fn a_deflate_bomb_stops_at_the_limit() {
    // 100 MB of zeros compress to about 100 KB.
    let zeros = vec![0; 100 << 20];
    let mut z = Compress::new(Compression::fast(), false);
    let mut data = Vec::with_capacity(1 << 20);
    z.compress_vec(&zeros, &mut data, FlushCompress::Sync)
        .unwrap();
    assert_eq!(
        z.total_in(),
        zeros.len() as u64,
        "one call compressed it all"
    );
    drop(zeros);
    data.truncate(data.len() - 4);
    let wire = raw(0xc2, &data, false);
    let limit = 1 << 20;
    let e = decode_all(Peer::Server, deflate(), limit, &wire).unwrap_err();
    assert_eq!(e, WsError::TooLarge { limit });
    assert_eq!(e.close_code(), 1009);
    assert_eq!(
        e.to_string(),
        "a WebSocket message is larger than websocket_max_message (1048576 bytes)"
    );
    // Within a larger limit it inflates.
    let events = decode_all(Peer::Server, deflate(), 100 << 20, &wire).unwrap();
    assert!(matches!(&events[..], [Event::Message { payload, .. }] if payload.len() == 100 << 20));
}

#[test]
fn errors_read_as_one_sentence() {
    for (e, code, text) in [
        (
            WsError::Protocol("a frame from the server is masked".into()),
            1002,
            "a WebSocket peer broke the protocol: a frame from the server is masked",
        ),
        (
            WsError::InvalidUtf8,
            1007,
            "a WebSocket text message or close reason is not valid UTF-8",
        ),
        (
            WsError::Deflate("invalid stored block lengths".into()),
            1007,
            "a compressed WebSocket message could not be inflated: invalid stored block lengths",
        ),
    ] {
        assert_eq!((e.close_code(), e.to_string().as_str()), (code, text));
    }
}

#[test]
fn masking_keys_differ_from_frame_to_frame() {
    let mut encoder = Encoder::new(Peer::Server, None);
    let keys: std::collections::HashSet<Vec<u8>> = (0..64)
        .map(|_| {
            let mut out = Vec::new();
            encoder.message(false, b"same", &mut out);
            assert_eq!(out[1], 0x84);
            out[2..6].to_vec()
        })
        .collect();
    assert_eq!(keys.len(), 64);
}

/// A tiny xorshift: the mutation test is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn the_fuzz_target_holds_on_the_examples_and_mutations_of_them() {
    let examples = [
        "81 05 48 65 6c 6c 6f 89 00 01 03 48 65 6c 8a 01 78 80 02 6c 6f 88 02 03 e8",
        "c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00 41 03 f2 48 cd 80 04 c9 c9 07 00",
        "c1 08 f3 48 cd c9 c9 07 00 00 c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00",
        "81 85 37 fa 21 3d 7f 9f 4d 51 58 c1 87 37 fa 21 3d c5 b2 ec f4 fe fd 21",
    ];
    for example in examples {
        for config in [0x00, 0x0f, 0x35, 0xf0] {
            crate::fuzzing::websocket_frames(&[vec![config], hex(example)].concat());
        }
    }
    // Valid streams with a few bytes changed, inserted or cut.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let words = [
        "Hello",
        "",
        "héllo",
        "xyz",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];
    for _ in 0..300 {
        let to = [Peer::Client, Peer::Server][rng.below(2)];
        let deflate = [None, deflate()][rng.below(2)];
        let mut encoder = Encoder::new(to, deflate.as_ref());
        let mut wire = vec![rng.next() as u8];
        for _ in 0..rng.below(6) {
            let word = words[rng.below(words.len())];
            match rng.below(4) {
                0 => encoder.ping(word.as_bytes(), &mut wire),
                1 => encoder.close(Some((1000, word)), &mut wire),
                _ => encoder.message(
                    rng.below(2) == 0,
                    word.repeat(rng.below(40)).as_bytes(),
                    &mut wire,
                ),
            }
        }
        for _ in 0..rng.below(4) {
            let at = 1 + rng.below(wire.len());
            match rng.below(4) {
                _ if at == wire.len() => wire.push(rng.next() as u8),
                0 => wire[at] ^= 1 << rng.below(8),
                1 => wire[at] = rng.next() as u8,
                2 => wire.insert(at, rng.next() as u8),
                _ => wire.truncate(at),
            }
        }
        crate::fuzzing::websocket_frames(&wire);
    }
}
