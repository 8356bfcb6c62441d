//! What the load runs share: a loopback origin on a thread of its own,
//! the tally of one loop, and the figures of many ([`Measured::of`]).

use std::time::Duration;

use anyhow::Result;
use tokio::net::{TcpListener, TcpStream};

/// What one connection's (or one worker's) loop measured.
#[derive(Debug, Default)]
pub struct Tally {
    /// Times of the round trips (or connections) done before the deadline.
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Tally {
    /// Counts a failure; the first one's words are kept.
    pub fn failed(&mut self, e: impl std::fmt::Display) {
        self.errors += 1;
        self.first_error.get_or_insert(e.to_string());
    }
}

/// What a load run measured.
#[derive(Debug)]
pub struct Measured {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// What the first failure said.
    pub first_error: Option<String>,
}

impl Measured {
    /// The figures of `tallies` over a run of `seconds`: round trips per
    /// second, the median and the 99th percentile, the failures.
    pub fn of(tallies: impl IntoIterator<Item = Tally>, seconds: u64) -> Measured {
        let (mut all, mut errors, mut first_error) = (Vec::new(), 0, None);
        for tally in tallies {
            all.extend(tally.latencies);
            errors += tally.errors;
            first_error = first_error.or(tally.first_error);
        }
        all.sort();
        let at = |q: f64| crate::stats::quantile(&all, q).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        Measured {
            per_second: all.len() as f64 / seconds as f64,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            errors,
            first_error,
        }
    }
}

/// Starts an origin on 127.0.0.1 on a thread of its own, named `thread`
/// (a current-thread runtime, so all its work is that thread's), each
/// accepted connection handed to `handle` on a task of its own; returns
/// its port.
pub fn origin<F, Fut>(thread: &str, handle: F) -> Result<u16>
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    std::thread::Builder::new()
        .name(thread.into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("a listener");
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => drop(tokio::spawn(handle(stream))),
                        // Out of descriptors, say: wait rather than spin.
                        Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
            });
        })?;
    Ok(port)
}
