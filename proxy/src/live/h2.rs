//! HTTP/2 with hyper, on both sides: a client speaking h2 in an
//! intercepted tunnel, each stream one flow, streams independent; and
//! servers spoken to in h2. Either side may be HTTP/1.1 while the other is
//! h2; flows are translated between the two.
//!
//! HTTP/2 bodies are kept whole (not streamed).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use super::client::{Hooked, Tunnel, dial, hook, key_of, panicked};
use super::send::{self, Field};
use super::upstream::{H2Upstream, Link, Pool, Upstream};
use super::wire::WireError;
use super::{Live, record};
use crate::flow::Flow;
use crate::h1;
use crate::http::{self as fields, Which};
use crate::script::Event;
use crate::tnetstring::{Dict, Value};

/// Fields HTTP/2 forbids (RFC 9113 §8.2.2), and Host, which becomes
/// `:authority`.
fn h2_forbidden(name: &[u8]) -> bool {
    [
        &b"connection"[..],
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
}

fn header_map(fields: &[Field<'_>], length: Option<usize>) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(fields.len() + 1);
    for (name, value) in fields {
        if h2_forbidden(name)
            || (length.is_some() && name.eq_ignore_ascii_case(b"content-length"))
            || (name.eq_ignore_ascii_case(b"te") && !value.eq_ignore_ascii_case(b"trailers"))
        {
            continue;
        }
        // Names and values HTTP/2 cannot carry are left out rather than
        // failing the flow.
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            map.append(n, v);
        }
    }
    if let Some(len) = length {
        map.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    map
}

fn fields_value(map: &HeaderMap) -> Value {
    Value::list(
        map.iter()
            .map(|(n, v)| {
                Value::list(vec![
                    Value::bytes(n.as_str().as_bytes()),
                    Value::bytes(v.as_bytes()),
                ])
            })
            .collect(),
    )
}

fn trailers_of(map: Option<&HeaderMap>) -> Vec<(Bytes, Bytes)> {
    map.map(|m| {
        m.iter()
            .map(|(n, v)| {
                (
                    Bytes::copy_from_slice(n.as_str().as_bytes()),
                    Bytes::copy_from_slice(v.as_bytes()),
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Reads a whole body, up to `limit` bytes, and its trailers; the error
/// is the HTTP/1 reader's, so that both say the same.
pub(super) async fn collect<B>(
    body: B,
    limit: Option<u64>,
) -> Result<(Bytes, Vec<(Bytes, Bytes)>), WireError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::fmt::Display + Send + Sync + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let max = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let collected = Limited::new(body, max).collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            WireError::TooLarge(limit.unwrap_or_default())
        } else {
            WireError::Io(std::io::Error::other(e.to_string()))
        }
    })?;
    let trailers = trailers_of(collected.trailers());
    Ok((collected.to_bytes(), trailers))
}

/// Sends a flow's request over an HTTP/2 server connection; the response
/// head comes back, its body to be read.
pub(super) async fn send(
    h2: &mut H2Upstream,
    flow: &Flow,
    timeout: Duration,
) -> Result<Response<Incoming>, String> {
    let req = flow.request().expect("an HTTP flow has a request");
    let text = |key: &str| String::from_utf8_lossy(fields::raw(req, key)).into_owned();
    let body = fields::raw_content(req).cloned().unwrap_or_default();
    let authority = match fields::header(req, "host") {
        Some(host) if req.get("authority").and_then(Value::as_bytes) == Some(b"") => {
            String::from_utf8_lossy(host).into_owned()
        }
        _ => send::authority(req),
    };
    let uri = format!("{}://{authority}{}", text("scheme"), text("path"));
    let has_body = !body.is_empty() || fields::header(req, "content-length").is_some();
    let mut request = Request::builder()
        .method(fields::raw(req, "method"))
        .uri(&uri)
        .version(http::Version::HTTP_2)
        .body(Full::new(body.clone()))
        .map_err(|e| format!("the request cannot go over HTTP/2 ({uri}): {e}"))?;
    *request.headers_mut() = header_map(&send::end_to_end(req), has_body.then_some(body.len()));
    h2.sender
        .ready()
        .await
        .map_err(|e| format!("the HTTP/2 connection to the server failed: {e}"))?;
    match tokio::time::timeout(timeout, h2.sender.send_request(request)).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(format!("the server failed the HTTP/2 stream: {e}")),
        Err(_) => Err(format!(
            "the server sent no response in {}s",
            timeout.as_secs()
        )),
    }
}

/// A flow over an HTTP/2 server connection, for either kind of client:
/// the request sent, the response head recorded, `response_headers` fired,
/// then (unless a hook stopped it) the whole body read. The caller answers
/// the client.
pub(super) async fn exchange(
    live: &Arc<Live>,
    mut h2: H2Upstream,
    flow: &mut Flow,
) -> Result<Hooked, String> {
    flow.dict_mut().insert("server_conn", h2.conn.clone());
    let options = &live.options;
    let response = send(&mut h2, flow, options.response_timeout).await?;
    let (parts, body) = response.into_parts();
    flow.dict_mut().insert(
        "response",
        Value::Dict(response_dict(&parts, record::now()).into()),
    );
    let hooked = hook(live, Event::ResponseHeaders, flow).await;
    if hooked != Hooked::Go {
        return Ok(hooked);
    }
    let (body, trailers) = collect(body, options.body_size_limit)
        .await
        .map_err(|e| format!("reading the response body failed: {e}"))?;
    let resp = flow.message_mut(Which::Response).expect("set above");
    record::finish_message(resp, Some(body), &trailers, record::now());
    Ok(Hooked::Go)
}

/// A response dict from an HTTP/2 response head.
pub(super) fn response_dict(parts: &http::response::Parts, start: f64) -> Dict {
    record::response_dict(
        parts.status.as_u16(),
        Bytes::new(),
        fields_value(&parts.headers),
        Bytes::from_static(b"HTTP/2.0"),
        start,
    )
}

/// A stream the proxy resets instead of answering (a killed flow).
#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the flow was killed")
    }
}

impl std::error::Error for Reset {}

type Answer = Result<Response<Full<Bytes>>, Reset>;

/// One h2 client connection in an intercepted tunnel.
struct H2Client {
    live: Arc<Live>,
    conn: Value,
    tunnel: Tunnel,
    pool: Mutex<Pool>,
}

/// Serves an h2 client until it goes away or the proxy shuts down.
pub(super) async fn serve<IO>(
    io: IO,
    live: Arc<Live>,
    conn: Value,
    tunnel: Tunnel,
    pool: Pool,
    closing: &mut watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let shared = Arc::new(H2Client {
        live,
        conn,
        tunnel,
        pool: Mutex::new(pool),
    });
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { shared.stream(req).await }
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
}

/// The client's response to a flow.
fn answer(flow: &Flow) -> Response<Full<Bytes>> {
    let resp = flow.message(Which::Response).expect("answering with one");
    let status = resp
        .get("status_code")
        .and_then(Value::as_int)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    // A bodiless response (HEAD, 204, 304) keeps the server's length.
    let body = send::client_body(flow);
    let length = body.as_ref().map(Bytes::len);
    let mut response = Response::new(Full::new(body.unwrap_or_default()));
    *response.status_mut() = status;
    *response.headers_mut() = header_map(&send::end_to_end(resp), length);
    response
}

fn simple(status: u16, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("waylay: {text}\n"))));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

impl H2Client {
    async fn hook(&self, event: Event, flow: &mut Flow) -> Hooked {
        hook(&self.live, event, flow).await
    }

    /// The flow failed: recorded, `error` fired, the client told.
    async fn fail(&self, mut flow: Flow, what: &str, status: u16) -> Answer {
        flow.set_error(what, record::now());
        let outcome = self.live.flow_event(Event::Error, &mut flow).await;
        self.live.finish(&flow);
        if outcome.killed {
            return Err(Reset);
        }
        Ok(simple(status, what))
    }

    fn killed(&self, flow: &Flow) -> Answer {
        self.live.finish(flow);
        Err(Reset)
    }

    /// One stream, start to finish.
    async fn stream(&self, req: Request<Incoming>) -> Answer {
        let start = record::now();
        let (parts, body) = req.into_parts();
        let authority = parts.uri.authority().map(|a| a.as_str().to_owned());
        let (host, port) = match &authority {
            Some(a) => match record::parse_authority(a.as_bytes()) {
                Ok(hp) => hp,
                Err(_) => (a.trim_matches(['[', ']']).to_owned(), self.tunnel.port),
            },
            None => (self.tunnel.host.clone(), self.tunnel.port),
        };
        let target = record::Target {
            scheme: parts
                .uri
                .scheme_str()
                .unwrap_or(self.tunnel.scheme())
                .to_owned(),
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
        let request = record::request_dict(
            Bytes::copy_from_slice(parts.method.as_str().as_bytes()),
            &target,
            Bytes::from(authority.unwrap_or_default()),
            fields_value(&parts.headers),
            Bytes::from_static(b"HTTP/2.0"),
            start,
        );
        let mut flow = record::flow(self.conn.clone(), request, start);
        match self.hook(Event::RequestHeaders, &mut flow).await {
            Hooked::Go => {}
            Hooked::Killed => return self.killed(&flow),
            Hooked::Panicked(e) => return self.fail(flow, &panicked(e), 502).await,
        }
        self.live.track(&flow);
        match collect(body, self.live.options.body_size_limit).await {
            Ok((body, trailers)) => {
                let req = flow.message_mut(Which::Request).expect("just built");
                record::finish_message(req, Some(body), &trailers, record::now());
            }
            Err(e) => {
                let status = if matches!(e, WireError::TooLarge(_)) {
                    413
                } else {
                    400
                };
                let what = format!("reading the request body failed: {e}");
                return self.fail(flow, &what, status).await;
            }
        }
        match self.hook(Event::Request, &mut flow).await {
            Hooked::Go => {}
            Hooked::Killed => return self.killed(&flow),
            Hooked::Panicked(e) => return self.fail(flow, &panicked(e), 502).await,
        }
        let events: &[Event] = if flow.response().is_some() {
            // Answered by a script: both response hooks, no server.
            &[Event::ResponseHeaders, Event::Response]
        } else {
            self.live.track(&flow);
            match self.forward(&mut flow).await {
                Ok(Hooked::Go) => {}
                Ok(Hooked::Killed) => return self.killed(&flow),
                Ok(Hooked::Panicked(e)) => return self.fail(flow, &panicked(e), 502).await,
                Err(e) => return self.fail(flow, &e, 502).await,
            }
            &[Event::Response]
        };
        for &event in events {
            match self.hook(event, &mut flow).await {
                Hooked::Go => {}
                Hooked::Killed => return self.killed(&flow),
                Hooked::Panicked(e) => return self.fail(flow, &panicked(e), 502).await,
            }
        }
        let response = answer(&flow);
        self.live.finish(&flow);
        Ok(response)
    }

    /// Forwards the flow over h2 or HTTP/1.1, whichever the server
    /// speaks; `response_headers` fires on the way.
    async fn forward(&self, flow: &mut Flow) -> Result<Hooked, String> {
        let key = key_of(flow);
        let pooled = {
            let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
            match pool.h2(&key) {
                Some(h2) => Some(Link::H2(h2)),
                None => pool.take(&key).map(Link::H1),
            }
        };
        let link = match pooled {
            Some(link) => link,
            None => dial(&self.live, flow, &key, true).await?,
        };
        match link {
            Link::H2(h2) => {
                self.pool
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .put_h2(key, h2.clone());
                exchange(&self.live, h2, flow).await
            }
            Link::H1(up) => self.forward_h1(flow, up, key).await,
        }
    }

    /// The flow translated to HTTP/1.1 for a server that speaks only that.
    async fn forward_h1(
        &self,
        flow: &mut Flow,
        mut up: Upstream,
        key: super::upstream::Key,
    ) -> Result<Hooked, String> {
        let options = &self.live.options;
        flow.dict_mut().insert("server_conn", up.conn.clone());
        up.send(&send::request(flow))
            .await
            .map_err(|e| format!("sending the request failed: {e}"))?;
        let (head, status) = up.response_head(options.response_timeout).await?;
        let method = fields::raw(flow.request().expect("a request"), "method").to_vec();
        let kind = h1::response_body(&method, status, &head)
            .map_err(|e| format!("invalid response from the server: {e}"))?;
        flow.dict_mut().insert(
            "response",
            Value::Dict(record::response(&head, status, record::now()).into()),
        );
        let hooked = self.hook(Event::ResponseHeaders, flow).await;
        if hooked != Hooked::Go {
            return Ok(hooked);
        }
        let (body, trailers) = up
            .reader
            .body(kind, options.body_size_limit)
            .await
            .map_err(|e| format!("reading the response body failed: {e}"))?;
        let resp = flow.message_mut(Which::Response).expect("set above");
        record::finish_message(resp, Some(body), &trailers, record::now());
        let reusable = kind != h1::BodyKind::Close && !super::client::wants_close(&head);
        if reusable {
            self.pool
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(key, up);
        }
        Ok(Hooked::Go)
    }
}
