//! A long-lived TCP flow through the live proxy, with a real client and
//! origin on loopback: its older messages leave memory
//! (`stream_messages_memory`) and still reach the capture and scripts.
//! The WebSocket case is in `websocket.rs`, beside its helpers.

use crate::modes::tcp_messages;
use crate::support::{Proxy, flows, path_in, scratch};
use crate::tcp_origin::{TcpOrigin, exchange, tunnel};

const RECORDER: &str = "runner/tests/fixtures/recorder";

/// A long TCP flow keeps only its newest messages in memory; the capture
/// still holds every one, and a script reads and changes the first.
#[test]
fn a_long_tcp_flow_spills_its_older_messages_and_still_writes_them_all() {
    let echo = TcpOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "long-tcp.mitm");
    let proxy = Proxy::start(&[
        "-s",
        RECORDER,
        "--set",
        "stream_messages_memory=2k",
        "--set",
        "recorder_rewrite_first=first, rewritten",
        "-w",
        &file,
    ]);
    let mut client = tunnel(&proxy.addr, echo.addr);
    let sent: Vec<String> = (0..100).map(|i| format!("chunk {i:03}")).collect();
    for chunk in &sent {
        assert_eq!(
            exchange(&mut client, chunk.as_bytes()),
            format!("ECHO {chunk}")
        );
    }
    drop(client);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    let mut expected: Vec<(bool, String)> = sent
        .iter()
        .flat_map(|c| [(true, c.clone()), (false, format!("ECHO {c}"))])
        .collect();
    expected[0].1 = "first, rewritten".into();
    assert_eq!(tcp_messages(&saved[0]), expected);
    assert!(
        stopped
            .stdout
            .contains("first message \"chunk 000\", now \"first, rewritten\""),
        "{}",
        stopped.stdout
    );
    assert!(
        stopped.stdout.contains("tcp_end 200 messages"),
        "{}",
        stopped.stdout
    );
}
