//! `cargo xtask`: what cargo alone can't do.
//!
//! - `cargo xtask test`: install the interop peer (mitmproxy 11.0.2 in a
//!   venv under `target/`) if missing, then `cargo test --workspace`.
//! - `cargo xtask peer`: only install the peer.
//! - `cargo xtask bench offline`, `bench live`, `bench concurrency`,
//!   `bench tls`: the benchmarks recorded in BENCHMARKS.md.

use anyhow::{Result, bail};

mod bench;
mod bench_concurrency;
mod bench_live;
mod bench_tls;
mod peer;
mod tidy;
mod tls_load;
mod util;

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
        ["bench", "live", rest @ ..] => bench_live::live(rest),
        ["bench", "concurrency", rest @ ..] => bench_concurrency::concurrency(rest),
        ["bench", "tls", rest @ ..] => bench_tls::tls(rest),
        ["origin", port] => bench_live::serve_forever(port.parse()?),
        _ => bail!(
            "usage: cargo xtask test [CARGO TEST ARGS] | peer | bench offline [--flows N] [--big-mb N] | bench live [--seconds N] | bench concurrency [--seconds N] | bench tls [--seconds N] [--connections N] [--client-threads N] | origin PORT"
        ),
    }
}
