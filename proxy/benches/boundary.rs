//! The cost of one event crossing the script boundary: `cargo bench -p
//! waylay-proxy --bench boundary` (run by `cargo xtask bench offline`).
//!
//! Builds `examples/add_header` as the runner would, loads the cdylib, and
//! times `Scripts::flow_event` on a saved flow: once for an event the script
//! does not override (the bare crossing: dispatch, the C call, the SDK's
//! catch_unwind and flow view) and once for `response`, where it sets a
//! header through the host's function table.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use waylay_proxy::script::build::{BuildOptions, build};
use waylay_proxy::script::{Event, Level, LogSink, Script, Scripts};
use waylay_proxy::testing::read_flows;

mod best_of;

struct Quiet;

impl LogSink for Quiet {
    fn log(&self, _: &str, _: Level, _: &str) {}
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let options = BuildOptions {
        // Inside the workspace: its `[patch]` pins the SDK.
        sdk_dir: None,
        proxy_dir: None,
        quiet: true,
        lines: None,
    };
    let library =
        build(&root.join("examples/add_header"), &options).expect("examples/add_header builds");
    let mut scripts = Scripts::new(Arc::new(Quiet));
    scripts.push(Script::load(&library, "add_header", vec![], &Quiet).expect("loads"));
    let mut flow = read_flows(root.join("testdata/flows/get.mitm")).remove(0);
    best_of::time(
        "event the script does not override (request)",
        "event",
        2_000_000,
        || {
            black_box(scripts.flow_event(Event::Request, black_box(&mut flow), false));
        },
    );
    best_of::time(
        "add_header's response hook (sets a header)",
        "event",
        1_000_000,
        || {
            black_box(scripts.flow_event(Event::Response, black_box(&mut flow), false));
        },
    );
}
