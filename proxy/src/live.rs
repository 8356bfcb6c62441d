//! The live proxy: an HTTP/1.1 forward proxy (mitmproxy's regular mode)
//! that drives scripts through the same dispatch as offline mode.
//!
//! The protocol logic is `h1` (no I/O) and `live::record` (flow dicts);
//! this module and its children are the tokio shell around them.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::flow::Flow;
use crate::flowfile::FlowWriter;
use crate::script::{Event, NotNow, Outcome, Scripts};
use crate::tnetstring::Value;

mod auth;
mod client;
mod h2;
pub mod record;
mod send;
mod tunnel;
mod upstream;
mod wire;

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
    /// Stream response bodies larger than this instead of keeping them
    /// (mitmproxy's `stream_large_bodies`).
    pub stream_large_bodies: Option<u64>,
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
            trust: crate::tls::Trust::default(),
            tls: None,
            ignore_hosts: Vec::new(),
            allow_hosts: Vec::new(),
        }
    }
}

/// What the proxy shares between connections.
pub struct Live {
    scripts: Arc<Scripts>,
    capture: Option<Mutex<FlowWriter<Box<dyn io::Write + Send>>>>,
    on_flow: Box<dyn Fn(&Flow) + Send + Sync>,
    options: Options,
    expected_auth: Option<String>,
    /// Flows between their request and their end, as last seen, so that
    /// a shutdown that cannot wait for them still records them.
    in_flight: Mutex<std::collections::HashMap<String, Flow>>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Live {
    /// A proxy running `scripts`, writing each finished flow to `capture`
    /// and showing it to `on_flow`.
    pub fn new(
        scripts: Arc<Scripts>,
        capture: Option<FlowWriter<Box<dyn io::Write + Send>>>,
        on_flow: Box<dyn Fn(&Flow) + Send + Sync>,
        options: Options,
    ) -> Live {
        Live {
            scripts,
            capture: capture.map(Mutex::new),
            on_flow,
            expected_auth: options.proxyauth.as_deref().map(auth::expected),
            in_flight: Mutex::default(),
            options,
        }
    }

    fn scripts(&self) -> &Scripts {
        &self.scripts
    }

    /// Runs a flow event on every script. Hooks may block (a concurrent
    /// one by design, a serialized one waiting its turn), so they run on
    /// the runtime's blocking threads, never on an I/O thread; events no
    /// script has a hook for cost nothing.
    async fn flow_event(self: &Arc<Self>, event: Event, flow: &mut Flow) -> Outcome {
        if !self.scripts.wants(event) {
            return Outcome::default();
        }
        // Quick hooks of free scripts run right here: no thread hop. When
        // another connection is in a quick hook of the same script, this
        // thread serves others meanwhile and tries again, rather than
        // park a blocking thread on the lock (a thousand connections would
        // park hundreds).
        for _ in 0..64 {
            match self.scripts.try_flow_event_now(event, flow, true) {
                Ok(outcome) => return outcome,
                Err(NotNow::Busy) => tokio::task::yield_now().await,
                Err(NotNow::MustBlock) => break,
            }
        }
        let live = self.clone();
        let mut owned = std::mem::replace(flow, Flow::empty());
        let ran = tokio::task::spawn_blocking(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                live.scripts.flow_event(event, &mut owned, true)
            }));
            (
                owned,
                outcome.unwrap_or(Outcome {
                    killed: false,
                    panics: 1,
                }),
            )
        })
        .await;
        match ran {
            Ok((back, outcome)) => {
                *flow = back;
                outcome
            }
            // The blocking pool is shutting down: the flow cannot go on.
            Err(_) => Outcome {
                killed: true,
                panics: 0,
            },
        }
    }

    /// Runs a connection event on every script, like `flow_event`.
    async fn conn_event(self: &Arc<Self>, event: Event, conn: &Value) {
        if !self.scripts.wants(event) {
            return;
        }
        let (live, conn) = (self.clone(), conn.clone());
        let _ = tokio::task::spawn_blocking(move || live.scripts.conn_event(event, &conn)).await;
    }

    /// Records a finished flow: the capture file (flushed, so nothing is
    /// lost if the process dies), then the output line.
    /// Notes the flow's current state in case shutdown overtakes it.
    fn track(&self, flow: &Flow) {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(flow.id().to_owned(), flow.clone());
    }

    /// Records the flows shutdown did not wait for, as errors.
    fn abandon_in_flight(&self) {
        let left: Vec<Flow> = self
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, f)| f)
            .collect();
        for mut flow in left {
            let grace = self.options.shutdown_grace.as_secs();
            flow.set_error(
                &format!("the proxy shut down before the flow finished ({grace}s grace)"),
                record::now(),
            );
            self.scripts.flow_event(Event::Error, &mut flow, true);
            self.finish(&flow);
        }
    }

    fn finish(&self, flow: &Flow) {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(flow.id());
        if let Some(capture) = &self.capture {
            let mut w = capture.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = w.write_flow(flow).and_then(|()| w.flush()) {
                self.scripts().log().log(
                    "capture",
                    crate::script::Level::Error,
                    &format!("cannot write flow {}: {e}", flow.id()),
                );
            }
        }
        (self.on_flow)(flow);
    }

    /// `start`.
    pub fn start(&self) {
        self.scripts().start();
    }

    /// `done`, then the capture file's last flush.
    pub fn done(&self) -> io::Result<()> {
        self.scripts().done();
        match &self.capture {
            Some(capture) => capture.lock().unwrap_or_else(|e| e.into_inner()).flush(),
            None => Ok(()),
        }
    }
}

/// Serves clients from `listener` until `shutdown` resolves, then lets
/// in-flight flows finish (for at most the grace period) and returns.
pub async fn serve(
    listener: TcpListener,
    live: Arc<Live>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let (closing_tx, closing) = watch::channel(false);
    let mut clients = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let sock = stream.local_addr().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
                    clients.spawn(client::run(stream, peer, sock, live.clone(), closing.clone()));
                }
                // Out of file descriptors and the like: wait a moment.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let grace = live.options.shutdown_grace;
    let _ = tokio::time::timeout(grace, async {
        while clients.join_next().await.is_some() {}
    })
    .await;
    clients.abort_all();
    while clients.join_next().await.is_some() {}
    live.abandon_in_flight();
    Ok(())
}

/// Raw client bytes to a flow and back out, as the proxy would: the head
/// parsed, its framing decided, a length or chunked body read from what
/// follows, the flow dict built (origin form taken as a tunnel's), then
/// the request written for the server, which must parse as a request
/// again. For the fuzz target `client_bytes`.
#[doc(hidden)]
pub fn fuzz_client_bytes(data: &[u8]) {
    use crate::h1::{self, BodyKind};
    let buf = bytes::Bytes::copy_from_slice(data);
    let Ok(Some((head, len))) = h1::parse_request(&buf) else {
        return;
    };
    let Ok(kind) = h1::request_body(&head) else {
        return;
    };
    let target = if head.second.starts_with(b"/") {
        record::Target {
            scheme: "https".into(),
            host: "example.com".into(),
            port: 443,
            path: head.second.clone(),
        }
    } else {
        match record::parse_target(&head.second) {
            Ok(target) => target,
            Err(_) => return,
        }
    };
    let mut rest = bytes::BytesMut::from(&data[len..]);
    let body = match kind {
        BodyKind::None => bytes::Bytes::new(),
        BodyKind::Length(n) => {
            if (rest.len() as u64) < n {
                return;
            }
            rest.split_to(n as usize).freeze()
        }
        BodyKind::Chunked => {
            let mut decoder = h1::ChunkedDecoder::default();
            let mut out = Vec::new();
            match decoder.decode(&mut rest, &mut out) {
                Ok(true) => bytes::Bytes::from(out),
                _ => return,
            }
        }
        BodyKind::Close => return,
    };
    let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
    let sock = SocketAddr::from(([127, 0, 0, 1], 8080));
    let mut flow = record::flow(
        record::client_conn(peer, sock, 0.0),
        record::request(&head, &target, 0.0),
        0.0,
    );
    let req = flow
        .message_mut(crate::http::Which::Request)
        .expect("just built");
    record::finish_message(req, Some(body.clone()), &[], 0.0);
    let out = bytes::Bytes::from(send::request(&flow));
    let (again, used) = match h1::parse_request(&out) {
        Ok(Some(parsed)) => parsed,
        other => panic!("the request sent upstream does not parse: {other:?}"),
    };
    assert_eq!(again.first, head.first, "the method changed");
    assert_eq!(
        h1::request_body(&again),
        Ok(if body.is_empty() && kind == BodyKind::None {
            BodyKind::None
        } else {
            BodyKind::Length(body.len() as u64)
        }),
        "the upstream framing is not the body's"
    );
    assert_eq!(&out[used..], &body[..], "the body changed");
}
