//! The example over the sample flows, snapshotted.

use options_configure::AddHeader;
use waylay_proxy::testing::run_file;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/filters.mitm"
);

#[test]
fn over_the_sample_flows() {
    let run = run_file::<AddHeader>(SAMPLE);
    insta::assert_snapshot!(run.render());
}
