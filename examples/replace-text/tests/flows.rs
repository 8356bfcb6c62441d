//! The script over saved flows, with and without its arguments.

use replace_text::ReplaceText;
use waylay_proxy::testing::{run_file, run_file_with_args};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/flows/all.mitm");

#[test]
fn replaces_text_in_text_responses() {
    let run = run_file_with_args::<ReplaceText>(SAMPLE, &["hello", "howdy"]);
    insta::assert_snapshot!(run.render());
}

#[test]
fn without_arguments_it_warns_and_changes_nothing() {
    let run = run_file::<ReplaceText>(SAMPLE);
    assert_eq!(
        run.log,
        ["warn: usage: -s \"replace-text FROM TO\"; replacing nothing"]
    );
    assert_eq!(run.flows, waylay_proxy::testing::read_flows(SAMPLE));
}
