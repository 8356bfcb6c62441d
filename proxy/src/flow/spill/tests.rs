//! Spilling a stream's older messages: what is written, read back and
//! changed is what the flow would hold had nothing moved.

use bytes::Bytes;

use super::*;
use crate::flow::tcp;
use crate::flowfile::FlowWriter;
use crate::test_support::golden;

fn golden_flow(name: &str) -> Flow {
    let value = tnetstring::parse(&golden(name).into()).unwrap();
    Flow::from_value(value).unwrap()
}

/// The websocket golden flow with `n` more messages, of growing sizes.
fn long_websocket(n: usize) -> Flow {
    let mut flow = golden_flow("websocket.mitm");
    for i in 0..n {
        let content = format!("message {i} {}", "x".repeat(i % 50));
        flow.push_websocket_message(i % 3 == 0, i % 2 == 0, content, 1e9 + i as f64)
            .unwrap();
    }
    flow
}

fn long_tcp(n: usize) -> Flow {
    let mut flow = golden_flow("tcp.mitm");
    for i in 0..n {
        flow.push_tcp_message(i % 2 == 0, format!("chunk {i}"), 1e9 + i as f64)
            .unwrap();
    }
    flow
}

fn written(flow: &Flow) -> Vec<u8> {
    let mut w = FlowWriter::new(Vec::new());
    w.write_flow(flow).unwrap();
    w.finish().unwrap()
}

fn all_messages(flow: &Flow) -> Vec<Value> {
    let mut all = Vec::new();
    flow.for_each_stream_message(|m| all.push(m.clone()))
        .unwrap();
    all
}

#[test]
fn a_spilled_flow_is_written_as_the_whole_flow() {
    for (flow, total) in [(long_websocket(1000), 1004), (long_tcp(1000), 1004)] {
        let whole = written(&flow);
        let before = all_messages(&flow);
        let mut spilled = flow.clone();
        let done = spilled.spill_oldest(2000).unwrap();
        assert!(done.moved > 500, "{done:?}");
        assert!(done.kept_bytes <= 2000);
        assert_eq!(spilled.spilled_count(), done.moved);
        assert_eq!(written(&spilled), whole);
        assert_eq!(all_messages(&spilled), before);
        assert_eq!(before.len(), total);
        // Spilling again appends; what is written stays the same.
        let again = spilled.spill_oldest(0).unwrap();
        assert_eq!(spilled.spilled_count(), total);
        assert_eq!(again.kept_bytes, 0);
        assert_eq!(written(&spilled), whole);
        assert_eq!(all_messages(&spilled), before);
    }
}

#[test]
fn spilled_messages_are_read_back_by_index() {
    let flow = long_websocket(700);
    let mut spilled = flow.clone();
    spilled.spill_oldest(100).unwrap();
    let spill = spilled.spill().unwrap();
    let list = flow.websocket_messages().unwrap();
    for i in [0, 1, 255, 256, 257, 511, 512, 600, spill.count() - 1] {
        assert_eq!(spill.get(i).unwrap(), list[i], "message {i}");
    }
    let err = spill.get(spill.count()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
}

#[test]
fn a_changed_spilled_message_is_written_in_its_place() {
    let mut flow = long_websocket(600);
    let mut spilled = flow.clone();
    spilled.spill_oldest(0).unwrap();
    for (i, content) in [
        (3, "short"),
        (300, "a much longer content than before it was"),
    ] {
        let mut changed = flow.websocket_messages().unwrap()[i].clone();
        crate::flow::websocket::set_content(&mut changed, content.as_bytes());
        let before = spilled
            .spill_mut()
            .unwrap()
            .set(i, changed.clone())
            .unwrap();
        assert_eq!(before, flow.websocket_messages().unwrap()[i]);
        flow.websocket_messages_mut().unwrap()[i] = changed;
    }
    assert_eq!(written(&spilled), written(&flow));
    assert_eq!(all_messages(&spilled), all_messages(&flow));
    assert_eq!(
        spilled.spill().unwrap().get(300).unwrap(),
        flow.websocket_messages().unwrap()[300]
    );
}

#[test]
fn a_copy_keeps_what_it_had_while_the_flow_spills_on() {
    let mut flow = long_tcp(300);
    flow.spill_oldest(500).unwrap();
    let copy = flow.clone();
    let copy_written = written(&copy);
    let copy_messages = all_messages(&copy);
    for i in 0..300 {
        flow.push_tcp_message(true, format!("later {i}"), 2e9)
            .unwrap();
    }
    flow.spill_oldest(0).unwrap();
    assert_eq!(written(&copy), copy_written);
    assert_eq!(all_messages(&copy), copy_messages);
    // Only the flow that made the file adds to it.
    let mut copy = copy;
    copy.push_tcp_message(true, "from the copy", 3e9).unwrap();
    let err = copy.spill_oldest(0).unwrap_err();
    assert!(
        err.to_string().contains("cannot add to its spill file"),
        "{err}"
    );
    // What it could not move stays in memory and is written.
    let mut expected = copy_messages;
    expected.push(tcp::message(
        true,
        Bytes::from_static(b"from the copy"),
        3e9,
    ));
    assert_eq!(all_messages(&copy), expected);
    let reread = tnetstring::parse(&Bytes::from(written(&copy))).unwrap();
    let reread = Flow::from_value(reread).unwrap();
    assert_eq!(reread.tcp_messages().unwrap(), &expected[..]);
}

#[test]
fn a_flow_without_a_stream_has_nothing_to_spill() {
    let mut flow = golden_flow("get.mitm");
    assert_eq!(flow.spill_oldest(0).unwrap(), Spilled::default());
    assert!(flow.spill().is_none());
}

#[test]
fn a_spill_larger_than_a_write_chunk_reads_back_whole() {
    let mut flow = golden_flow("websocket.mitm");
    for i in 0..700 {
        let content = vec![b'a' + (i % 26) as u8; 1500 + i];
        flow.push_websocket_message(false, i % 2 == 0, content, 1e9 + i as f64)
            .unwrap();
    }
    let whole = written(&flow);
    let mut spilled = flow.clone();
    spilled.spill_oldest(10_000).unwrap();
    assert!(spilled.spilled_count() > 690);
    assert_eq!(written(&spilled), whole);
    let spill = spilled.spill().unwrap();
    for i in [0, 255, 256, 511, 512, 690] {
        assert_eq!(spill.get(i).unwrap(), flow.websocket_messages().unwrap()[i]);
    }
}

/// A destination that takes `.0` bytes, then fails.
struct FillsUp(usize, Vec<u8>);

impl std::io::Write for FillsUp {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if self.1.len() + b.len() > self.0 {
            return Err(io::Error::other("no space left"));
        }
        self.1.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_spilled_flow_cut_short_stops_the_capture_there() {
    let mut flow = long_websocket(0);
    for i in 0..400 {
        flow.push_websocket_message(false, true, vec![b'x'; 4000], f64::from(i))
            .unwrap();
    }
    flow.spill_oldest(0).unwrap();
    let mut w = FlowWriter::new(FillsUp(600_000, Vec::new()));
    let err = w.write_flow(&flow).unwrap_err();
    assert_eq!(err.to_string(), "no space left");
    let next = golden_flow("get.mitm");
    let err = w.write_flow(&next).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "the capture stops at flow {}, which could not be written whole",
            flow.id()
        )),
        "{err}"
    );
}

#[test]
fn filters_read_spilled_messages_too() {
    let mut flow = long_websocket(0);
    flow.push_websocket_message(true, true, "the needle, early", 1.0)
        .unwrap();
    for i in 0..300 {
        flow.push_websocket_message(true, false, format!("hay {i}"), 2.0)
            .unwrap();
    }
    flow.spill_oldest(0).unwrap();
    assert!(flow.websocket_messages().unwrap().is_empty());
    let matches = |expr: &str| crate::filter::Filter::parse(expr).unwrap().matches(&flow);
    assert!(matches("~b needle"));
    assert!(matches("~bq needle"));
    assert!(!matches("~bs needle"));
    assert!(!matches("~b haystack"));
    let mut tcp = long_tcp(50);
    tcp.spill_oldest(0).unwrap();
    let matches = |expr: &str| crate::filter::Filter::parse(expr).unwrap().matches(&tcp);
    assert!(matches("~b 'chunk 7'"));
}
