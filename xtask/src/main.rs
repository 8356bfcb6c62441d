//! `cargo xtask`: what cargo alone can't do.
//!
//! - `cargo xtask test`: install the interop peer (mitmproxy 11.0.2 in a
//!   venv under `target/`) if missing, then `cargo test --workspace`.
//! - `cargo xtask peer`: only install the peer.
//! - `cargo xtask bench offline`, `bench live`, `bench concurrency`,
//!   `bench tls`: the benchmarks recorded in BENCHMARKS.md.
//! - `cargo xtask fuzz [--time S]`: every cargo-fuzz target for S seconds.
//! - `cargo xtask soak`: a long load, idle connections, then SIGTERM.

use anyhow::{Result, bail};

mod bench;
mod bench_concurrency;
mod bench_live;
mod bench_tls;
mod fuzz;
mod peer;
mod soak;
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
        ["fuzz", rest @ ..] => fuzz::fuzz(rest),
        ["soak", rest @ ..] => soak::soak(rest),
        ["origin", port] => bench_live::serve_forever(port.parse()?),
        _ => bail!(
            "usage: cargo xtask test [CARGO TEST ARGS] | peer | bench offline [--flows N] [--big-mb N] | bench live [--seconds N] | bench concurrency [--seconds N] | bench tls [--seconds N] [--connections N] [--client-threads N] | fuzz [--time SECONDS] [--jobs N] | soak [--seconds N] [--clients N] [--idle N] | origin PORT"
        ),
    }
}
