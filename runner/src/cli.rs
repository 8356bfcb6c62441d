//! The command line: mitmdump's flags, as far as Waylay implements them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Waylay: an intercepting HTTP proxy whose scripts are compiled Rust.
///
/// Run scripts over saved mitmproxy flows:
///   runner -n -r in.mitm -s my_script/ -w out.mitm
#[derive(Clone, Debug, Parser)]
#[command(
    name = "runner",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Print Waylay's version, the SDK and ABI versions, and where the SDK
    /// copy scripts are pinned to lives.
    #[arg(short = 'V', long = "version")]
    pub version: bool,

    /// Serve the web view (mitmweb's page) beside the proxy, or over -r's
    /// flows with -n; `--set web_host` and `--set web_port` say where
    /// (127.0.0.1:8081). It prints the page's address with its access
    /// token.
    #[arg(long = "web")]
    pub web: bool,

    /// Start no proxy (offline mode, over -r).
    #[arg(short = 'n', long = "no-server")]
    pub no_server: bool,

    /// Read flows from this file ("-" for standard input).
    #[arg(short = 'r', long = "rfile", value_name = "PATH")]
    pub rfile: Option<String>,

    /// Write flows to this file ("+PATH" appends, "-" is standard output).
    #[arg(short = 'w', long = "wfile", value_name = "PATH")]
    pub wfile: Option<String>,

    /// A script crate to build and run: "DIR" or "DIR arg1 arg2" (the words
    /// after DIR reach its `start`). Repeat for several; they run in order.
    #[arg(short = 's', long = "scripts", value_name = "SCRIPT")]
    pub scripts: Vec<String>,

    /// Send the requests of a saved flow file again, in order (mitmdump's
    /// -C); repeatable. Offline (-n) the run ends when they are done; live,
    /// the proxy replays them and keeps serving.
    #[arg(short = 'C', long = "client-replay", value_name = "PATH")]
    pub client_replay: Vec<String>,

    /// Answer requests that match a flow of this file with its recorded
    /// response, without asking the server (mitmdump's -S); repeatable.
    #[arg(short = 'S', long = "server-replay", value_name = "PATH")]
    pub server_replay: Vec<String>,

    /// What requests matching no recorded flow get while recordings remain:
    /// forward, kill, 204, 400, 404 or 500 (`--set server_replay_extra`).
    #[arg(long = "server-replay-extra", value_name = "HOW")]
    pub server_replay_extra: Option<String>,

    /// Kill requests matching no recorded flow (deprecated; use
    /// --server-replay-extra kill).
    #[arg(long = "server-replay-kill-extra")]
    pub server_replay_kill_extra: bool,

    #[arg(
        long = "no-server-replay-kill-extra",
        hide = true,
        conflicts_with = "server_replay_kill_extra"
    )]
    pub no_server_replay_kill_extra: bool,

    /// Serve a recorded flow every time it matches, not once
    /// (`--set server_replay_reuse`).
    #[arg(long = "server-replay-reuse")]
    pub server_replay_reuse: bool,

    #[arg(
        long = "no-server-replay-reuse",
        hide = true,
        conflicts_with = "server_replay_reuse"
    )]
    pub no_server_replay_reuse: bool,

    /// Move replayed responses' dates and cookie expiry to now (the
    /// default; `--no-server-replay-refresh` keeps them).
    #[arg(long = "server-replay-refresh")]
    pub server_replay_refresh: bool,

    /// Keep replayed responses' dates and cookie expiry as recorded.
    #[arg(
        long = "no-server-replay-refresh",
        conflicts_with = "server_replay_refresh"
    )]
    pub no_server_replay_refresh: bool,

    /// Print no flow lines or script info, only warnings and errors.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// How much of each flow to show: 0 nothing, 1 one line (default),
    /// 2 with header fields, 3 with bodies (long ones cut), 4 whole bodies.
    #[arg(long = "flow-detail", value_name = "0..4", default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=4))]
    pub flow_detail: u8,

    /// Alone: list every option (with help and current value) and the
    /// ones the scripts declare, then exit. With FILE: read options from
    /// FILE, a YAML file as mitmproxy's config.yaml (otherwise
    /// CONFDIR/config.yaml is read when it exists).
    #[arg(long = "options", value_name = "FILE", num_args = 0..=1)]
    pub options: Option<Option<String>>,

    /// Don't rebuild and reload scripts when their files change (live).
    #[arg(long = "no-reload")]
    pub no_reload: bool,

    /// Also print scripts' debug lines.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Address to listen on (live mode).
    #[arg(long = "listen-host", value_name = "HOST", default_value = "127.0.0.1")]
    pub listen_host: String,

    /// Port to listen on (live mode) [default: 8080, 1080 for socks5].
    #[arg(short = 'p', long = "listen-port", value_name = "PORT")]
    pub listen_port: Option<u16>,

    /// How the proxy takes connections (repeatable, a listener each):
    /// regular, transparent, socks5, upstream:http[s]://HOST[:PORT],
    /// reverse:SCHEME://HOST[:PORT] (SCHEME http, https, tls or tcp); each
    /// may end in @PORT or @HOST:PORT.
    #[arg(short = 'm', long = "mode", value_name = "MODE")]
    pub mode: Vec<String>,

    /// Require clients to authenticate: "user:pass" (Basic).
    #[arg(long = "proxyauth", value_name = "USER:PASS")]
    pub proxyauth: Option<String>,

    /// Where the CA lives (made there on first run) [default: ~/.waylay].
    #[arg(long = "confdir", value_name = "DIR")]
    pub confdir: Option<PathBuf>,

    /// Don't verify upstream servers' certificates.
    #[arg(short = 'k', long = "ssl-insecure")]
    pub ssl_insecure: bool,

    /// Pass CONNECT tunnels to a matching "host:port" through untouched
    /// (a regex; repeat for several).
    #[arg(long = "ignore-hosts", value_name = "REGEX")]
    pub ignore_hosts: Vec<String>,

    /// Intercept only CONNECT tunnels to a matching "host:port"; pass the
    /// rest through (a regex; repeat for several).
    #[arg(
        long = "allow-hosts",
        value_name = "REGEX",
        conflicts_with = "ignore_hosts"
    )]
    pub allow_hosts: Vec<String>,

    /// Set an option: "name=value": one of the proxy's (body_size_limit,
    /// ssl_verify_upstream_trusted_ca, ...) or one a script declares.
    /// `--options` lists them.
    #[arg(long = "set", value_name = "OPTION=VALUE")]
    pub set: Vec<String>,

    /// Strip If-Modified-Since and If-None-Match from requests, so servers
    /// cannot answer 304 (`--set anticache=true`).
    #[arg(long = "anticache")]
    pub anticache: bool,

    /// Ask servers for uncompressed responses (`--set anticomp=true`).
    #[arg(long = "anticomp")]
    pub anticomp: bool,

    /// Send the cookies responses set on the requests this filter matches
    /// (`--set stickycookie=FILTER`).
    #[arg(long = "stickycookie", value_name = "FILTER")]
    pub stickycookie: Option<String>,

    /// Send a host's last Authorization on the requests this filter
    /// matches that have none (`--set stickyauth=FILTER`).
    #[arg(long = "stickyauth", value_name = "FILTER")]
    pub stickyauth: Option<String>,

    /// Rewrite request URLs: "[/FILTER]/URL-REGEX/REPLACEMENT", split on
    /// its first character (repeatable; `--set map_remote=...`).
    #[arg(short = 'M', long = "map-remote", value_name = "PATTERN")]
    pub map_remote: Vec<String>,

    /// Answer requests from local files: "[/FILTER]/URL-REGEX/PATH"
    /// (repeatable; `--set map_local=...`).
    #[arg(long = "map-local", value_name = "PATTERN")]
    pub map_local: Vec<String>,

    /// Rewrite bodies: "[/FILTER]/REGEX/[@]REPLACEMENT" (repeatable;
    /// `--set modify_body=...`).
    #[arg(short = 'B', long = "modify-body", value_name = "PATTERN")]
    pub modify_body: Vec<String>,

    /// Set or remove headers: "[/FILTER]/NAME/[@]VALUE", an empty VALUE
    /// removes (repeatable; `--set modify_headers=...`).
    #[arg(short = 'H', long = "modify-headers", value_name = "PATTERN")]
    pub modify_headers: Vec<String>,

    /// A filter expression (mitmproxy's language; words are joined by
    /// spaces): only matching flows are read from -r, shown and saved to -w.
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,

    /// `--set` (and the options file) read against the option registry;
    /// filled in by `main` before anything asks.
    #[arg(skip)]
    pub config: crate::registry::Config,
}

#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Create a script crate: a response hook and a snapshot test over a
    /// bundled flow file, ready for `cargo test` and `runner -s NAME`.
    New {
        /// Directory to create; its last component names the crate.
        path: PathBuf,
    },
    /// Move a script crate made by another Waylay to this runner's SDK:
    /// its `waylay-sdk` requirement and its pin (`.cargo/config.toml`).
    Upgrade {
        /// The script crate's directory.
        path: PathBuf,
    },
}
