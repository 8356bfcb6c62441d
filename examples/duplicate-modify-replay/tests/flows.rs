//! The copies and replays the script asks for, over the sample flows: the
//! harness keeps them (it never reaches for the network).

use duplicate_modify_replay::DuplicateModifyReplay;
use waylay_proxy::testing::{read_flows, run_file};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/flows/all.mitm");

#[test]
fn copies_and_replays_every_request_at_changed() {
    let run = run_file::<DuplicateModifyReplay>(SAMPLE);
    insta::assert_snapshot!(run.render());
}

#[test]
fn the_flows_themselves_are_untouched() {
    let run = run_file::<DuplicateModifyReplay>(SAMPLE);
    assert_eq!(run.flows, read_flows(SAMPLE));
    // Each copy is replayed, so it joins the run as that replay only.
    assert!(run.copies.is_empty());
    assert_eq!(run.replays.len(), run.flows.len());
    for (replay, flow) in run.replays.iter().zip(&run.flows) {
        assert_ne!(replay.id(), flow.id());
        assert_eq!(replay.text("is_replay"), Some("request"));
        assert!(replay.response().is_none());
        let path = replay.request().unwrap().get("path").unwrap();
        assert_eq!(path.as_bytes(), Some(&b"/changed"[..]));
    }
}
