//! The example over the sample flows, snapshotted.

use internet_in_mirror::Mirror;
use waylay_proxy::testing::run_file;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/filters.mitm"
);

#[test]
fn over_the_sample_flows() {
    let run = run_file::<Mirror>(SAMPLE);
    insta::assert_snapshot!(run.render());
}
