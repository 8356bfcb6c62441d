//! `cargo xtask`: what cargo alone can't do.
//!
//! - `cargo xtask test`: install the interop peer (mitmproxy 11.0.2 in a
//!   venv under `target/`) if missing, then `cargo test --workspace`.
//! - `cargo xtask peer`: only install the peer.
//! - `cargo xtask bench offline`, `bench live`, `bench concurrency`,
//!   `bench tls`, `bench websocket`, `bench h2stream`, `bench modes`,
//!   `bench filter`, `bench accessors`, `bench streams`, `bench web`, `bench compare`, `bench compose`, `bench preview`: the benchmarks
//!   recorded in BENCHMARKS.md. `bench live`, `bench streams` and `bench accessors` take
//!   `--against REV`: REV's runner beside the working tree's (`ab.rs`).
//! - `cargo xtask fuzz [--time S]`: every cargo-fuzz target for S seconds.
//! - `cargo xtask soak`: a long load, idle connections, then SIGTERM.

use anyhow::{Result, bail};

mod ab;
mod bench;
mod bench_accessors;
mod bench_compare;
mod bench_compose;
mod bench_concurrency;
mod bench_filter;
mod bench_h2stream;
mod bench_live;
mod bench_modes;
mod bench_preview;
mod bench_replay;
mod bench_streams;
mod bench_tls;
mod bench_web;
mod bench_websocket;
/// The web view tests' DevTools driver, shared so that `bench web` drives
/// Chromium the same way (not every part is used here).
#[allow(dead_code)]
#[path = "../../runner/tests/cli/cdp.rs"]
mod cdp;
mod fuzz;
mod load;
mod nginx;
mod peer;
mod perf;
mod procs;
/// What `cdp` needs from the tests' support module.
mod support {
    pub use crate::util::root;

    /// A fresh scratch directory.
    pub fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary directory")
    }
}
mod soak;
mod stats;
mod stream_load;
mod tcp_load;
mod tidy;
mod tls_load;
mod util;
mod ws_load;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["test", rest @ ..] => {
            peer::ensure()?;
            util::cargo(&[&["test", "--workspace"], rest].concat())
        }
        ["peer"] => peer::ensure().map(drop),
        ["bench", "offline", rest @ ..] => bench::offline(rest),
        ["bench", "accessors", rest @ ..] => bench_accessors::accessors(rest),
        ["bench", "live", rest @ ..] => bench_live::live(rest),
        ["bench", "web", rest @ ..] => bench_web::web(rest),
        ["bench", "compare", rest @ ..] => bench_compare::compare(rest),
        ["bench", "compose", rest @ ..] => bench_compose::compose(rest),
        ["bench", "preview", rest @ ..] => bench_preview::preview(rest),
        ["bench", "concurrency", rest @ ..] => bench_concurrency::concurrency(rest),
        ["bench", "filter", rest @ ..] => bench_filter::filter(rest),
        ["bench", "tls", rest @ ..] => bench_tls::tls(rest),
        ["bench", "websocket", rest @ ..] => bench_websocket::websocket(rest),
        ["bench", "h2stream", rest @ ..] => bench_h2stream::h2stream(rest),
        ["bench", "modes", rest @ ..] => bench_modes::modes(rest),
        ["bench", "replay", rest @ ..] => bench_replay::replay(rest),
        ["bench", "streams", rest @ ..] => bench_streams::streams(rest),
        ["fuzz", rest @ ..] => fuzz::fuzz(rest),
        ["soak", rest @ ..] => soak::soak(rest),
        ["origin", port] => bench_live::serve_forever(port.parse()?),
        _ => bail!(
            "usage: cargo xtask test [CARGO TEST ARGS] | peer | bench offline [--flows N] [--big-mb N] [--ab-flows N] [--against REV] | bench accessors [--against REV] | bench live [--seconds N] [--perf-seconds N] [--origin nginx|inproc] [--against REV] | bench concurrency [--seconds N] | bench filter [--mb N] [--flows N] [--seconds N] [--iterations N] | bench tls [--seconds N] [--connections N] [--client-threads N] | bench websocket [--seconds N] [--connections N] [--window N] [--size BYTES] [--idle N] [--client-threads N] | bench h2stream [--mb N] [--slow-mbps N] | bench modes [--seconds N] [--connections N] [--size BYTES] [--client-threads N] [--origin nginx|inproc] [--against REV] [--waylay-set NAME=VALUE] | bench replay [--seconds N] [--connections N] | bench web [--flows N] [--mitmweb-flows N] [--seconds N] | bench compare [--items N] [--rounds N] | bench compose [--copies N] [--rounds N] | bench preview [--flows N] [--rounds N] [--peer-flows N] | bench streams [--seconds N] [--connections N] [--size BYTES] [--rounds N] [--memory SIZE] [--against REV] | fuzz [--time SECONDS] [--jobs N] [--target NAME]... | soak [--seconds N] [--clients N] [--idle N] | origin PORT"
        ),
    }
}
