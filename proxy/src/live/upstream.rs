//! Connections to origin servers, plain or TLS, HTTP/1.1 or HTTP/2, kept
//! per client connection and reused for later requests to the same place.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::wire::{BoxRead, BoxWrite, Reader, WireError};
use super::{Options, record};
use crate::h1::{self, Head};
use crate::tls::{self, Interceptor, Negotiated};
use crate::tnetstring::Value;

/// One open HTTP/1 connection to an origin.
pub struct Upstream {
    pub reader: Reader<BoxRead>,
    pub writer: BoxWrite,
    /// Its `server_conn` dict.
    pub conn: Value,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").finish_non_exhaustive()
    }
}

/// An HTTP/2 connection to an origin: streams are opened on it by any
/// number of flows at once.
#[derive(Clone, Debug)]
pub struct H2Upstream {
    pub sender: SendRequest<Full<Bytes>>,
    /// Its `server_conn` dict.
    pub conn: Value,
}

/// A new connection, by the protocol the server chose.
#[derive(Debug)]
pub enum Link {
    H1(Upstream),
    H2(H2Upstream),
}

impl Link {
    /// Its `server_conn` dict.
    pub fn conn(&self) -> &Value {
        match self {
            Link::H1(up) => &up.conn,
            Link::H2(up) => &up.conn,
        }
    }
}

/// Where a connection goes.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Key {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

/// A client connection's idle upstream connections.
#[derive(Debug, Default)]
pub struct Pool {
    idle: HashMap<Key, Upstream>,
    h2: HashMap<Key, H2Upstream>,
}

impl Pool {
    /// An idle HTTP/1 connection to `key`, if there is one.
    pub fn take(&mut self, key: &Key) -> Option<Upstream> {
        self.idle.remove(key)
    }

    /// Keeps an HTTP/1 connection for reuse.
    pub fn put(&mut self, key: Key, upstream: Upstream) {
        self.idle.insert(key, upstream);
    }

    /// A live HTTP/2 connection to `key`, shared.
    pub fn h2(&mut self, key: &Key) -> Option<H2Upstream> {
        match self.h2.get(key) {
            Some(up) if up.sender.is_closed() => {
                self.h2.remove(key);
                None
            }
            other => other.cloned(),
        }
    }

    /// Keeps an HTTP/2 connection for every later flow to `key`.
    pub fn put_h2(&mut self, key: Key, upstream: H2Upstream) {
        self.h2.insert(key, upstream);
    }
}

/// How to speak TLS to the server.
#[derive(Debug)]
pub struct TlsTo<'a> {
    pub interceptor: &'a Interceptor,
    /// The name to send as SNI and check the certificate against.
    pub sni: Option<String>,
    pub alpn: Vec<Vec<u8>>,
}

/// Opens a connection to `key`; the error is one line for the flow.
pub async fn connect(key: &Key, tls: Option<TlsTo<'_>>, options: &Options) -> Result<Link, String> {
    let (stream, conn) = tcp(key, options).await?;
    secure(stream, conn, key, tls, options).await
}

/// The TCP half of `connect`: the stream and its `server_conn` dict.
pub async fn tcp(key: &Key, options: &Options) -> Result<(TcpStream, Value), String> {
    let (host, port) = (key.host.as_str(), key.port);
    let timeout = options.connect_timeout;
    let start = record::now();
    let stream = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(format!("cannot connect to {host}:{port}: {e}")),
        Err(_) => {
            return Err(format!(
                "cannot connect to {host}:{port}: no answer in {}s",
                timeout.as_secs()
            ));
        }
    };
    let _ = stream.set_nodelay(true);
    let (peer, sock) = (stream.peer_addr(), stream.local_addr());
    let (Ok(peer), Ok(sock)) = (peer, sock) else {
        return Err(format!(
            "cannot connect to {host}:{port}: the connection closed at once"
        ));
    };
    let conn = record::server_conn(host, port, peer, sock, start, record::now());
    Ok((stream, conn))
}

/// An HTTP/1 connection whose bodies fail when the server stops sending
/// for the response timeout, instead of holding the flow forever.
fn h1(read: BoxRead, writer: BoxWrite, conn: Value, options: &Options) -> Link {
    let mut reader = Reader::new(read);
    reader.set_idle(options.response_timeout);
    Link::H1(Upstream {
        reader,
        writer,
        conn,
    })
}

/// The rest of `connect`: TLS if asked for, then HTTP/2 if the server
/// chose it.
pub async fn secure(
    stream: TcpStream,
    mut conn: Value,
    key: &Key,
    tls: Option<TlsTo<'_>>,
    options: &Options,
) -> Result<Link, String> {
    let (host, port) = (key.host.as_str(), key.port);
    let timeout = options.connect_timeout;
    let Some(tls) = tls else {
        let (read, writer) = stream.into_split();
        return Ok(h1(Box::new(read), Box::new(writer), conn, options));
    };
    let name = tls.sni.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_owned())
        .map_err(|_| format!("cannot speak TLS to {host}:{port}: {name:?} is not a host name"))?;
    let connector =
        tokio_rustls::TlsConnector::from(tls.interceptor.client_config(tls.alpn.clone()));
    let stream = match tokio::time::timeout(timeout, connector.connect(server_name, stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(tls::describe_upstream_error(&e, host, port)),
        Err(_) => {
            return Err(format!(
                "the TLS handshake with {host}:{port} got no answer in {}s",
                timeout.as_secs()
            ));
        }
    };
    let (_, state) = stream.get_ref();
    let negotiated = Negotiated::of(state, tls.sni.clone(), tls.alpn.clone());
    if let Some(d) = conn.as_dict_mut() {
        negotiated.record(d, record::now());
    }
    if negotiated.alpn.as_deref() == Some(tls::ALPN_H2) {
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .map_err(|e| format!("HTTP/2 with {host}:{port} failed: {e}"))?;
        tokio::spawn(connection);
        return Ok(Link::H2(H2Upstream { sender, conn }));
    }
    let (read, writer) = tokio::io::split(stream);
    Ok(h1(Box::new(read), Box::new(writer), conn, options))
}

/// The SNI to send for a host: none for an IP address.
pub fn sni_for(host: &str) -> Option<String> {
    host.parse::<std::net::IpAddr>()
        .is_err()
        .then(|| host.to_owned())
}

/// ALPN offers for a connection a flow opens: h2 where allowed.
pub fn offers(allow_h2: bool) -> Vec<Vec<u8>> {
    if allow_h2 {
        vec![tls::ALPN_H2.to_vec(), tls::ALPN_H1.to_vec()]
    } else {
        vec![tls::ALPN_H1.to_vec()]
    }
}

impl Upstream {
    /// Sends a whole request.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes).await
    }

    /// Reads the final response head, skipping interim (1xx) ones other
    /// than 101.
    pub async fn response_head(&mut self, timeout: Duration) -> Result<(Head, u16), String> {
        loop {
            let head =
                match tokio::time::timeout(timeout, self.reader.head(h1::parse_response)).await {
                    Err(_) => {
                        return Err(format!(
                            "the server sent no response in {}s",
                            timeout.as_secs()
                        ));
                    }
                    Ok(Err(WireError::Head(e))) => {
                        return Err(format!("invalid response from the server: {e}"));
                    }
                    Ok(Err(e)) => return Err(format!("reading the response failed: {e}")),
                    Ok(Ok(None)) => {
                        return Err("the server closed the connection without a response".into());
                    }
                    Ok(Ok(Some(head))) => head,
                };
            let status = std::str::from_utf8(&head.second)
                .ok()
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or(0);
            if !(100..200).contains(&status) || status == 101 {
                return Ok((head, status));
            }
        }
    }
}
