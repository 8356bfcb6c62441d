//! modify-response-body over the sample flows, with its usage line's
//! words and with words the flows hold.

use modify_response_body::ModifyResponseBody;
use waylay_proxy::testing::{run_file, run_file_with_args};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/filters.mitm"
);

#[test]
fn over_the_sample_flows() {
    let run = run_file::<ModifyResponseBody>(SAMPLE);
    insta::assert_snapshot!(run.render());
}

#[test]
fn with_words_from_argv() {
    let run = run_file_with_args::<ModifyResponseBody>(SAMPLE, &["message", "bananas"]);
    insta::assert_snapshot!(run.render());
}
