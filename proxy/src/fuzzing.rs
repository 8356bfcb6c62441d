//! Entry points for the cargo-fuzz targets in `fuzz/` and for the tests
//! that replay the inputs they found. Each takes arbitrary bytes and
//! panics only when an invariant breaks; bad input is an error, never a
//! panic.

use bytes::{Bytes, BytesMut};

use crate::flowfile::{FlowReader, FlowWriter};
use crate::tnetstring::{Dict, Value};

/// Reads every flow of `data` as a flow file, to the first error.
pub fn read_flows(data: &[u8]) -> usize {
    let mut reader = FlowReader::new(data);
    let mut n = 0;
    while let Some(flow) = reader.read_flow() {
        match flow {
            Ok(_) => n += 1,
            Err(e) => {
                assert!(e.offset <= data.len() as u64, "offset past the end: {e}");
                break;
            }
        }
    }
    n
}

fn write_all(flows: &[crate::Flow]) -> Vec<u8> {
    let mut writer = FlowWriter::new(Vec::new());
    for flow in flows {
        writer.write_flow(flow).expect("writing to memory");
    }
    writer.finish().expect("writing to memory")
}

/// Read → write → read: the flows read back are the flows written, byte
/// for byte once written again.
pub fn round_trip(data: &[u8]) {
    let mut reader = FlowReader::new(data);
    let mut flows = Vec::new();
    while let Some(Ok(flow)) = reader.read_flow() {
        flows.push(flow);
    }
    let written = write_all(&flows);
    let mut again = Vec::new();
    let mut reader = FlowReader::new(&written[..]);
    while let Some(flow) = reader.read_flow() {
        again.push(flow.expect("what Waylay writes, Waylay reads"));
    }
    assert_eq!(flows.len(), again.len(), "flows lost in the round trip");
    assert!(
        write_all(&again) == written,
        "a flow changed in the round trip"
    );
    // Each flow serialized anew from built containers (lengths measured
    // first, floats as Python's repr) reads back, and serializing what
    // was read the same way gives the same bytes. (Not the input's bytes:
    // an unchanged container keeps its spelling, `007:` prefixes and all.)
    for flow in &again {
        let mut anew = Vec::new();
        crate::tnetstring::write(&flow.as_value().rebuilt(), &mut anew);
        let back = FlowReader::new(&anew[..])
            .read_flow()
            .expect("one flow")
            .expect("a flow serialized anew reads back");
        let mut twice = Vec::new();
        crate::tnetstring::write(&back.as_value().rebuilt(), &mut twice);
        assert!(anew == twice, "a flow serialized anew is not stable");
    }
    // A stream's messages moved to a spill file are written as they were.
    // The reference keeps them all (`usize::MAX`) but is touched on the
    // same path, so that both write the dicts on it anew (a float the
    // input spelled otherwise than Python would is written as Python
    // would, in both).
    let mut kept = flows.clone();
    let mut spilled = flows;
    for (kept, spilled) in kept.iter_mut().zip(&mut spilled) {
        let _ = kept.spill_oldest(usize::MAX);
        let _ = spilled.spill_oldest(0);
    }
    assert!(
        write_all(&spilled) == write_all(&kept),
        "a spilled flow is written differently"
    );
}

/// Old flow files (format 0.11 to 20) brought to format 21: never a
/// panic; each flow read comes out as format 21, with a kind Waylay knows;
/// and the round trip holds for what the migration made (written, read
/// back as format 21, written again: the same bytes).
pub fn old_flows(data: &[u8]) {
    let mut reader = FlowReader::new(data);
    let mut flows = Vec::new();
    while let Some(Ok(flow)) = reader.read_flow() {
        assert_eq!(
            flow.dict().get("version").and_then(Value::as_int),
            Some(crate::flow::FORMAT_VERSION),
            "a flow read is format 21"
        );
        flows.push(flow);
    }
    let written = write_all(&flows);
    let again: Vec<crate::Flow> = FlowReader::new(&written[..])
        .map(|f| f.expect("a migrated flow, written, reads back"))
        .collect();
    assert_eq!(flows.len(), again.len(), "flows lost in the round trip");
    assert!(
        write_all(&again) == written,
        "a migrated flow changed in the round trip"
    );
}

/// HAR bytes → flows (mitmproxy's import), each flow → HAR → flows again:
/// never a panic; the export is JSON with an entry per flow; and when it
/// imports again (an exported URL comes from the Host field, which may not
/// parse, as in mitmproxy) it gives as many flows, with the same methods.
/// The imported flows are also written and read back as a flow file.
pub fn har(data: &[u8]) {
    let Ok(flows) = crate::har::read_har(data) else {
        return;
    };
    let mut dump = crate::har::HarDump::new();
    for flow in &flows {
        assert!(dump.push_entry(flow), "an imported flow is an HTTP flow");
    }
    let mut out = Vec::new();
    dump.finish(&mut out).expect("writing to memory");
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("the export is JSON");
    let entries = doc["log"]["entries"].as_array().map_or(0, Vec::len);
    assert_eq!(entries, flows.len(), "an entry per flow");
    if let Ok(again) = crate::har::read_har(&out) {
        assert_eq!(again.len(), flows.len(), "flows lost in the HAR round trip");
        for (a, b) in flows.iter().zip(&again) {
            let method = |f: &crate::Flow| {
                f.request()
                    .map(|r| crate::http::raw(r, "method").to_ascii_uppercase())
            };
            assert_eq!(
                method(a),
                method(b),
                "a method changed in the HAR round trip"
            );
        }
    }
    let written = write_all(&flows);
    let mut reader = FlowReader::new(&written[..]);
    let mut n = 0;
    while let Some(flow) = reader.read_flow() {
        flow.expect("an imported flow is written readably");
        n += 1;
    }
    assert_eq!(n, flows.len(), "imported flows lost in the flow file");
}

/// The small parsers, chosen by the first byte.
pub fn parsers(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let bytes = Bytes::copy_from_slice(rest);
    let text = String::from_utf8_lossy(rest);
    match which % 9 {
        0 => {
            if let Ok(target) = crate::live::record::parse_target(&bytes) {
                assert!(!target.host.is_empty() && target.path.starts_with(b"/"));
            }
        }
        1 => {
            if let Ok((host, port)) = crate::live::record::parse_authority(rest) {
                assert!(!host.is_empty() && port != 0);
            }
        }
        2 => {
            if let Ok(Some((head, len))) = crate::h1::parse_request(&bytes) {
                assert!(len <= rest.len());
                let _ = crate::h1::request_body(&head);
            }
        }
        3 => {
            if let Ok(Some((head, len))) = crate::h1::parse_response(&bytes) {
                assert!(len <= rest.len());
                let status = std::str::from_utf8(&head.second)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let _ = crate::h1::response_body(b"GET", status, &head);
            }
        }
        4 => {
            let mut decoder = crate::h1::ChunkedDecoder::default();
            let mut buf = BytesMut::from(rest);
            let mut out = Vec::new();
            if let Ok(true) = decoder.decode(&mut buf, &mut out) {
                assert!(out.len() <= rest.len());
            }
        }
        5 => headers(rest),
        8 => query(rest),
        6 => {
            for kind in [
                waylay_sdk::OptionKind::Bool,
                waylay_sdk::OptionKind::Int,
                waylay_sdk::OptionKind::Str,
            ] {
                let option = crate::script::DeclaredOption {
                    name: "fuzzed".into(),
                    kind,
                    default: String::new(),
                    help: String::new(),
                    script: String::new(),
                };
                let _ = option.check(&text);
            }
        }
        _ => {
            if let Ok(value) = crate::tnetstring::parse(&bytes) {
                let mut out = Vec::new();
                crate::tnetstring::write(&value, &mut out);
                let again = crate::tnetstring::parse(&Bytes::from(out.clone()))
                    .expect("what Waylay writes, Waylay parses");
                let mut twice = Vec::new();
                crate::tnetstring::write(&again, &mut twice);
                assert_eq!(out, twice);
            }
        }
    }
}

/// The query a script reads: the boundary's items, parsed from the path
/// in place, are the pairs the reference parser gives.
fn query(path: &[u8]) {
    for method in [&b"GET"[..], b"CONNECT"] {
        let mut req = Dict::new();
        req.insert("method", Value::bytes(method));
        req.insert("scheme", Value::bytes(b"http"));
        req.insert("host", Value::text("example.com"));
        req.insert("port", Value::Int(80));
        req.insert("path", Value::bytes(path));
        let mut items = Vec::new();
        crate::http::message::query_items(&req, &mut items);
        let mut expected = Vec::new();
        for (k, v) in crate::http::message::query_reference(&req) {
            for part in [k, v] {
                expected.extend_from_slice(&(part.len() as u32).to_le_bytes());
                expected.extend_from_slice(&part);
            }
        }
        assert_eq!(
            items,
            expected,
            "the query of {:?}",
            String::from_utf8_lossy(path)
        );
    }
}

/// The headers API (mitmproxy's semantics) driven by `data`: fields from
/// its lines, then edits, each checked.
fn headers(data: &[u8]) {
    let mut lines = data.split(|&b| b == b'\n');
    let mut fields = Vec::new();
    for line in lines.by_ref().take(16) {
        if let Some(i) = line.iter().position(|&b| b == b':') {
            fields.push(Value::list(vec![
                Value::bytes(&line[..i]),
                Value::bytes(&line[i + 1..]),
            ]));
        }
    }
    let mut msg = Dict::new();
    msg.insert("headers", Value::list(fields));
    for edit in lines {
        let (op, rest) = match edit.split_first() {
            Some((&op, rest)) => (op, rest),
            None => continue,
        };
        let (name, value) = match rest.iter().position(|&b| b == b'=') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &b""[..]),
        };
        let name_text = String::from_utf8_lossy(name).into_owned();
        match op % 4 {
            0 => {
                crate::http::set_header(&mut msg, name, value);
                if std::str::from_utf8(name).is_ok() {
                    assert_eq!(crate::http::header(&msg, &name_text), Some(value));
                }
            }
            1 => {
                crate::http::remove_header(&mut msg, name);
                if std::str::from_utf8(name).is_ok() {
                    assert_eq!(crate::http::header(&msg, &name_text), None);
                }
            }
            2 => crate::http::append_header(&mut msg, name, value),
            _ => {
                let n = crate::http::headers(&msg).len();
                crate::http::insert_header(&mut msg, n / 2, name, value);
            }
        }
    }
}

/// Raw client bytes to a flow and back out: see
/// [`crate::live::fuzz_client_bytes`].
pub fn client_bytes(data: &[u8]) {
    crate::live::fuzz_client_bytes(data);
}

/// WebSocket frames as either peer would send them, with and without
/// permessage-deflate (the first byte picks its parameters and how the
/// rest is fed). Feeding the bytes in pieces gives the same events and
/// error as feeding them at once, and every event, written out again and
/// decoded by a second decoder, is the same event.
pub fn websocket_frames(data: &[u8]) {
    use crate::ws::{Decoder, Deflate, Encoder, Event, Peer};

    const MAX_MESSAGE: usize = 1 << 16;
    let Some((&config, rest)) = data.split_first() else {
        return;
    };
    let agreed = Deflate {
        server_no_context_takeover: config & 1 != 0,
        client_no_context_takeover: config & 2 != 0,
        server_max_window_bits: if config & 4 != 0 { 9 } else { 15 },
        client_max_window_bits: if config & 8 != 0 { 8 } else { 15 },
    };
    let piece = 1 + usize::from(config >> 4);
    for from in [Peer::Client, Peer::Server] {
        for deflate in [None, Some(&agreed)] {
            let decode = |pieces: std::slice::Chunks<'_, u8>| {
                let mut decoder = Decoder::new(from, deflate, MAX_MESSAGE);
                let mut buf = BytesMut::new();
                let mut events = Vec::new();
                for piece in pieces {
                    buf.extend_from_slice(piece);
                    loop {
                        match decoder.decode(&mut buf) {
                            Ok(Some(event)) => events.push(event),
                            Ok(None) => break,
                            Err(e) => return (events, Some(e)),
                        }
                    }
                }
                (events, None)
            };
            let whole = decode(rest.chunks(rest.len().max(1)));
            assert_eq!(
                whole,
                decode(rest.chunks(piece)),
                "fed in pieces of {piece} bytes"
            );
            let (events, _) = whole;

            let mut encoder = Encoder::new(from.other(), deflate);
            let mut decoder = Decoder::new(from, deflate, MAX_MESSAGE);
            for event in events {
                let mut out = Vec::new();
                match &event {
                    Event::Message { text, payload } => {
                        encoder.message(*text, payload, &mut out);
                    }
                    Event::Ping(p) => encoder.ping(p, &mut out),
                    Event::Pong(p) => encoder.pong(p, &mut out),
                    Event::Close(c) => {
                        encoder.close(c.as_ref().map(|(c, r)| (*c, r.as_str())), &mut out);
                    }
                }
                let mut buf = BytesMut::from(&out[..]);
                let again = decoder.decode(&mut buf);
                assert!(
                    again.as_ref() == Ok(&Some(event.clone())) && buf.is_empty(),
                    "{event:?} written as {out:02x?} reads back as {again:?}"
                );
            }
        }
    }
}

/// A SOCKS5 client's bytes, read as the proxy reads them: a greeting,
/// then credentials or a request, from wherever the last one ended. A
/// message read whole never claims more bytes than it was given, and a
/// request's reply for its address parses back as a request to the same
/// place.
pub fn socks5(data: &[u8]) {
    use crate::socks5::{credentials, greeting, reply, request};
    let mut rest = data;
    if let Ok(Some((_, used))) = greeting(rest) {
        assert!(used <= rest.len(), "the greeting overran its bytes");
        rest = &rest[used..];
    }
    if let Ok(Some((_, used))) = credentials(rest) {
        assert!(used <= rest.len(), "the credentials overran their bytes");
    }
    if let Ok(Some((req, used))) = request(rest) {
        assert!(used <= rest.len(), "the request overran its bytes");
        if let Ok(ip) = req.host.parse::<std::net::IpAddr>() {
            let mut again = reply(1, std::net::SocketAddr::new(ip, req.port));
            again[1] = req.command;
            let (back, _) = request(&again)
                .expect("a reply's address parses")
                .expect("a reply is whole");
            assert_eq!((back.host, back.port), (req.host, req.port));
        }
    }
}

/// A `--mode` spec: it parses or says which part is wrong; what parses
/// keeps the spec as written and a port when it names one.
pub fn mode_strings(data: &[u8]) {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    match crate::live::mode::Mode::parse(spec) {
        Ok(mode) => assert_eq!(mode.spec, spec),
        Err(e) => {
            assert_eq!(e.spec, spec);
            assert!(e.to_string().starts_with("--mode "));
        }
    }
}

/// The flows filters and rewriting options are tried on: the golden
/// filter flows, built once.
static FILTER_FLOWS: std::sync::LazyLock<Vec<crate::Flow>> = std::sync::LazyLock::new(|| {
    let golden = include_bytes!("../../testdata/flows/filters.mitm");
    FlowReader::new(&golden[..])
        .filter_map(Result::ok)
        .collect()
});

/// A filter expression: it compiles, or the error is one line whose
/// position is inside the expression (or at its end); what compiles
/// matches every kind of flow without panicking.
pub fn filter_expr(data: &[u8]) {
    let Ok(expression) = std::str::from_utf8(data) else {
        return;
    };
    match crate::filter::Filter::parse(expression) {
        Ok(filter) => {
            for flow in FILTER_FLOWS.iter() {
                let _ = filter.matches(flow);
            }
        }
        Err(e) => {
            assert!(
                e.position() <= expression.chars().count(),
                "position past the end: {e}"
            );
            let line = e.to_string();
            assert!(!line.contains('\n'), "not one line: {line:?}");
        }
    }
}

/// A rewriting option's spec, the option chosen by the first byte: it
/// is refused with one line naming the option, or the addon runs over
/// every flow, live, without panicking. (`@FILE` values and `map_local`
/// are only parsed: a fuzzer must not read the machine's files.)
pub fn rewrite_specs(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(spec) = std::str::from_utf8(rest) else {
        return;
    };
    // An `@FILE` value is read at start-up: not from a fuzzer.
    if matches!(which % 7, 2 | 3) && spec.contains('@') {
        return;
    }
    let mut options = crate::addons::Options::default();
    match which % 7 {
        0 => options.map_remote.push(spec.to_owned()),
        1 => options.map_local.push(spec.to_owned()),
        2 => options.modify_headers.push(spec.to_owned()),
        3 => options.modify_body.push(spec.to_owned()),
        4 => options.stickycookie = Some(spec.to_owned()),
        5 => options.stickyauth = Some(spec.to_owned()),
        _ => options.block_list.push(spec.to_owned()),
    }
    let run = which % 7 != 1;
    let addons = match crate::addons::Addons::new(&options) {
        Ok(addons) => addons,
        Err(e) => {
            let line = e.to_string();
            assert!(
                line.starts_with(e.option()) && !line.contains('\n'),
                "{line:?}"
            );
            return;
        }
    };
    if !run {
        return;
    }
    let mut scripts = crate::script::Scripts::new(std::sync::Arc::new(Quiet));
    scripts.set_addons(addons);
    for flow in FILTER_FLOWS.iter() {
        let mut flow = flow.clone();
        crate::offline::replay_events(&scripts, &mut flow);
        for event in [
            crate::script::Event::RequestHeaders,
            crate::script::Event::Request,
            crate::script::Event::ResponseHeaders,
            crate::script::Event::Response,
        ] {
            scripts.flow_event(event, &mut flow, true);
        }
    }
}

/// A log that keeps nothing.
struct Quiet;

impl crate::script::LogSink for Quiet {
    fn log(&self, _: &str, _: crate::script::Level, _: &str) {}
}

/// The web view's API input: a JSON edit (what the page, or anyone with
/// the token, posts) applied to each flow, and what the view then makes
/// of it: its row, its detail, its curl, HTTPie and raw exports, and the
/// flow written and read back; and the same JSON as a script run's
/// request. A refused edit changes nothing and says why in one line, as a
/// refused request does. Bytes that are not JSON are a query's sort name and
/// filter text.
pub fn web_api(data: &[u8]) {
    let Ok(edit) = serde_json::from_slice::<serde_json::Value>(data) else {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = crate::view::SortKey::parse(text);
            let _ = crate::filter::Filter::parse(text);
        }
        return;
    };
    // A script run's request (`POST /api/runs`).
    if let Err(why) = crate::view::preview::Request::from_json(&edit) {
        assert!(!why.to_string().contains('\n'), "not one line: {why:?}");
    }
    // A rules table (`PUT /api/rules`); an `@FILE` value would be read
    // from the machine, so none is built.
    if !data.contains(&b'@') {
        rules_table(&edit);
    }
    for flow in FILTER_FLOWS.iter() {
        let mut changed = flow.clone();
        if let Err(why) = crate::view::edit::apply(&mut changed, &edit) {
            assert!(changed == *flow, "a refused edit changed the flow");
            assert!(!why.to_string().contains('\n'), "not one line: {why:?}");
        }
        let _ = crate::view::Row::of(&changed, 0, 0);
        let _ = crate::view::json::detail(0, &changed, 0);
        let _ = crate::view::export::curl(&changed);
        let _ = crate::view::export::httpie(&changed);
        let _ = crate::view::export::raw(&changed);
        let mut out = Vec::new();
        crate::flowfile::encode(&changed, &mut out).expect("a flow in memory encodes");
        let back = crate::flowfile::FlowReader::new(&out[..])
            .read_flow()
            .expect("one flow")
            .expect("what the view writes, it reads");
        let mut again = Vec::new();
        crate::flowfile::encode(&back, &mut again).expect("encodes");
        assert_eq!(out, again, "written, read and written again differ");
    }
}

/// A rules table: refused in one line, or each row checked (errors in
/// one line), and the option values it comes to, read back as rows, come
/// to the same values.
fn rules_table(body: &serde_json::Value) {
    use crate::view::rules::Table;
    let table = match Table::from_json(body) {
        Ok(t) => t,
        Err(why) => {
            assert!(!why.to_string().contains('\n'), "not one line: {why:?}");
            return;
        }
    };
    let applied = table.options();
    for why in applied.errors.iter().flatten() {
        assert!(!why.to_string().contains('\n'), "not one line: {why:?}");
    }
    let _ = table.json(&applied);
    let intercept = applied
        .intercept
        .as_ref()
        .map(|f| f.expression().to_owned());
    let again = Table::from_options(&applied.options, intercept.as_deref());
    assert_eq!(
        again.options().values(),
        applied.values(),
        "rows read back from their values differ"
    );
}

/// The view's index reads a flow's row from its bytes without building
/// it (`Row::scan`): on any bytes it never panics, and on a flow of this
/// format that reads cleanly it gives the row of the flow as built.
pub fn flow_rows(data: &[u8]) {
    let scanned = crate::view::Row::scan(data, 0);
    let mut reader = FlowReader::new(data);
    let Some(Ok(flow)) = reader.read_flow() else {
        return;
    };
    // Only flows written in this format (not migrated ones) scan.
    if reader.offset() != data.len() as u64
        || crate::tnetstring::dict_int(data, "version") != Some(Some(crate::flow::FORMAT_VERSION))
    {
        return;
    }
    let built = crate::view::Row::of(&flow, 0, data.len() as u32);
    // Compared as text, so that a NaN time equals itself.
    assert_eq!(
        format!("{scanned:?}"),
        format!("{:?}", Some(built)),
        "a row scanned from the bytes differs from the built flow's"
    );
}

/// The view's Compare over two untrusted bodies: the first byte says
/// where the input splits into left and right. Never panics; a body
/// compared with itself is "same"; a JSON document has no changes
/// against itself, and its changes against another are counted in full
/// and listed up to the bound.
pub fn compare_bodies(data: &[u8]) {
    use crate::view::compare::body;
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let (left, right) = rest.split_at(usize::from(cut) * rest.len() / 256);
    let both = body::compare(Some(left), Some(right));
    assert!(both["kind"].is_string(), "{both}");
    assert_eq!(body::compare(Some(left), Some(left))["kind"], "same");
    if let (Ok(l), Ok(r)) = (
        serde_json::from_slice::<serde_json::Value>(left),
        serde_json::from_slice::<serde_json::Value>(right),
    ) {
        assert_eq!(
            body::json_changes(&l, &l).1,
            0,
            "a document differs from itself"
        );
        let (listed, total) = body::json_changes(&l, &r);
        assert!(listed.len() <= body::MAX_LISTED && listed.len() <= total);
        assert_eq!(
            total == 0,
            l == r,
            "no changes, yet the documents differ (or the other way)"
        );
    }
}

/// Compose's inputs from the page: a pasted curl command (first byte
/// even), raw request text (odd), or a draft's JSON (when the rest is
/// JSON). Never panics; every refusal is one line; raw text that reads
/// writes back to itself as read; a draft that becomes a flow encodes
/// and reads back.
pub fn compose_input(data: &[u8]) {
    use crate::view::compose::Draft;
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let made = if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        Draft::from_json(&json).map_err(|e| e.to_string())
    } else if which % 2 == 0 {
        Draft::from_curl(text).map_err(|e| e.to_string())
    } else {
        let read = Draft::from_raw(text, "http");
        if let Ok(draft) = &read {
            assert_eq!(
                Draft::from_raw(&draft.raw(), "http").as_ref(),
                Ok(draft),
                "raw text read, written and read again differs"
            );
        }
        read.map_err(|e| e.to_string())
    };
    let draft = match made {
        Ok(draft) => draft,
        Err(why) => {
            assert!(!why.to_string().contains('\n'), "not one line: {why:?}");
            return;
        }
    };
    assert_eq!(Draft::from_json(&draft.json()).as_ref(), Ok(&draft));
    match draft.to_flow(None) {
        Ok(flow) => {
            let mut out = Vec::new();
            crate::flowfile::encode(&flow, &mut out).expect("a flow in memory encodes");
            crate::flowfile::FlowReader::new(&out[..])
                .read_flow()
                .expect("one flow")
                .expect("a composed flow reads back");
        }
        Err(why) => assert!(!why.to_string().contains('\n'), "not one line: {why:?}"),
    }
}
