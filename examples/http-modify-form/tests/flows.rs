//! The example over the sample flows, snapshotted.

use http_modify_form::ModifyForm;
use waylay_proxy::testing::run_file;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/filters.mitm"
);

#[test]
fn over_the_sample_flows() {
    let run = run_file::<ModifyForm>(SAMPLE);
    insta::assert_snapshot!(run.render());
}
