//! CONNECT tunnels: answered 200 once the server is reachable, then, by
//! the client's first bytes, TLS intercepted (h1 or h2 inside), plain HTTP
//! served as HTTP, or anything else (and ignored hosts) passed through.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;
use tokio_rustls::LazyConfigAcceptor;

use super::client::{Client, Tunnel};
use super::upstream::{self, Key, Link, Pool, TlsTo};
use super::{Live, record, send};
use crate::h1::Head;
use crate::script::{Event, Level};
use crate::tls::{self, Negotiated};
use crate::tnetstring::Value;

/// How long a client gets to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A stream with bytes already read from it put back in front.
struct Prefixed<S> {
    prefix: BytesMut,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What the client's first bytes in a tunnel are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opening {
    Tls,
    Http,
    Other,
}

fn classify(first: &[u8]) -> Opening {
    match first {
        // A TLS handshake record.
        [0x16, ..] => Opening::Tls,
        _ => {
            let word = first.split(|&b| b == b' ').next().unwrap_or_default();
            let spaced = word.len() < first.len();
            let method =
                !word.is_empty() && word.len() <= 16 && word.iter().all(u8::is_ascii_uppercase);
            if method && (spaced || word.len() == first.len()) {
                Opening::Http
            } else {
                Opening::Other
            }
        }
    }
}

/// Whether a tunnel to `host:port` passes through untouched.
fn passes_through(live: &Live, host: &str, port: u16) -> bool {
    let options = &live.options;
    if options.tls.is_none() {
        return true;
    }
    let address = format!("{host}:{port}");
    if !options.allow_hosts.is_empty() {
        return !options.allow_hosts.iter().any(|r| r.is_match(&address));
    }
    options.ignore_hosts.iter().any(|r| r.is_match(&address))
}

/// Runs the tunnel a CONNECT opened, to its end; returns the client
/// connection's dict as it ended up (with TLS fields when intercepted).
pub(super) async fn run(
    client: Client,
    (head, host, port): (Head, String, u16),
    closing: &mut watch::Receiver<bool>,
) -> Value {
    let Client {
        live,
        sock,
        reader,
        writer,
        conn,
        ..
    } = client;
    let (read, buffered) = reader.into_parts();
    let (Ok(read), Ok(write)) = (
        read.into_any().downcast::<OwnedReadHalf>(),
        writer.into_any().downcast::<OwnedWriteHalf>(),
    ) else {
        return conn;
    };
    let Ok(mut stream) = read.reunite(*write) else {
        return conn;
    };
    let key = Key {
        tls: false,
        host: host.clone(),
        port,
    };
    let (server, server_conn) = match upstream::tcp(&key, &live.options).await {
        Ok(connected) => connected,
        Err(e) => {
            refuse(&live, conn.clone(), &head, &host, port, &e, &mut stream).await;
            return conn;
        }
    };
    if stream
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return conn;
    }
    let mut client = Prefixed {
        prefix: buffered,
        inner: stream,
    };
    if passes_through(&live, &host, port) {
        pipe(client, server).await;
        return conn;
    }
    let opening = first_bytes(&mut client, &server).await;
    let tunnel = Tunnel {
        tls: opening == Opening::Tls,
        host,
        port,
    };
    match opening {
        Opening::Other => {
            live.scripts().log().log(
                "proxy",
                Level::Info,
                &format!(
                    "{}:{}: neither TLS nor HTTP; passing the tunnel through",
                    tunnel.host, tunnel.port
                ),
            );
            pipe(client, server).await;
            conn
        }
        Opening::Http => {
            let mut pool = Pool::default();
            if let Ok(Link::H1(up)) =
                upstream::secure(server, server_conn, &key, None, &live.options).await
            {
                pool.put(key, up);
            }
            serve_h1(live, sock, conn, tunnel, pool, client, closing).await
        }
        Opening::Tls => {
            intercept(
                live,
                sock,
                conn,
                tunnel,
                client,
                (server, server_conn),
                closing,
            )
            .await
        }
    }
}

/// What the client's first bytes are; a protocol where the server speaks
/// first, or a client that closes, counts as `Other` and is passed through.
async fn first_bytes(client: &mut Prefixed<TcpStream>, server: &TcpStream) -> Opening {
    if !client.prefix.is_empty() {
        return classify(&client.prefix);
    }
    let mut peeked = [0u8; 16];
    tokio::select! {
        n = client.inner.peek(&mut peeked) => match n {
            Ok(n) if n > 0 => classify(&peeked[..n]),
            _ => Opening::Other,
        },
        _ = server.readable() => Opening::Other,
    }
}

/// Passes bytes both ways until either side closes.
async fn pipe(mut client: Prefixed<TcpStream>, mut server: TcpStream) {
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// The server could not be reached: the CONNECT is answered 502, and the
/// failure is a flow with its error, as mitmproxy records it.
async fn refuse(
    live: &Arc<Live>,
    conn: Value,
    head: &Head,
    host: &str,
    port: u16,
    what: &str,
    stream: &mut TcpStream,
) {
    let start = record::now();
    let target = record::Target {
        scheme: "http".into(),
        host: host.to_owned(),
        port,
        path: bytes::Bytes::new(),
    };
    let mut request = record::request(head, &target, start);
    request.insert("authority", Value::Bytes(head.second.clone()));
    let mut flow = record::flow(conn, request, start);
    flow.set_error(what, record::now());
    live.flow_event(Event::Error, &mut flow).await;
    live.finish(&flow);
    let _ = stream
        .write_all(&send::simple(502, &[], &format!("waylay: {what}\n")))
        .await;
}

/// Serves HTTP/1 requests inside a tunnel, over `stream` (plain or TLS).
async fn serve_h1<S>(
    live: Arc<Live>,
    sock: std::net::SocketAddr,
    conn: Value,
    tunnel: Tunnel,
    pool: Pool,
    stream: S,
    closing: &mut watch::Receiver<bool>,
) -> Value
where
    S: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static,
{
    let (read, writer) = tokio::io::split(stream);
    let mut client = Client::new(live, sock, Box::new(read), Box::new(writer), conn);
    client.tunnel = Some(tunnel);
    client.pool = pool;
    client.serve(closing).await;
    let _ = client.writer.shutdown().await;
    client.conn
}

/// TLS interception: the client's hello read, the server's TLS made with
/// the same name and ALPN offers, a leaf for the name, then h1 or h2.
async fn intercept(
    live: Arc<Live>,
    sock: std::net::SocketAddr,
    mut conn: Value,
    tunnel: Tunnel,
    client: Prefixed<TcpStream>,
    (server, server_conn): (TcpStream, Value),
    closing: &mut watch::Receiver<bool>,
) -> Value {
    let Some(interceptor) = live.options.tls.clone() else {
        return conn;
    };
    let where_ = format!("{}:{}", tunnel.host, tunnel.port);
    let log = |what: &str| {
        live.scripts()
            .log()
            .log("proxy", Level::Warn, &format!("{where_}: {what}"))
    };
    let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), client);
    let start = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor).await {
        Ok(Ok(start)) => start,
        Ok(Err(e)) => {
            log(&format!("the client's TLS hello is invalid: {e}"));
            return conn;
        }
        Err(_) => {
            log("the client sent no TLS hello in time");
            return conn;
        }
    };
    let hello = start.client_hello();
    let sni = hello.server_name().map(str::to_owned);
    let offers: Vec<Vec<u8>> = hello
        .alpn()
        .map(|it| it.map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    let ours: Vec<Vec<u8>> = offers
        .iter()
        .filter(|a| a.as_slice() == tls::ALPN_H2 || a.as_slice() == tls::ALPN_H1)
        .cloned()
        .collect();
    let key = Key {
        tls: true,
        host: tunnel.host.clone(),
        port: tunnel.port,
    };
    let to = TlsTo {
        interceptor: &interceptor,
        sni: sni.clone().or_else(|| upstream::sni_for(&tunnel.host)),
        alpn: ours.clone(),
    };
    let link = upstream::secure(server, server_conn, &key, Some(to), &live.options).await;
    // ALPN follows the server: the client gets what the server chose.
    let client_alpn = match &link {
        Ok(Link::H2(_)) => vec![tls::ALPN_H2.to_vec()],
        Ok(Link::H1(up)) => match up
            .conn
            .as_dict()
            .and_then(|d| d.get("alpn"))
            .and_then(Value::as_bytes)
        {
            Some(b"http/1.1") => vec![tls::ALPN_H1.to_vec()],
            _ => Vec::new(),
        },
        // The flows will fail with the server's error, in HTTP/1.1.
        Err(_) => ours
            .iter()
            .filter(|a| a.as_slice() == tls::ALPN_H1)
            .cloned()
            .collect(),
    };
    let name = sni.as_deref().unwrap_or(&tunnel.host);
    let leaf = match interceptor.leaves().get(name) {
        Ok(leaf) => leaf,
        Err(e) => {
            log(&e);
            return conn;
        }
    };
    let config = interceptor.server_config(leaf, client_alpn);
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, start.into_stream(config)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            log(&format!(
                "the TLS handshake with the client failed: {e}; does the client trust the waylay CA?"
            ));
            return conn;
        }
        Err(_) => {
            log("the client did not finish its TLS handshake in time");
            return conn;
        }
    };
    let (_, state) = stream.get_ref();
    let negotiated = Negotiated::of(state, sni, offers);
    if let Some(d) = conn.as_dict_mut() {
        negotiated.record(d, record::now());
    }
    let mut pool = Pool::default();
    match link {
        Ok(Link::H1(up)) => pool.put(key, up),
        Ok(Link::H2(up)) => pool.put_h2(key, up),
        // Each flow retries the server and fails with the reason.
        Err(e) => log(&e),
    }
    if negotiated.alpn.as_deref() == Some(tls::ALPN_H2) {
        super::h2::serve(stream, live, conn.clone(), tunnel, pool, closing).await;
        return conn;
    }
    serve_h1(live, sock, conn, tunnel, pool, stream, closing).await
}

#[cfg(test)]
mod tests {
    use super::{Opening, classify};

    #[test]
    fn openings() {
        assert_eq!(classify(b"\x16\x03\x01\x02\x00"), Opening::Tls);
        assert_eq!(classify(b"GET / HTTP/1.1\r\n"), Opening::Http);
        assert_eq!(classify(b"POST"), Opening::Http);
        assert_eq!(classify(b"SSH-2.0-OpenSSH"), Opening::Other);
        assert_eq!(classify(b"\x00\x01"), Opening::Other);
        assert_eq!(classify(b"get / HTTP/1.1"), Opening::Other);
    }
}
