//! websocket-simple over the saved WebSocket flow, and over one made up
//! from it whose messages start with Hello and say FOOBAR.

use waylay_proxy::flowfile::FlowWriter;
use waylay_proxy::testing::{read_flows, run_file};
use websocket_simple::WebSocketSimple;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/websocket.mitm"
);

#[test]
fn logs_each_message_of_the_sample() {
    let run = run_file::<WebSocketSimple>(SAMPLE);
    insta::assert_snapshot!(run.render());
}

/// The saved WebSocket flow with a few more messages.
fn hello() -> String {
    let mut flow = read_flows(SAMPLE).remove(0);
    let lines: [(bool, bool, &'static [u8]); 4] = [
        (true, true, b"Hello there"),
        (true, false, b"Hello, FOOBAR"),
        (false, true, b"say Hello"),
        (false, false, b"it's \x00\xff"),
    ];
    for (i, (text, from_client, bytes)) in lines.into_iter().enumerate() {
        flow.push_websocket_message(text, from_client, bytes, 1795477244.0 + i as f64);
    }
    let path = format!("{}/hello.mitm", env!("CARGO_TARGET_TMPDIR"));
    let mut writer = FlowWriter::new(std::fs::File::create(&path).unwrap());
    writer.write_flow(&flow).unwrap();
    writer.flush().unwrap();
    path
}

#[test]
fn rewrites_hello_and_drops_foobar() {
    let run = run_file::<WebSocketSimple>(hello());
    insta::assert_snapshot!(run.render());
}
