//! Deciding about tunnels, in the `http_connect` family of hooks: a
//! CONNECT to a host in `block_hosts` is answered `403 Forbidden` by the
//! proxy (mitmproxy's `flow.response` set in `http_connect`); every tunnel
//! that opens or fails is logged with where it went.
//!
//! ```sh
//! runner -s examples/http-connect --set block_hosts=ads.example,tracker.example
//! curl -x http://127.0.0.1:8080 https://ads.example/     # CONNECT tunnel failed, response 403
//! ```

use waylay_sdk::{Context, Flow, OptionKind, Script, ScriptOption};

/// Whether `host` is one of the comma-separated `blocked` hosts, or a
/// subdomain of one.
pub fn is_blocked(blocked: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    blocked
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .any(|b| {
            let b = b.to_ascii_lowercase();
            host == b || host.ends_with(&format!(".{b}"))
        })
}

/// The script: the blocked hosts, read in `configure`.
#[derive(Debug, Default)]
pub struct Tunnels {
    blocked: String,
}

impl Script for Tunnels {
    fn options() -> &'static [ScriptOption] {
        &[ScriptOption {
            name: "block_hosts",
            kind: OptionKind::Str,
            default: "",
            help: "Comma-separated hosts whose CONNECTs are refused with a 403.",
        }]
    }

    fn configure(&mut self, ctx: &Context, updated: &[&str]) {
        if updated.contains(&"block_hosts") {
            self.blocked = ctx.option("block_hosts").unwrap_or_default().to_owned();
        }
    }

    fn http_connect(&mut self, _ctx: &Context, flow: &mut Flow) {
        if is_blocked(&self.blocked, flow.request().host()) {
            flow.respond(403, "tunnels to this host are blocked\n");
        }
    }

    fn http_connected(&mut self, ctx: &Context, flow: &mut Flow) {
        ctx.info(&format!("tunnel open to {}", flow.request().authority()));
    }

    fn http_connect_error(&mut self, ctx: &Context, flow: &mut Flow) {
        let status = flow.response().map_or(0, |r| r.status_code());
        let why = flow.error().map_or("refused", |e| e.msg()).to_owned();
        ctx.warn(&format!(
            "no tunnel to {}: {status} ({why})",
            flow.request().authority()
        ));
    }
}

waylay_sdk::export_script!(Tunnels);
