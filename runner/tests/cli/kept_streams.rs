//! Whether a live TCP flow keeps its messages (`live::keep`): relayed
//! and only counted when nothing can read them, kept whole for whatever
//! can. The WebSocket case is in `websocket.rs`, beside its helpers.

use crate::modes::tcp_messages;
use crate::support::{Proxy, flows, path_in, scratch};
use crate::tcp_origin::{TcpOrigin, exchange, tunnel};

/// Two TCP flows through `proxy` to the echo origin, one after the other,
/// three messages each (`tail` after each message's text), every echo
/// checked; then a moment for the proxy to end each flow.
fn two_flows(proxy: &Proxy, echo: &TcpOrigin, tail: &str) {
    for flow in 0..2 {
        let mut client = tunnel(&proxy.addr, echo.addr);
        for i in 0..3 {
            let said = format!("flow {flow} message {i}{tail}");
            assert_eq!(
                exchange(&mut client, said.as_bytes()),
                format!("ECHO {said}")
            );
        }
        drop(client);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// With nothing to read a TCP flow's messages (no capture file, no view,
/// no script hooked on them), each is sent straight on and only counted:
/// both sides still get every byte, and the flow line still says how many
/// messages there were. The first flow keeps its messages (the proxy
/// learns that `tcp_end` is not hooked when it first calls it); the
/// second is relayed without keeping them.
#[test]
fn a_tcp_flow_nothing_reads_is_relayed_and_counted() {
    let echo = TcpOrigin::start(false);
    let proxy = Proxy::start(&["-s", "examples/add_header"]);
    two_flows(&proxy, &echo, "\x00\x01");
    let stopped = proxy.stop();
    let line = format!("tcp flow to {}, 6 messages", echo.addr);
    assert_eq!(
        stopped.stdout.matches(&line).count(),
        2,
        "{}",
        stopped.stdout
    );
}

/// A save filter moves the capture file behind flow output, which then
/// reads every message: the second flow, which the proxy would otherwise
/// relay without keeping, is written whole too.
#[test]
fn a_save_filter_keeps_every_tcp_message() {
    let echo = TcpOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "tcp.mitm");
    let proxy = Proxy::start(&[
        "-s",
        "examples/add_header",
        "--set",
        "save_stream_filter=~tcp",
        "-w",
        &file,
    ]);
    two_flows(&proxy, &echo, "");
    proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 2);
    for flow in &saved {
        assert_eq!(tcp_messages(flow).len(), 6, "{}", flow.id());
    }
}
