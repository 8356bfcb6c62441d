//! The example over the gallery's sample flows, snapshotted.

use http_reply_from_proxy::ReplyFromProxy;
use waylay_proxy::testing::run_file;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/gallery.mitm"
);

#[test]
fn over_the_sample_flows() {
    let run = run_file::<ReplyFromProxy>(SAMPLE);
    insta::assert_snapshot!(run.render());
}
