//! `bench tls`'s two ends: an HTTPS origin answering 1 KiB per request on
//! keep-alive connections, and a load client that speaks HTTPS to it
//! directly or through a proxy's CONNECT tunnel. Both are plain tokio and
//! rustls with no HTTP library in the way, so that the client costs little
//! next to what it measures.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration for `localhost` (no ALPN set), and the PEM
/// file of the CA that signed its certificate, written into `dir`.
pub fn server_config(dir: &Path) -> Result<(rustls::ServerConfig, PathBuf)> {
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "bench origin CA");
    let now = time::OffsetDateTime::now_utc();
    ca_params.not_before = now - time::Duration::days(1);
    ca_params.not_after = now + time::Duration::days(30);
    let ca = ca_params.self_signed(&ca_key)?;
    let ca_file = dir.join("bench-origin-ca.pem");
    std::fs::write(&ca_file, ca.pem())?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(30);
    let leaf = params.signed_by(&key, &issuer)?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?;
    Ok((config, ca_file))
}

/// Starts the HTTPS origin on a thread of its own; returns its port and
/// the PEM file of the CA that signed its certificate (for localhost).
pub fn origin(dir: &Path) -> Result<(u16, PathBuf)> {
    tls_origin(dir, vec![b"http/1.1".to_vec()], serve)
}

/// An HTTPS origin for `localhost` on a thread of its own
/// (`load::origin`), offering `alpn`; `handle` serves each connection after the
/// handshake. Returns its port and the PEM file of its CA.
pub fn tls_origin<F, Fut>(dir: &Path, alpn: Vec<Vec<u8>>, handle: F) -> Result<(u16, PathBuf)>
where
    F: Fn(tokio_rustls::server::TlsStream<TcpStream>) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (mut config, ca_file) = server_config(dir)?;
    config.alpn_protocols = alpn;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let port = crate::load::origin("tls-origin", move |stream: TcpStream| {
        let acceptor = acceptor.clone();
        async move {
            let _ = stream.set_nodelay(true);
            if let Ok(tls) = acceptor.accept(stream).await {
                handle(tls).await;
            }
        }
    })?;
    Ok((port, ca_file))
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let body = [b'x'; 1024];
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut out = Vec::new();
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            out.extend_from_slice(&response);
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
    }
}

/// Where the client goes: to `origin` directly, or through the proxy at
/// `proxy`, trusting `ca`.
#[derive(Clone, Debug)]
pub struct Target {
    pub origin_port: u16,
    pub proxy: Option<SocketAddr>,
    pub ca: PathBuf,
}

pub use crate::load::Measured;

/// A client trusting only the CA in `ca`, offering `alpn`, without
/// session resumption.
pub fn client_config(ca: &Path, alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(ca).with_context(|| format!("reading {}", ca.display()))?
    {
        roots.add(cert?)?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // Every connection is a full handshake, as a new client's would be.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn open(target: &Target, config: &Arc<rustls::ClientConfig>) -> Result<Tls> {
    let addr = target
        .proxy
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], target.origin_port)));
    let tcp = if target.proxy.is_some() {
        tunnel(addr, target.origin_port).await?
    } else {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        tcp
    };
    let connector = tokio_rustls::TlsConnector::from(config.clone());
    Ok(connector
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?)
}

/// A `CONNECT localhost:PORT` tunnel through the proxy at `proxy`, its
/// 200 read.
pub async fn tunnel(proxy: SocketAddr, port: u16) -> Result<TcpStream> {
    let mut tcp = TcpStream::connect(proxy).await?;
    tcp.set_nodelay(true)?;
    let connect = format!("CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n");
    tcp.write_all(connect.as_bytes()).await?;
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).await? == 0 {
            bail!("the proxy closed the tunnel");
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 200") && !head.starts_with(b"HTTP/1.0 200") {
        bail!("CONNECT refused: {}", String::from_utf8_lossy(&head));
    }
    Ok(tcp)
}

/// Reads one Content-Length-framed response into `buf`; returns its head,
/// lower-cased, and where the body starts.
pub async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Result<(String, usize)> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the connection closed mid-response");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .context("a response without Content-Length")?;
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    bail!("the connection closed mid-body");
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok((head, end + 4));
        }
    }
}

/// One request and its 1 KiB answer on an open connection.
async fn exchange(tls: &mut Tls, buf: &mut Vec<u8>) -> Result<()> {
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let (head, body) = read_response(tls, buf).await?;
    if !head.starts_with("http/1.1 200") {
        bail!(
            "{}: {}",
            head.lines().next().unwrap_or_default(),
            String::from_utf8_lossy(&buf[body..]).replace('\n', " ")
        );
    }
    Ok(())
}

/// Runs `connections` loops for `seconds` on a runtime with `threads`
/// workers. `fresh`: each request on a new connection (a new TLS
/// handshake, through a new tunnel); else keep-alive.
pub fn run(
    target: &Target,
    connections: usize,
    seconds: u64,
    fresh: bool,
    threads: usize,
) -> Result<Measured> {
    let config = client_config(&target.ca, &[b"http/1.1"])?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (target, config) = (target.clone(), config.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut first_error = None;
                let mut buf = Vec::new();
                let mut open_conn: Option<Tls> = None;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let result = async {
                        let mut tls = match open_conn.take() {
                            Some(tls) => tls,
                            None => open(&target, &config).await?,
                        };
                        exchange(&mut tls, &mut buf).await?;
                        if !fresh {
                            open_conn = Some(tls);
                        }
                        anyhow::Ok(())
                    }
                    .await;
                    match result {
                        Ok(()) => latencies.push(started.elapsed()),
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(format!("{e:#}"));
                        }
                    }
                }
                (latencies, errors, first_error)
            }));
        }
        let mut tallies = Vec::new();
        for task in tasks {
            let (latencies, errors, first_error) = task.await?;
            tallies.push(crate::load::Tally {
                latencies,
                errors,
                first_error,
            });
        }
        Ok(Measured::of(tallies, seconds))
    })
}
