//! The view's model over golden flows: rows, the session file, windows,
//! filters, sorting, the detail JSON.

use crate::filter::Filter;
use crate::flowfile::FlowReader;
use crate::http::Which;
use crate::test_support::golden;

use super::*;

/// A session holding `files`' flows, in order.
fn session(files: &[&str]) -> Session {
    let session = Session::temporary().unwrap();
    for name in files {
        for flow in FlowReader::new(&golden(name)[..]) {
            session.append(&flow.unwrap()).unwrap();
        }
    }
    session
}

fn query(filter: Option<&str>, sort: SortKey, descending: bool) -> Query {
    Query {
        filter: filter.map(|f| Filter::parse(f).unwrap()),
        sort,
        descending,
    }
}

fn urls(window: &Window) -> Vec<String> {
    window
        .rows
        .iter()
        .map(|(_, r, _)| r.url.to_string())
        .collect()
}

#[test]
fn rows_hold_what_the_list_shows() {
    let s = session(&["all.mitm", "websocket.mitm", "tcp.mitm"]);
    assert_eq!(s.len(), 7);
    let get = s.row(0).unwrap();
    assert_eq!(&*get.method, "GET");
    assert_eq!(&*get.url, "http://127.0.0.1:18081/hello?x=1");
    assert_eq!(get.host(), "127.0.0.1:18081");
    assert_eq!((get.status, get.size, &*get.kind), (200, 24, "http"));
    assert!((get.duration.unwrap() - 0.0102).abs() < 0.001, "{get:?}");
    let refused = s.row(3).unwrap();
    assert_eq!(refused.status, 0);
    assert_ne!(refused.flags & row::ERROR, 0);
    assert_ne!(s.row(4).unwrap().flags & row::TLS, 0);
    assert_eq!(&*s.row(5).unwrap().kind, "websocket");
    let tcp = s.row(6).unwrap();
    assert_eq!(&*tcp.kind, "tcp");
    assert!(tcp.size > 0, "{tcp:?}");
}

#[test]
fn the_file_holds_the_flows_as_read() {
    let s = session(&["all.mitm", "websocket.mitm"]);
    let mut out = Vec::new();
    s.export(None, &mut out).unwrap();
    let mut want = golden("all.mitm");
    want.extend(golden("websocket.mitm"));
    assert_eq!(out, want);
    let mut one = Vec::new();
    s.export(Some(&[1]), &mut one).unwrap();
    assert_eq!(
        s.flow(1)
            .unwrap()
            .request()
            .unwrap()
            .get("method")
            .unwrap()
            .as_bytes(),
        Some(&b"POST"[..])
    );
    assert!(matches!(s.flow(99), Err(ReadBack::NoSuchFlow(99))));
}

#[test]
fn windows_filter_sort_and_highlight() {
    let s = session(&["all.mitm"]);
    let all = s
        .window(&query(None, SortKey::Time, false), None, 0, 100)
        .unwrap()
        .unwrap();
    assert_eq!((all.total, all.matched, all.rows.len()), (5, 5, 5));
    let by_status = s
        .window(&query(None, SortKey::Status, true), None, 0, 2)
        .unwrap()
        .unwrap();
    let statuses: Vec<u16> = by_status.rows.iter().map(|(_, r, _)| r.status).collect();
    assert_eq!(statuses, [404, 201]);
    let page_two = s
        .window(&query(None, SortKey::Status, true), None, 2, 2)
        .unwrap()
        .unwrap();
    assert_eq!(page_two.start, 2);
    assert_eq!(page_two.rows.len(), 2);
    let gets = s
        .window(&query(Some("~m GET"), SortKey::Time, false), None, 0, 100)
        .unwrap()
        .unwrap();
    assert_eq!((gets.total, gets.matched), (5, 4));
    let body = s
        .window(
            &query(Some("~bs \"hello from\""), SortKey::Time, false),
            None,
            0,
            100,
        )
        .unwrap()
        .unwrap();
    assert_eq!(body.matched, 2, "{:?}", urls(&body));
    let lit = Filter::parse("~c 404").unwrap();
    let shown = s
        .window(&query(None, SortKey::Time, false), Some(&lit), 0, 100)
        .unwrap()
        .unwrap();
    let highlighted: Vec<bool> = shown.rows.iter().map(|(_, _, h)| *h).collect();
    assert_eq!(highlighted, [false, false, true, false, false]);
    // Past the end: no rows, counts still right.
    let past = s
        .window(&query(None, SortKey::Time, false), None, 50, 10)
        .unwrap()
        .unwrap();
    assert_eq!((past.start, past.rows.len(), past.matched), (5, 0, 5));
}

#[test]
fn an_order_takes_in_flows_as_they_arrive() {
    let s = session(&["all.mitm"]);
    let q = query(Some("~m GET"), SortKey::Status, false);
    assert_eq!(s.window(&q, None, 0, 100).unwrap().unwrap().matched, 4);
    for flow in FlowReader::new(&golden("all.mitm")[..]) {
        s.append(&flow.unwrap()).unwrap();
    }
    let w = s.window(&q, None, 0, 100).unwrap().unwrap();
    assert_eq!((w.total, w.matched), (10, 8));
    let statuses: Vec<u16> = w.rows.iter().map(|(_, r, _)| r.status).collect();
    assert_eq!(statuses, [0, 0, 200, 200, 200, 200, 404, 404]);
    // Ties keep arrival order.
    let ns: Vec<usize> = w.rows.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(ns, [3, 8, 0, 4, 5, 9, 2, 7]);
}

#[test]
fn a_long_session_reads_back_every_flow() {
    // Over 8 MiB of flows: the write-behind buffer is written out many
    // times while flows are appended.
    let s = Session::temporary().unwrap();
    let golden_all = golden("all.mitm");
    let mut want = Vec::new();
    while want.len() < 9 << 20 {
        for flow in FlowReader::new(&golden_all[..]) {
            s.append(&flow.unwrap()).unwrap();
        }
        want.extend_from_slice(&golden_all);
    }
    let mut out = Vec::new();
    s.export(None, &mut out).unwrap();
    assert!(
        out == want,
        "the session file differs from what was appended"
    );
    // Flows at the start (long written) and at the end open whole.
    let flows: Vec<_> = FlowReader::new(&golden_all[..])
        .map(Result::unwrap)
        .collect();
    assert_eq!(s.flow(0).unwrap().id(), flows[0].id());
    let last = s.flow(s.len() - 1).unwrap();
    assert_eq!(last.id(), flows[flows.len() - 1].id());
}

#[test]
fn an_order_caught_up_in_steps_is_the_order_built_at_once() {
    let flows: Vec<_> = FlowReader::new(&golden("all.mitm")[..])
        .map(Result::unwrap)
        .collect();
    let sorts = [
        SortKey::Time,
        SortKey::Method,
        SortKey::Url,
        SortKey::Status,
        SortKey::Type,
        SortKey::Size,
        SortKey::Duration,
    ];
    for sort in sorts {
        for descending in [false, true] {
            let q = query(None, sort, descending);
            let stepped = Session::temporary().unwrap();
            let whole = Session::temporary().unwrap();
            // Each step adds the flows in another order, so that new
            // ones land before, among and after the ones kept.
            for step in 0..flows.len() {
                for i in 0..flows.len() {
                    let flow = &flows[(i * (step + 1) + step) % flows.len()];
                    stepped.append(flow).unwrap();
                    whole.append(flow).unwrap();
                }
                stepped.window(&q, None, 0, 1).unwrap().unwrap();
            }
            let ns = |s: &Session| -> Vec<usize> {
                let w = s.window(&q, None, 0, 1000).unwrap().unwrap();
                w.rows.iter().map(|(n, _, _)| *n).collect()
            };
            assert_eq!(ns(&stepped), ns(&whole), "{sort:?} descending {descending}");
        }
    }
}

#[test]
fn a_cancelled_filter_stops_and_the_next_query_rebuilds() {
    let s = session(&["all.mitm"]);
    let q = query(Some("~b hello"), SortKey::Time, false);
    s.progress
        .cancel
        .store(true, std::sync::atomic::Ordering::SeqCst);
    // The flag is cleared as a new filter starts; this one runs through.
    assert_eq!(s.window(&q, None, 0, 10).unwrap().unwrap().matched, 2);
    assert_eq!(
        s.progress.total.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn the_detail_and_bodies() {
    let s = session(&["all.mitm", "websocket.mitm"]);
    let flow = s.flow(1).unwrap();
    let detail = json::detail(1, &flow, 0);
    assert_eq!(detail["request"]["method"], "POST");
    assert_eq!(detail["response"]["status_code"], 201);
    assert!(
        detail["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == "Host")
    );
    assert_eq!(detail["client_conn"]["peername"][0], "127.0.0.1");
    let (part, len) = json::body(&flow, Which::Response, true, 0, 4).unwrap();
    assert_eq!(len, 16);
    assert_eq!(part.len(), 4);
    let https = json::detail(4, &s.flow(4).unwrap(), 0);
    assert!(!https["server_conn"]["tls_version"].is_null(), "{https}");
    let ws = json::detail(5, &s.flow(5).unwrap(), 0);
    assert!(
        ws["websocket"]["messages"]["total"].as_u64().unwrap() > 0,
        "{ws}"
    );
    let row = json::row(5, &s.row(5).unwrap(), false);
    assert_eq!(row["type"], "websocket");
}

#[test]
fn a_row_scanned_from_the_bytes_is_the_row_of_the_parsed_flow() {
    let files = [
        "all.mitm",
        "accessors.mitm",
        "filters.mitm",
        "gallery.mitm",
        "websocket.mitm",
        "tcp.mitm",
        "https.mitm",
        "refused.mitm",
        "sticky.mitm",
    ];
    let mut seen = 0;
    for name in files {
        let bytes = golden(name);
        let mut reader = FlowReader::new(&bytes[..]);
        loop {
            let start = reader.offset();
            let Some(flow) = reader.read_flow() else {
                break;
            };
            let mut flow = flow.unwrap();
            let item = &bytes[start as usize..reader.offset() as usize];
            let scanned = Row::scan(item, 7).expect("a format-21 flow scans");
            assert_eq!(
                scanned,
                Row::of(&flow, 7, item.len() as u32),
                "{name} at {start}"
            );
            // And once more with the flags the view sets.
            edit::apply(
                &mut flow,
                &serde_json::json!({"marked": ":red:", "comment": "c"}),
            )
            .unwrap();
            flow.dict_mut()
                .insert("is_replay", crate::tnetstring::Value::text("request"));
            flow.dict_mut()
                .insert("intercepted", crate::tnetstring::Value::Bool(true));
            let mut again = Vec::new();
            crate::flowfile::encode(&flow, &mut again).unwrap();
            assert_eq!(
                Row::scan(&again, 0),
                Some(Row::of(&flow, 0, again.len() as u32)),
                "{name} at {start}, edited"
            );
            seen += 1;
        }
    }
    assert!(seen > 40, "only {seen} flows");
}

#[test]
fn a_row_is_not_scanned_from_what_is_not_a_current_flow() {
    assert_eq!(Row::scan(b"", 0), None);
    assert_eq!(Row::scan(b"5:hello,", 0), None);
    assert_eq!(Row::scan(b"15:7:version;2:20#}", 0), None);
    assert_eq!(Row::scan(b"99:7:version#", 0), None);
}

#[test]
fn a_damaged_flow_in_a_capture_is_listed_matches_no_filter_and_says_why_when_opened() {
    let mut bytes = golden("all.mitm");
    let at = bytes
        .windows(6)
        .position(|w| w == b"3:200#")
        .expect("a status 200");
    bytes[at + 3] = b'x';
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    std::io::Seek::rewind(&mut file).unwrap();
    let session = Session::over(file.try_clone().unwrap()).unwrap();
    let mut reader = FlowReader::new(std::io::BufReader::new(file));
    let indexed = session.index_base(&mut reader, |_| {});
    assert!(matches!(indexed, Ok(5)), "{indexed:?}");
    let damaged = (0..5)
        .find(|&n| session.flow(n).is_err())
        .expect("one flow is damaged");
    let why = session.flow(damaged).unwrap_err().to_string();
    assert!(
        why.starts_with("this flow is damaged in the file (byte ")
            && why.ends_with("; the other flows can still be read"),
        "{why}"
    );
    let everything = session
        .window(&query(Some("~b ."), SortKey::Time, false), None, 0, 10)
        .unwrap()
        .unwrap();
    assert!(everything.rows.iter().all(|(n, _, _)| *n != damaged));
    let lit = session
        .window(
            &query(None, SortKey::Time, false),
            Some(&Filter::parse("~c 200").unwrap()),
            0,
            10,
        )
        .unwrap()
        .unwrap();
    assert!(!lit.rows[damaged].2, "a damaged flow is not highlighted");
}

/// Reading a flow's row builds none of its records: a connection kept in
/// its file form (as a live connection's is, for as long as it lives)
/// stays that way. The TLS flag comes from the client record's `tls`
/// (format 21's name), not only from an `https` URL.
#[test]
fn a_row_is_read_without_building_records_and_sees_client_tls() {
    let record = |flow: &crate::Flow, key: &str| {
        flow.dict()
            .get(key)
            .and_then(crate::tnetstring::Value::as_dict)
            .and_then(|d| d.unbuilt().cloned())
    };
    let bytes = golden("get.mitm");
    let flow = FlowReader::new(&bytes[..]).next().unwrap().unwrap();
    assert!(record(&flow, "client_conn").is_some(), "read lazily");
    let row = Row::of(&flow, 0, 0);
    assert_eq!(row.flags & row::TLS, 0, "{row:?}");
    for key in ["client_conn", "server_conn"] {
        assert!(
            record(&flow, key).is_some(),
            "{key} was built to read a row"
        );
    }
    // The same flow with TLS on the client side, its URL still http.
    let mut tls = flow.clone();
    let client = tls
        .dict_mut()
        .get_mut("client_conn")
        .and_then(crate::tnetstring::Value::as_dict_mut)
        .unwrap();
    client.insert("tls", crate::tnetstring::Value::Bool(true));
    let row = Row::of(&tls, 0, 0);
    assert_ne!(row.flags & row::TLS, 0, "{row:?}");
    assert!(row.url.starts_with("http://"), "{row:?}");
}

#[test]
fn a_request_without_a_start_takes_the_clients() {
    use crate::tnetstring::Value;
    let bytes = golden("get.mitm");
    let flow = FlowReader::new(&bytes[..]).next().unwrap().unwrap();
    let client_start = flow
        .dict()
        .get("client_conn")
        .and_then(Value::as_dict)
        .and_then(|c| c.get("timestamp_start"))
        .and_then(Value::as_float)
        .unwrap();
    for start in [Value::Null, Value::text("soon")] {
        let mut f = flow.clone();
        f.message_mut(Which::Request)
            .unwrap()
            .insert("timestamp_start", start.clone());
        let row = Row::of(&f, 0, 0);
        assert_eq!(row.time, client_start, "request start {start:?}");
        let mut encoded = Vec::new();
        crate::flowfile::encode(&f, &mut encoded).unwrap();
        let scanned = Row::scan(&encoded, 0).unwrap();
        assert_eq!(
            scanned.time, client_start,
            "scanned, request start {start:?}"
        );
    }
}

#[test]
fn a_row_keeps_methods_and_types_it_does_not_know() {
    use crate::tnetstring::Value;
    let bytes = golden("get.mitm");
    let mut flow = FlowReader::new(&bytes[..]).next().unwrap().unwrap();
    flow.message_mut(Which::Request)
        .unwrap()
        .insert("method", Value::bytes(b"PROPFIND"));
    let row = Row::of(&flow, 0, 0);
    assert_eq!((&*row.method, &*row.kind), ("PROPFIND", "http"));
    assert!(matches!(row.method, std::borrow::Cow::Owned(_)), "{row:?}");
    flow.dict_mut().insert("type", Value::text("quic"));
    let row = Row::of(&flow, 0, 0);
    assert_eq!((&*row.method, &*row.kind), ("", "quic"));
    let get = Row::of(&FlowReader::new(&bytes[..]).next().unwrap().unwrap(), 0, 0);
    assert!(
        matches!(get.method, std::borrow::Cow::Borrowed("GET")),
        "{get:?}"
    );
}
