//! How a script author tests a script: run it over saved flows with the
//! test harness and snapshot what it made of them.

use add_header::AddHeader;
use waylay_proxy::testing::{read_flows, run_file};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/flows/all.mitm");

#[test]
fn adds_newheader_to_every_response() {
    let run = run_file::<AddHeader>(SAMPLE);
    insta::assert_snapshot!(run.render());
}

#[test]
fn changes_nothing_else() {
    let before = read_flows(SAMPLE);
    let after = run_file::<AddHeader>(SAMPLE).flows;
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        let (b_text, a_text) = (
            waylay_proxy::testing::render(std::slice::from_ref(b)),
            waylay_proxy::testing::render(std::slice::from_ref(a)),
        );
        let added: Vec<&str> = a_text
            .lines()
            .filter(|l| !b_text.lines().any(|x| x == *l))
            .collect();
        let expected: &[&str] = if b.response().is_some() {
            &["    newheader: foo"]
        } else {
            &[]
        };
        assert_eq!(added, expected, "flow {}", b.id());
    }
}
