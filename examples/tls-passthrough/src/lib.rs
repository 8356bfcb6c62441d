//! mitmproxy's `contrib/tls_passthrough.py`: TLS interception that gives
//! up on a server once a client has refused the proxy's certificate for
//! it. The first connection to a server is intercepted; if the client's
//! handshake fails (it pins its certificate, or does not trust the CA),
//! later connections to that server pass through untouched
//! (`tls_clienthello` sets `ignore_connection`), and the client talks to
//! the real server.
//!
//! ```sh
//! runner -s examples/tls-passthrough
//! curl -x http://127.0.0.1:8080 -k https://example.com/   # intercepted
//! curl -x http://127.0.0.1:8080 https://example.com/      # fails: the CA is not trusted
//! curl -x http://127.0.0.1:8080 https://example.com/      # works: passed through
//! ```
//!
//! The option `tls_strategy` picks the strategy, as in the original: 0
//! (the default) is the conservative one above; 1 to 100 intercepts each
//! connection with that probability, in percent.

use std::collections::{HashMap, VecDeque};

use waylay_sdk::{ClientHello, Context, OptionKind, Script, ScriptOption, TlsData};

/// What happened to one attempt at intercepting a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interception {
    /// The client accepted the proxy's certificate.
    Success,
    /// The client refused it.
    Failure,
    /// The connection passed through.
    Skipped,
}

/// Whether to intercept a server's connections, from what happened before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Intercept unless an attempt for the server has failed.
    Conservative,
    /// Intercept with this probability, in percent (1 to 100).
    Probabilistic(u8),
}

/// The last 200 attempts per server address (`host:port`).
#[derive(Debug, Default)]
pub struct History(HashMap<String, VecDeque<Interception>>);

impl History {
    /// Records an attempt for `server`.
    pub fn record(&mut self, server: &str, what: Interception) {
        let attempts = self.0.entry(server.to_owned()).or_default();
        if attempts.len() == 200 {
            attempts.pop_front();
        }
        attempts.push_back(what);
    }

    /// Whether `server` should be intercepted; `roll` is a number in
    /// 0..100 for the probabilistic strategy.
    pub fn should_intercept(&self, strategy: Strategy, server: &str, roll: u8) -> bool {
        match strategy {
            Strategy::Conservative => !self
                .0
                .get(server)
                .is_some_and(|attempts| attempts.contains(&Interception::Failure)),
            Strategy::Probabilistic(percent) => roll < percent,
        }
    }
}

/// The script: a [`History`] and the strategy chosen by `tls_strategy`.
#[derive(Debug)]
pub struct MaybeTls {
    strategy: Strategy,
    history: History,
    /// xorshift state for the probabilistic strategy's rolls.
    seed: u64,
}

impl Default for MaybeTls {
    fn default() -> MaybeTls {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        MaybeTls {
            strategy: Strategy::Conservative,
            history: History::default(),
            seed: now | 1,
        }
    }
}

impl MaybeTls {
    fn roll(&mut self) -> u8 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed % 100) as u8
    }
}

/// Where a connection goes: the server's address, as `host:port`.
fn server_of(server: Option<&waylay_sdk::Connection>) -> String {
    server
        .and_then(|s| s.peer().or_else(|| s.address()))
        .map_or_else(|| "?".to_owned(), |(host, port)| format!("{host}:{port}"))
}

impl Script for MaybeTls {
    fn options() -> &'static [ScriptOption] {
        &[ScriptOption {
            name: "tls_strategy",
            kind: OptionKind::Int,
            default: "0",
            help: "TLS passthrough strategy. If set to 0, connections will be passed through after the first unsuccessful handshake. If set to 0 < p <= 100, connections with be passed through with probability p.",
        }]
    }

    fn configure(&mut self, ctx: &Context, updated: &[&str]) {
        if !updated.contains(&"tls_strategy") {
            return;
        }
        self.strategy = match ctx.option_int("tls_strategy").unwrap_or(0) {
            p if p > 0 => Strategy::Probabilistic(p.min(100) as u8),
            _ => Strategy::Conservative,
        };
    }

    fn tls_clienthello(&mut self, ctx: &Context, hello: &mut ClientHello) {
        let server = server_of(hello.server());
        let roll = self.roll();
        if !self.history.should_intercept(self.strategy, &server, roll) {
            ctx.info(&format!("TLS passthrough: {server}."));
            hello.set_ignore_connection(true);
            self.history.record(&server, Interception::Skipped);
        }
    }

    fn tls_established_client(&mut self, ctx: &Context, tls: &TlsData) {
        let server = server_of(tls.server());
        ctx.info(&format!("TLS handshake successful: {server}"));
        self.history.record(&server, Interception::Success);
    }

    fn tls_failed_client(&mut self, ctx: &Context, tls: &TlsData) {
        let server = server_of(tls.server());
        ctx.info(&format!("TLS handshake failed: {server}"));
        self.history.record(&server, Interception::Failure);
    }
}

waylay_sdk::export_script!(MaybeTls);
