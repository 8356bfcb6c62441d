//! Every example script over every golden flow file, snapshotted.

use waylay_proxy::testing::render;

use crate::offline_run::Offline;
use crate::support::{GOLDEN, flows, golden, root};

#[test]
fn every_example_over_every_golden_file() {
    let mut examples: Vec<_> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    examples.sort();
    assert!(!examples.is_empty());
    for example in examples {
        let mut rendered = String::new();
        for name in GOLDEN {
            let input = golden(name);
            let result = Offline::golden(name)
                .args(&["-q"])
                .script(&format!("examples/{example}"))
                .write()
                .run()
                .ok();
            // Flows a script made (copies, replays) have new ids and finish
            // when the network says: shown after the others, ids masked,
            // in a stable order.
            let read: Vec<String> = flows(&input).iter().map(|f| f.id().to_owned()).collect();
            let (kept, made): (Vec<_>, Vec<_>) = result
                .written()
                .into_iter()
                .partition(|f| read.iter().any(|id| id == f.id()));
            let mut made: Vec<String> = made
                .iter()
                .map(|f| render(std::slice::from_ref(f)).replace(f.id(), "<new id>"))
                .collect();
            made.sort();
            rendered += &format!("═══ {name}\n{}{}", render(&kept), made.concat());
        }
        insta::assert_snapshot!(example, rendered);
    }
}
