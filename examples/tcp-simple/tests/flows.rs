//! tcp-simple over the saved TCP flow, and over one made up from it that
//! says foo.

use tcp_simple::TcpSimple;
use waylay_proxy::flowfile::FlowWriter;
use waylay_proxy::testing::{read_flows, run_file, run_file_with_args};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/flows/tcp.mitm");

#[test]
fn replaces_the_words_from_argv_in_both_directions() {
    let run = run_file_with_args::<TcpSimple>(SAMPLE, &["ping", "pong"]);
    insta::assert_snapshot!(run.render());
}

/// The saved TCP flow with a few more messages that say foo.
fn foo() -> String {
    let mut flow = read_flows(SAMPLE).remove(0);
    let lines: [(bool, &'static [u8]); 3] = [
        (true, b"foo?\n"),
        (false, b"ECHO foo?\n"),
        (true, b"\x00food\xff\n"),
    ];
    for (i, (from_client, bytes)) in lines.into_iter().enumerate() {
        flow.push_tcp_message(from_client, bytes, 1795477244.0 + i as f64);
    }
    let path = format!("{}/foo.mitm", env!("CARGO_TARGET_TMPDIR"));
    let mut writer = FlowWriter::new(std::fs::File::create(&path).unwrap());
    writer.write_flow(&flow).unwrap();
    writer.flush().unwrap();
    path
}

#[test]
fn replaces_foo_with_bar_by_default() {
    let run = run_file::<TcpSimple>(foo());
    insta::assert_snapshot!(run.render());
}
