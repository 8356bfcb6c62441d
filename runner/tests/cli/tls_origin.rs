//! An in-process HTTPS origin for live tests: rustls and hyper, HTTP/2 or
//! HTTP/1.1 by ALPN, with a certificate that is good, self-signed,
//! expired or for another host.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The certificate the origin shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cert {
    /// Signed by the origin's CA (in `ca_file`) for localhost and
    /// 127.0.0.1.
    Trusted,
    /// Signed by nobody.
    SelfSigned,
    /// Signed by the CA, but out of date.
    Expired,
    /// Signed by the CA for another name.
    WrongHost,
}

/// A running origin; it stops with the test process.
pub struct TlsOrigin {
    pub addr: SocketAddr,
    /// The PEM file of the CA that signs a `Trusted` certificate.
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
    stats: Arc<Stats>,
}

#[derive(Default)]
struct Stats {
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

fn params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(30);
    params
}

impl TlsOrigin {
    /// Starts serving on an ephemeral loopback port; `h2` offers HTTP/2
    /// by ALPN (else HTTP/1.1 only).
    pub fn start(cert: Cert, h2: bool) -> TlsOrigin {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = params(&[]);
        ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "test origin CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca_file = dir.path().join("origin-ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let leaf = match cert {
            Cert::Trusted => params(&["localhost", "127.0.0.1"])
                .signed_by(&key, &issuer)
                .unwrap(),
            Cert::SelfSigned => params(&["localhost", "127.0.0.1"])
                .self_signed(&key)
                .unwrap(),
            Cert::Expired => {
                let mut p = params(&["localhost", "127.0.0.1"]);
                p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(60);
                p.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(30);
                p.signed_by(&key, &issuer).unwrap()
            }
            Cert::WrongHost => params(&["elsewhere.example"])
                .signed_by(&key, &issuer)
                .unwrap(),
        };
        let chain = vec![
            leaf.der().clone(),
            CertificateDer::from(ca_cert.der().to_vec()),
        ];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let (addr, stats) = serve_with(chain, key, h2);
        TlsOrigin {
            addr,
            ca_file,
            _dir: dir,
            stats,
        }
    }

    /// An origin showing the certificate and key in these PEM files (made
    /// with openssl in a test); `ca_file` is the certificate itself.
    pub fn from_pem(cert: &std::path::Path, key: &std::path::Path, h2: bool) -> TlsOrigin {
        use rustls::pki_types::pem::PemObject;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let (addr, stats) = serve_with(chain, key, h2);
        TlsOrigin {
            addr,
            ca_file: cert.to_owned(),
            _dir: tempfile::tempdir().unwrap(),
            stats,
        }
    }

    /// `https://localhost:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// The most requests it has had in progress at once.
    pub fn most_in_flight(&self) -> usize {
        self.stats.most_in_flight.load(Ordering::SeqCst)
    }
}

/// Serves `chain` and `key` on an ephemeral loopback port.
fn serve_with(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    h2: bool,
) -> (SocketAddr, Arc<Stats>) {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    config.alpn_protocols = if h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let stats = Arc::new(Stats::default());
    let shared = stats.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(serve(listener, acceptor, shared));
    });
    (addr, stats)
}

async fn serve(
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    stats: Arc<Stats>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, stats) = (acceptor.clone(), stats.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            let service = hyper::service::service_fn(move |req| respond(req, stats.clone()));
            let io = TokioIo::new(tls);
            if h2 {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(io, service)
                    .await;
            } else {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            }
        });
    }
}

/// `mb` MiB of zeros, made 64 KiB at a time as the client reads them.
fn zeros(mb: usize) -> BoxBody<Bytes, std::convert::Infallible> {
    let chunk = Bytes::from(vec![0u8; 64 * 1024]);
    let frames = (0..mb * 16).map(move |_| Ok(Frame::data(chunk.clone())));
    StreamBody::new(futures_util::stream::iter(frames)).boxed()
}

async fn respond(
    req: Request<hyper::body::Incoming>,
    stats: Arc<Stats>,
) -> Result<Response<BoxBody<Bytes, std::convert::Infallible>>, std::convert::Infallible> {
    // /zeros/N: N MiB streamed; /count: how many bytes the upload had,
    // read as they come.
    if let Some(mb) = req.uri().path().strip_prefix("/zeros/") {
        return Ok(Response::new(zeros(mb.parse().unwrap_or(1))));
    }
    if req.uri().path() == "/count" {
        let mut body = req.into_body();
        let mut total = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            total += frame.data_ref().map_or(0, |d| d.len() as u64);
        }
        return Ok(Response::new(
            Full::new(Bytes::from(total.to_string())).boxed(),
        ));
    }
    let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let version = format!("{:?}", req.version());
    let path = req.uri().path().to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (kind, text): (&str, Bytes) = match path.as_str() {
        "/hello" => ("text/plain", Bytes::from_static(b"hello from origin\n")),
        p if p.ends_with("/echo") => ("application/octet-stream", body),
        "/page.html" => (
            "text/html; charset=utf-8",
            Bytes::from_static(
                b"<html><body><p id=\"page\">hello from the page</p><script src=\"/app.js\"></script></body></html>",
            ),
        ),
        "/app.js" => (
            "text/javascript",
            Bytes::from_static(
                b"document.body.insertAdjacentHTML('beforeend', '<p id=\"script\">hello from the script</p>');",
            ),
        ),
        p if p.starts_with("/slow/") => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            ("text/plain", Bytes::from(format!("{p} over {version}\n")))
        }
        // What the origin saw: /version, /reroute/version...
        _ => ("text/plain", Bytes::from(format!("{version}\n"))),
    };
    stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut response = Response::new(Full::new(text).boxed());
    response
        .headers_mut()
        .insert("content-type", kind.parse().unwrap());
    response
        .headers_mut()
        .insert("x-origin-version", version.parse().unwrap());
    Ok(response)
}
