//! How the low layers (reaching a server, its TLS) tell the scripts what
//! happens to a server connection without knowing of scripts: the
//! [`Notify`] trait, which `Live` implements, and the [`Watched`]
//! transport that fires `server_disconnected` when a server connection is
//! dropped, however it ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::wire::BoxIo;
use crate::event::Event;
use crate::flow::Flow;
use crate::tnetstring::Value;

/// A hook run in flight.
pub type Pending<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Where connection events go.
pub trait Notify: Send + Sync {
    /// Whether any script hooks `event`.
    fn wants(&self, event: Event) -> bool;
    /// Runs `event`'s hooks about the connection record `conn`.
    fn conn_event(&self, event: Event, conn: Value) -> Pending<()>;
    /// Runs a TLS event's hooks, with both connections.
    fn tls_event(&self, event: Event, client: Value, server: Option<Value>) -> Pending<()>;
    /// Runs a flow event's hooks (`http_connect_upstream`) on `flow`,
    /// which comes back as they left it.
    fn flow_event(&self, event: Event, flow: Flow) -> Pending<Flow>;
}

/// A shared [`Notify`] and the client connection the events are for.
#[derive(Clone)]
pub struct Notifier(Option<Arc<dyn Notify>>, Value);

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Notifier"
        } else {
            "Notifier(none)"
        })
    }
}

impl Notifier {
    /// Events go to `to`; TLS events with the server name `client`.
    pub fn new(to: Arc<dyn Notify>, client: Value) -> Notifier {
        Notifier(Some(to), client)
    }

    /// The client connection as it now is (its TLS fields once known),
    /// for the server side's TLS events.
    pub fn set_client(&mut self, client: Value) {
        self.1 = client;
    }

    /// The client connection the events are for.
    pub fn client(&self) -> &Value {
        &self.1
    }

    /// Fires a TLS event on the server's side, about `server`.
    pub async fn tls(&self, event: Event, server: &Value) {
        self.tls_with(event, &self.1, Some(server)).await;
    }

    /// Fires a TLS event with both connections given.
    pub async fn tls_with(&self, event: Event, client: &Value, server: Option<&Value>) {
        if let Some(to) = self.0.as_ref().filter(|to| to.wants(event)) {
            to.tls_event(event, client.clone(), server.cloned()).await;
        }
    }

    /// Whether a script hooks `event`.
    pub fn wants(&self, event: Event) -> bool {
        self.0.as_ref().is_some_and(|to| to.wants(event))
    }

    /// Fires `event` about `conn` and waits for its hooks.
    pub async fn fire(&self, event: Event, conn: &Value) {
        if let Some(to) = self.0.as_ref().filter(|to| to.wants(event)) {
            to.conn_event(event, conn.clone()).await;
        }
    }

    /// Runs `event` on `flow` when a script hooks it.
    pub async fn flow(&self, event: Event, flow: Flow) -> Flow {
        match self.0.as_ref().filter(|to| to.wants(event)) {
            Some(to) => to.flow_event(event, flow).await,
            None => flow,
        }
    }

    /// `io`, firing `server_disconnected` about `conn` once it is dropped
    /// (when a script hooks it).
    pub fn watch(&self, io: BoxIo, conn: &Value) -> BoxIo {
        let event = Event::ServerDisconnected;
        match self.0.as_ref().filter(|to| to.wants(event)) {
            Some(to) => Box::new(Watched {
                inner: io,
                closed: Some((to.clone(), conn.clone())),
            }),
            None => io,
        }
    }
}

/// A server transport that says when it is gone.
struct Watched {
    inner: BoxIo,
    closed: Option<(Arc<dyn Notify>, Value)>,
}

impl Drop for Watched {
    fn drop(&mut self) {
        let Some((to, conn)) = self.closed.take() else {
            return;
        };
        // Dropped outside a runtime (shutdown): there is no one to tell.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let conn =
                super::record::with(&conn, "timestamp_end", Value::Float(super::record::now()));
            runtime.spawn(to.conn_event(Event::ServerDisconnected, conn));
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
