//! The rewriter over the saved WebSocket and over a chat made up from it.

use waylay_proxy::flowfile::FlowWriter;
use waylay_proxy::testing::{read_flows, run_file, run_file_with_args};
use websocket_rewrite::ChatRewrite;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/websocket.mitm"
);

#[test]
fn rewrites_the_servers_text_and_cannot_greet_offline() {
    let run = run_file::<ChatRewrite>(SAMPLE);
    insta::assert_snapshot!(run.render());
}

/// The saved WebSocket with a few more chat lines, some of them spam.
fn chat() -> String {
    let mut flow = read_flows(SAMPLE).remove(0);
    let lines: [(bool, &'static str); 3] = [
        (true, "any spam today?"),
        (false, "SPAM: cheap pills"),
        (false, "hello again"),
    ];
    for (i, (from_client, text)) in lines.into_iter().enumerate() {
        let at = 1795477239.0 + i as f64;
        flow.push_websocket_message(true, from_client, text, at);
    }
    let path = format!("{}/chat.mitm", env!("CARGO_TARGET_TMPDIR"));
    let mut writer = FlowWriter::new(std::fs::File::create(&path).unwrap());
    writer.write_flow(&flow).unwrap();
    writer.flush().unwrap();
    path
}

#[test]
fn drops_spam_either_way_and_takes_its_words_from_argv() {
    let run = run_file_with_args::<ChatRewrite>(chat(), &["again", "once more"]);
    let rendered = run.render();
    let websocket: Vec<&str> = rendered
        .lines()
        .skip_while(|l| !l.starts_with("websocket:"))
        .collect();
    insta::assert_snapshot!(websocket.join("\n"));
}
