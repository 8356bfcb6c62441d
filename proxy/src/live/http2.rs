//! HTTP/2 from the client, with hyper: each stream one flow through the
//! exchange, streams independent. A stream's exchange runs as its own
//! task, so that a streamed response can go out while the exchange still
//! passes its body on.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;

use super::body::{ChannelBody, OutBody, Sink, Source, whole};
use super::exchange::{self, Downstream};
use super::failure::Failure;
use super::handoff::Tunnel;
use super::state::Session;
use super::upstream::Pool;
use super::wire::BoxIo;
use super::{convert, record, send};
use crate::flow::Flow;
use crate::http::Which;
use crate::tnetstring::Value;

/// A stream the proxy resets instead of answering (a killed flow).
#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the flow was killed")
    }
}

impl std::error::Error for Reset {}

/// The client's side of one stream's exchange.
struct H2Down {
    body: Option<Incoming>,
    length: Option<u64>,
    respond: Option<oneshot::Sender<Response<OutBody>>>,
}

impl H2Down {
    fn send(&mut self, response: Response<OutBody>) -> bool {
        self.respond
            .take()
            .is_some_and(|tx| tx.send(response).is_ok())
    }
}

/// A response with the flow's status and fields; `length` replaces the
/// recorded Content-Length.
fn head(flow: &Flow, body: OutBody, length: Option<u64>) -> Response<OutBody> {
    let resp = flow.message(Which::Response).expect("answering with one");
    let status = resp
        .get("status_code")
        .and_then(Value::as_int)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = convert::header_map(&send::end_to_end(resp), length);
    response
}

impl Downstream for H2Down {
    fn body_length(&self) -> Option<u64> {
        self.length
    }

    fn body(&mut self) -> Source<'_> {
        match self.body.take() {
            Some(body) => Source::H2(body),
            None => Source::Empty,
        }
    }

    async fn go_ahead(&mut self) {}

    async fn respond(&mut self, flow: &Flow) -> bool {
        // A bodiless response (HEAD, 204, 304) keeps the server's length.
        let body = send::client_body(flow);
        let length = body.as_ref().map(|b| b.len() as u64);
        let response = head(flow, whole(body.unwrap_or_default()), length);
        self.send(response)
    }

    async fn respond_head(&mut self, flow: &Flow, length: Option<u64>) -> Option<Sink<'_>> {
        let (body, sink) = ChannelBody::channel(length);
        let response = head(flow, body, length);
        self.send(response).then_some(sink)
    }

    async fn refuse(&mut self, failure: &Failure) {
        if let Some((status, text)) = failure.page() {
            let mut response = Response::new(whole(Bytes::from(text)));
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            self.send(response);
        }
    }

    fn kill(&mut self) {
        self.respond = None;
    }
}

/// One h2 client connection: its session, its upstream connections, and
/// its streams' tasks.
struct Connection {
    session: Session,
    tunnel: Tunnel,
    pool: Mutex<Pool>,
    streams: Arc<Mutex<Vec<AbortHandle>>>,
}

/// Aborts the streams' tasks when the connection's own task is aborted
/// (a shutdown past its grace); a connection that ends by itself lets
/// them finish and record their flows.
struct Streams {
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
    armed: bool,
}

impl Drop for Streams {
    fn drop(&mut self) {
        if self.armed {
            for task in self
                .tasks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain(..)
            {
                task.abort();
            }
        }
    }
}

/// Serves an h2 client until it goes away or the proxy shuts down.
pub async fn serve(
    session: &Session,
    io: BoxIo,
    tunnel: Tunnel,
    pool: Pool,
    closing: &mut watch::Receiver<bool>,
) {
    let mut streams = Streams {
        tasks: Arc::default(),
        armed: true,
    };
    let shared = Arc::new(Connection {
        session: session.clone(),
        tunnel,
        pool: Mutex::new(pool),
        streams: streams.tasks.clone(),
    });
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { stream(shared, req).await }
    });
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder.max_concurrent_streams(256).auto_date_header(false);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let shutting_down = tokio::select! {
        _ = connection.as_mut() => false,
        _ = closing.wait_for(|c| *c) => true,
    };
    if shutting_down {
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
    streams.armed = false;
}

/// One stream: its flow made from the request head, its exchange started,
/// and the response (or a reset) handed to hyper once the exchange has it.
async fn stream(
    shared: Arc<Connection>,
    req: Request<Incoming>,
) -> Result<Response<OutBody>, Reset> {
    let start = record::now();
    let (parts, body) = req.into_parts();
    let tunnel = &shared.tunnel;
    let authority = parts.uri.authority().map(|a| a.as_str().to_owned());
    let (host, port) = match &authority {
        // A reverse proxy sends everything to its server.
        _ if tunnel.reverse => (tunnel.host.clone(), tunnel.port),
        Some(a) => match record::parse_authority(a.as_bytes()) {
            Ok(hp) => hp,
            Err(_) => (a.trim_matches(['[', ']']).to_owned(), tunnel.port),
        },
        None => (tunnel.host.clone(), tunnel.port),
    };
    let scheme = match parts.uri.scheme_str() {
        Some(scheme) if !tunnel.reverse => scheme,
        _ => tunnel.scheme(),
    };
    let target = record::Target {
        scheme: scheme.to_owned(),
        host,
        port,
        path: Bytes::copy_from_slice(
            parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .as_bytes(),
        ),
    };
    let authority = match authority {
        Some(_) if tunnel.reverse && !shared.session.live.options.keep_host_header => {
            Some(record::host_port(&target))
        }
        other => other,
    };
    let request = record::request_dict(
        Bytes::copy_from_slice(parts.method.as_str().as_bytes()),
        &target,
        Bytes::from(authority.unwrap_or_default()),
        convert::fields_value(&parts.headers),
        Bytes::from_static(b"HTTP/2.0"),
        start,
    );
    let session = &shared.session;
    let flow = record::flow(session.conn.clone(), session.unconnected(), request, start);
    let length = if hyper::body::Body::is_end_stream(&body) {
        Some(0)
    } else {
        hyper::body::Body::size_hint(&body).exact()
    };
    let (tx, rx) = oneshot::channel();
    let mut down = H2Down {
        body: Some(body),
        length,
        respond: Some(tx),
    };
    let runs = shared.clone();
    let task = tokio::spawn(async move {
        let _ = exchange::run(&runs.session, &runs.pool, &mut down, flow, false).await;
    });
    {
        let mut streams = shared.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.retain(|t| !t.is_finished());
        streams.push(task.abort_handle());
    }
    rx.await.map_err(|_| Reset)
}
