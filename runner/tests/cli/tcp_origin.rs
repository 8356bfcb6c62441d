//! A raw TCP origin for live tests: it answers every chunk with `ECHO `
//! and the chunk; a `banner` one speaks first (`HELLO from server\n`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

/// A running TCP origin; it stops with the test process.
pub struct TcpOrigin {
    pub addr: SocketAddr,
}

impl TcpOrigin {
    /// Starts on an ephemeral loopback port; `banner` speaks first.
    pub fn start(banner: bool) -> TcpOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || echo(stream, banner));
            }
        });
        TcpOrigin { addr }
    }
}

fn echo(mut stream: TcpStream, banner: bool) {
    if banner && stream.write_all(b"HELLO from server\n").is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let mut out = b"ECHO ".to_vec();
                out.extend_from_slice(&buf[..n]);
                if stream.write_all(&out).is_err() {
                    return;
                }
            }
        }
    }
}

/// A CONNECT tunnel through the proxy at `proxy` to `to`, its `200`
/// checked and nothing after the head read.
pub fn tunnel(proxy: &str, to: SocketAddr) -> TcpStream {
    let mut client = TcpStream::connect(proxy).unwrap();
    let connect = format!("CONNECT {to} HTTP/1.1\r\nHost: {to}\r\n\r\n");
    client.write_all(connect.as_bytes()).unwrap();
    let answer = read_head(&mut client);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    client
}

/// Sends `line` on `stream` and reads one answer.
pub fn exchange(stream: &mut TcpStream, line: &[u8]) -> String {
    stream.write_all(line).unwrap();
    read_some(stream)
}

/// A proxy's answer head (through the blank line), read a byte at a time
/// so that whatever the peer sends after it stays in the socket.
pub fn read_head(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// One read's worth of what the peer sent, as text.
pub fn read_some(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// A TCP echo origin over TLS (for localhost and 127.0.0.1), and the PEM
/// file that trusts it.
pub struct TlsEcho {
    pub addr: SocketAddr,
    pub ca_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsEcho {
    /// Starts on an ephemeral loopback port.
    pub fn start() -> TlsEcho {
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .unwrap();
        let cert = params.self_signed(&key).unwrap();
        let ca_file = dir.path().join("echo.pem");
        std::fs::write(&ca_file, cert.pem()).unwrap();
        let der = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()),
        );
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                while let Ok((stream, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(stream).await else {
                            return;
                        };
                        let mut buf = [0u8; 4096];
                        while let Ok(n) = tls.read(&mut buf).await {
                            let mut out = b"ECHO ".to_vec();
                            out.extend_from_slice(&buf[..n]);
                            if n == 0 || tls.write_all(&out).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            });
        });
        TlsEcho {
            addr,
            ca_file,
            _dir: dir,
        }
    }
}
