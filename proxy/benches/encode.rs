//! Encoding a flow as the capture file and the web view's session file
//! hold it: `cargo bench -p waylay-proxy --bench encode`.
//!
//! The flow is `testdata/flows/get.mitm`'s with a header set on its
//! request and on its response, so that the top level and both messages
//! are built values (as a live flow's are) while the connection records
//! stay the bytes they were read from (as a live flow's compact records
//! do). Each case prints its best of 5 runs, in ns per flow. The last
//! reads the flow's row in the view's list, which a live flow with
//! `--web` gets beside its encoding.

use std::hint::black_box;
use std::path::Path;

use waylay_proxy::http::{Which, set_header};
use waylay_proxy::testing::read_flows;
use waylay_proxy::tnetstring;
use waylay_proxy::view::Row;

mod best_of;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut flow = read_flows(root.join("testdata/flows/get.mitm")).remove(0);
    for which in [Which::Request, Which::Response] {
        let message = flow.message_mut(which).expect("get.mitm has both messages");
        set_header(message, b"x-bench", b"1");
    }
    let mut out = Vec::new();
    tnetstring::write(flow.as_value(), &mut out);
    println!("a flow of {} bytes", out.len());
    best_of::time("encode into a fresh Vec", "flow", 200_000, || {
        let mut bytes = Vec::new();
        tnetstring::write(black_box(flow.as_value()), &mut bytes);
        black_box(bytes);
    });
    best_of::time("encode into a reused buffer", "flow", 200_000, || {
        out.clear();
        tnetstring::write(black_box(flow.as_value()), &mut out);
        black_box(&out);
    });
    best_of::time("read its row for the view", "flow", 200_000, || {
        black_box(Row::of(black_box(&flow), 0, 0));
    });
}
