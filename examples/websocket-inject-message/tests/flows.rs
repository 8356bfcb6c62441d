//! websocket-inject-message over the saved WebSocket flow with secrets
//! added: offline, the secrets are dropped and the injection is refused.

use waylay_proxy::flowfile::FlowWriter;
use waylay_proxy::testing::{read_flows, run_file};
use websocket_inject_message::InjectMessage;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/websocket.mitm"
);

/// The saved WebSocket flow with a few more messages.
fn secrets() -> String {
    let mut flow = read_flows(SAMPLE).remove(0);
    let lines: [(bool, bool, &'static [u8]); 3] = [
        (true, true, b"my secret is 42"),
        (true, false, b"the secret is out"),
        (false, true, b"binary secret"),
    ];
    for (i, (text, from_client, bytes)) in lines.into_iter().enumerate() {
        flow.push_websocket_message(text, from_client, bytes, 1795477244.0 + i as f64);
    }
    let path = format!("{}/secrets.mitm", env!("CARGO_TARGET_TMPDIR"));
    let mut writer = FlowWriter::new(std::fs::File::create(&path).unwrap());
    writer.write_flow(&flow).unwrap();
    writer.flush().unwrap();
    path
}

#[test]
fn drops_text_secrets_and_cannot_inject_offline() {
    let run = run_file::<InjectMessage>(secrets());
    insta::assert_snapshot!(run.render());
}
