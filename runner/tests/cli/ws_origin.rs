//! An in-process WebSocket origin for live tests, plain or TLS, with
//! tokio-tungstenite: `/` is a page that opens a WebSocket back to it,
//! `/ws/echo` echoes each message with `echo: ` in front and answers a
//! close with the same code, `/ws/bye` closes with 4000 after the first
//! message, `/ws/reset` drops the connection mid-frame instead of an
//! answer; an upgrade to `raw-echo` is answered 101 and echoes bytes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use rcgen::{CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The page Chromium loads: it opens a WebSocket back to its origin, sends
/// one message and shows every message it gets. Headless Chromium's
/// virtual time stands still while a fetch is pending, and a WebSocket is
/// not one; so the page holds a fetch open (`/hold`, answered after four
/// seconds at the latest) until it has two messages.
const PAGE: &str = r#"<!doctype html><html><body><p id="got">nothing yet</p><script>
const hold = new AbortController();
fetch('/hold', { signal: hold.signal }).catch(() => {});
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/echo');
const got = [];
ws.onopen = () => ws.send('hello from the page');
ws.onmessage = (e) => {
  got.push(e.data);
  document.getElementById('got').textContent = got.join(' | ');
  if (got.length >= 2) hold.abort();
};
</script></body></html>"#;

/// A running origin; it stops with the test process.
pub struct WsOrigin {
    pub addr: SocketAddr,
    /// The CA that signed a TLS origin's certificate, for
    /// `ssl_verify_upstream_trusted_ca`.
    pub ca_file: Option<PathBuf>,
    tls: bool,
    _dir: tempfile::TempDir,
}

fn params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(30);
    params
}

/// A TLS acceptor for localhost and the CA file that trusts it.
fn acceptor(dir: &tempfile::TempDir) -> (tokio_rustls::TlsAcceptor, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = params(&[]);
    ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca_file = dir.path().join("ws-origin-ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf = params(&["localhost", "127.0.0.1"])
        .signed_by(&key, &issuer)
        .unwrap();
    let chain = vec![
        leaf.der().clone(),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca_file)
}

impl WsOrigin {
    /// Starts serving on an ephemeral loopback port, over TLS when `tls`.
    pub fn start(tls: bool) -> WsOrigin {
        let dir = tempfile::tempdir().unwrap();
        let (acceptor, ca_file) = if tls {
            let (a, f) = acceptor(&dir);
            (Some(a), Some(f))
        } else {
            (None, None)
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                while let Ok((stream, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor {
                            Some(a) => {
                                if let Ok(tls) = a.accept(stream).await {
                                    serve(tls).await;
                                }
                            }
                            None => serve(stream).await,
                        }
                    });
                }
            });
        });
        WsOrigin {
            addr,
            ca_file,
            tls,
            _dir: dir,
        }
    }

    /// `ws://127.0.0.1:PORT/path` or `wss://localhost:PORT/path`.
    pub fn ws_url(&self, path: &str) -> String {
        if self.tls {
            format!("wss://localhost:{}{path}", self.addr.port())
        } else {
            format!("ws://{}{path}", self.addr)
        }
    }

    /// The page's URL.
    pub fn page_url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}/", self.addr.port())
        } else {
            format!("http://{}/", self.addr)
        }
    }
}

/// Reads a request head byte by byte, so nothing after it is taken.
async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> Option<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if io.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) {
    let Some(head) = read_head(&mut io).await else {
        return;
    };
    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let key = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_owned())
    });
    if head.to_ascii_lowercase().contains("upgrade: raw-echo") {
        let switch =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw-echo\r\nConnection: Upgrade\r\n\r\n";
        if io.write_all(switch.as_bytes()).await.is_err() {
            return;
        }
        let mut buf = [0u8; 4096];
        while let Ok(n) = io.read(&mut buf).await {
            if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
        return;
    }
    if path == "/hold" {
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        let _ = io
            .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
            .await;
        return;
    }
    let Some(key) = key else {
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{PAGE}",
            PAGE.len()
        );
        let _ = io.write_all(answer.as_bytes()).await;
        return;
    };
    let accept = derive_accept_key(key.as_bytes());
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    if io.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    while let Some(Ok(message)) = ws.next().await {
        match message {
            Message::Text(text) => {
                if path == "/ws/reset" {
                    // Half a frame, then gone.
                    let raw = ws.get_mut();
                    let _ = raw.write_all(&[0x81, 0x7e, 0x01]).await;
                    return;
                }
                let _ = ws.send(Message::text(format!("echo: {text}"))).await;
                if path == "/ws/bye" {
                    let bye = CloseFrame {
                        code: CloseCode::from(4000),
                        reason: "server says bye".into(),
                    };
                    let _ = ws.close(Some(bye)).await;
                }
            }
            Message::Binary(data) => {
                let mut echoed = b"echo: ".to_vec();
                echoed.extend_from_slice(&data);
                let _ = ws.send(Message::binary(echoed)).await;
            }
            Message::Close(_) => {}
            _ => {}
        }
    }
}
