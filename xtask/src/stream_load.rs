//! `bench h2stream`'s two ends: an HTTPS origin speaking h2 or HTTP/1.1
//! by ALPN (hyper, one thread) that answers `GET /bytes/N` with N bytes
//! made as they are sent, and a client that downloads one such body
//! through a proxy's CONNECT tunnel with hyper, reading it as it comes
//! (optionally no faster than a given rate).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;

use crate::tls_load;

/// A body of `left` bytes, made 64 KiB at a time as the connection takes
/// them.
struct Filler {
    left: u64,
    chunk: Bytes,
}

impl Body for Filler {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(self.chunk.len() as u64) as usize;
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// `GET /bytes/N`: N bytes, with an `x-origin-alpn` field naming the
/// protocol the origin spoke (so the client can tell what the proxy chose
/// upstream).
fn answer(req: &Request<Incoming>, alpn: &'static str) -> Response<Filler> {
    let size = req
        .uri()
        .path()
        .strip_prefix("/bytes/")
        .and_then(|n| n.parse().ok());
    let mut response = Response::new(Filler {
        left: size.unwrap_or(0),
        chunk: Bytes::from(vec![b's'; 64 * 1024]),
    });
    if size.is_none() {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    response.headers_mut().insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(size.unwrap_or(0)),
    );
    response
        .headers_mut()
        .insert("x-origin-alpn", http::HeaderValue::from_static(alpn));
    response
}

/// Starts the origin on a thread of its own; returns its port and the PEM
/// file of the CA that signed its certificate (for localhost).
pub fn origin(dir: &Path) -> Result<(u16, PathBuf)> {
    let alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tls_load::tls_origin(dir, alpn, |tls| async move {
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let io = TokioIo::new(tls);
        if h2 {
            let service =
                hyper::service::service_fn(
                    |req| async move { Ok::<_, Infallible>(answer(&req, "h2")) },
                );
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(io, service)
                .await;
        } else {
            let service = hyper::service::service_fn(|req| async move {
                Ok::<_, Infallible>(answer(&req, "http/1.1"))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        }
    })
}

/// One download: `size` bytes from the origin at `origin_port`, through
/// the proxy at `proxy` (trusting `ca`) or directly (trusting the
/// origin's CA), over h2 or HTTP/1.1, read no faster than `max_rate`
/// bytes/s if set.
#[derive(Clone, Debug)]
pub struct Fetch {
    pub origin_port: u16,
    pub proxy: Option<SocketAddr>,
    pub ca: PathBuf,
    pub h2: bool,
    pub size: u64,
    pub max_rate: Option<f64>,
}

/// What a download saw.
#[derive(Debug)]
pub struct Fetched {
    pub bytes: u64,
    pub seconds: f64,
    /// What the client's TLS handshake agreed, and what the origin says
    /// it spoke.
    pub client_alpn: String,
    pub origin_alpn: String,
}

/// Downloads as `fetch` says, within `limit`.
pub async fn download(fetch: &Fetch, limit: Duration) -> Result<Fetched> {
    tokio::time::timeout(limit, download_now(fetch))
        .await
        .with_context(|| format!("the download took over {} s", limit.as_secs()))?
}

async fn download_now(fetch: &Fetch) -> Result<Fetched> {
    let started = Instant::now();
    let port = fetch.origin_port;
    let tcp = match fetch.proxy {
        Some(proxy) => tls_load::tunnel(proxy, port).await?,
        None => tokio::net::TcpStream::connect(("127.0.0.1", port)).await?,
    };
    let alpn: &[&[u8]] = if fetch.h2 { &[b"h2"] } else { &[b"http/1.1"] };
    let config = tls_load::client_config(&fetch.ca, alpn)?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let client_alpn = tls
        .get_ref()
        .1
        .alpn_protocol()
        .map_or("none".into(), |p| String::from_utf8_lossy(p).into_owned());
    let io = TokioIo::new(tls);
    let path = format!("/bytes/{}", fetch.size);
    let response = if fetch.h2 {
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(conn);
        let uri = format!("https://localhost:{port}{path}");
        send.send_request(Request::get(uri).body(Empty::<Bytes>::new())?)
            .await?
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        let request = Request::get(path)
            .header(http::header::HOST, format!("localhost:{port}"))
            .body(Empty::<Bytes>::new())?;
        send.send_request(request).await?
    };
    if response.status() != StatusCode::OK {
        bail!("the download was answered {}", response.status());
    }
    let origin_alpn = response
        .headers()
        .get("x-origin-alpn")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_owned();
    let mut body = response.into_body();
    let mut bytes = 0u64;
    let reading = Instant::now();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            bytes += data.len() as u64;
        }
        if let Some(rate) = fetch.max_rate {
            let due = Duration::from_secs_f64(bytes as f64 / rate);
            if let Some(wait) = due.checked_sub(reading.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
    if bytes != fetch.size {
        bail!("{bytes} bytes arrived of {}", fetch.size);
    }
    Ok(Fetched {
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        client_alpn,
        origin_alpn,
    })
}
