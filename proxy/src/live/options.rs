//! [`Options`]: the live proxy's settings, as the runner's `--set` and
//! flags make them.

use std::sync::Arc;
use std::time::Duration;

use super::dial::Dialer;

/// Settings of the live proxy.
#[derive(Clone, Debug)]
pub struct Options {
    /// `user:pass` that clients must send in Proxy-Authorization.
    pub proxyauth: Option<String>,
    /// The largest body read, in bytes (mitmproxy's `body_size_limit`).
    pub body_size_limit: Option<u64>,
    /// How long to wait for an upstream connection.
    pub connect_timeout: Duration,
    /// How long to wait for an upstream response head.
    pub response_timeout: Duration,
    /// How long a client has to finish a head it has started, and a body
    /// read may wait for its next byte.
    pub header_timeout: Duration,
    /// How long in-flight flows get to finish at shutdown.
    pub shutdown_grace: Duration,
    /// Stream bodies larger than this instead of keeping them
    /// (mitmproxy's `stream_large_bodies`).
    pub stream_large_bodies: Option<u64>,
    /// The largest WebSocket message, in bytes; a larger one ends the flow.
    pub websocket_max_message: usize,
    /// How many bytes of a WebSocket or TCP flow's newest messages stay in
    /// memory; older ones move to the flow's spill file
    /// (`crate::flow::spill`).
    pub stream_messages_memory: usize,
    /// How upstream certificates are checked; read when `tls` is made.
    pub trust: crate::tls::Trust,
    /// Intercepts HTTPS in CONNECT tunnels; without it tunnels pass
    /// through untouched.
    pub tls: Option<Arc<crate::tls::Interceptor>>,
    /// Tunnels to a `host:port` matching one of these pass through
    /// (mitmproxy's `ignore_hosts`).
    pub ignore_hosts: Vec<regex_lite::Regex>,
    /// When set, only tunnels to a matching `host:port` are intercepted
    /// (mitmproxy's `allow_hosts`).
    pub allow_hosts: Vec<regex_lite::Regex>,
    /// Tunnels to a `host:port` matching one of these carry TCP flows,
    /// TLS still intercepted (mitmproxy's `tcp_hosts`).
    pub tcp_hosts: Vec<regex_lite::Regex>,
    /// Reverse mode leaves the client's Host field as it is (mitmproxy's
    /// `keep_host_header`).
    pub keep_host_header: bool,
    /// `user:pass` sent to an upstream proxy (mitmproxy's
    /// `upstream_auth`).
    pub upstream_auth: Option<String>,
    /// How origins are reached (TCP, unless a test says otherwise).
    pub dialer: Dialer,
    /// Threads serving connections, each with its own runtime
    /// (`live::shards`); the thread that calls `serve` is one of them.
    pub io_threads: usize,
    /// Addresses the proxy never connects to: the web view's, so that a
    /// request through the proxy cannot reach the view's API (mitmproxy's
    /// CVE-2025-23217).
    pub guarded: Vec<std::net::SocketAddr>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            proxyauth: None,
            body_size_limit: None,
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
            header_timeout: Duration::from_secs(60),
            stream_large_bodies: None,
            websocket_max_message: 16 << 20,
            stream_messages_memory: crate::flow::spill::DEFAULT_MEMORY,
            trust: crate::tls::Trust::default(),
            tls: None,
            ignore_hosts: Vec::new(),
            allow_hosts: Vec::new(),
            tcp_hosts: Vec::new(),
            keep_host_header: false,
            upstream_auth: None,
            dialer: Dialer::default(),
            io_threads: std::thread::available_parallelism().map_or(1, usize::from),
            guarded: Vec::new(),
        }
    }
}
