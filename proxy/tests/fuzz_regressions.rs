//! Every input the fuzzers found a crash with (and a few found by hand),
//! replayed: `fuzz/regressions/TARGET/*` through the same entry points
//! the fuzz targets use.

use std::path::PathBuf;

#[test]
fn every_kept_input_runs_clean() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut replayed = 0;
    for (target, run) in [
        (
            "flowfile_read",
            (|d: &[u8]| {
                let _ = waylay_proxy::fuzzing::read_flows(d);
            }) as fn(&[u8]),
        ),
        ("flowfile_roundtrip", waylay_proxy::fuzzing::round_trip),
        ("parsers", waylay_proxy::fuzzing::parsers),
        ("client_bytes", waylay_proxy::fuzzing::client_bytes),
        ("websocket_frames", waylay_proxy::fuzzing::websocket_frames),
        ("socks5", waylay_proxy::fuzzing::socks5),
        ("filter_expr", waylay_proxy::fuzzing::filter_expr),
        ("rewrite_specs", waylay_proxy::fuzzing::rewrite_specs),
        ("mode_strings", waylay_proxy::fuzzing::mode_strings),
        ("har", waylay_proxy::fuzzing::har),
        ("old_flows", waylay_proxy::fuzzing::old_flows),
        ("flow_rows", waylay_proxy::fuzzing::flow_rows),
        ("compare_bodies", waylay_proxy::fuzzing::compare_bodies),
        ("compose_input", waylay_proxy::fuzzing::compose_input),
    ] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&input));
            assert!(outcome.is_ok(), "{} panics", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no inputs under {}", dir.display());
}
