//! Raw client bytes through the real connection driver and exchange, for
//! the fuzz target `client_bytes`: an in-memory client sends the bytes,
//! an in-memory origin records what reaches it and answers each request,
//! and every request that reaches it must parse again, with the method
//! and the body the client sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWriteExt, DuplexStream};

use super::dial::{Dial, Dialer, Dialing};
use super::options::Options;
use super::state::Live;
use super::wire::{BoxIo, Reader};
use crate::h1::{self, BodyKind, ChunkedDecoder};
use crate::script::{LogSink, Scripts};

/// What reached the origin, in order: each request's method and body, or
/// why it did not read back (a panic in the origin's task would not reach
/// the fuzzer).
type Seen = Arc<Mutex<Vec<Result<(Bytes, Bytes), String>>>>;

struct Quiet;

impl LogSink for Quiet {
    fn log(&self, _script: &str, _level: waylay_sdk::Level, _msg: &str) {}
}

/// Reads requests off an upstream pipe with the proxy's own HTTP/1
/// reader, keeps each, and answers `204`.
async fn origin(io: DuplexStream, seen: Seen) {
    let mut wire = Reader::new(io);
    let keep = |r| seen.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    loop {
        let head = match wire.head(h1::parse_request).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(e) => {
                return keep(Err(format!(
                    "the request sent upstream does not parse: {e}"
                )));
            }
        };
        let kind = match h1::request_body(&head) {
            Ok(kind) => kind,
            Err(e) => return keep(Err(format!("the request sent upstream is ambiguous: {e}"))),
        };
        let body = match wire.body(kind, None).await {
            Ok((body, _)) => body,
            Err(e) => {
                return keep(Err(format!(
                    "the body sent upstream does not read back: {e}"
                )));
            }
        };
        keep(Ok((head.first.clone(), body)));
        if wire
            .io()
            .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    }
}

struct Pipes(Seen);

impl Dial for Pipes {
    fn dial<'a>(&'a self, _host: &'a str, _port: u16) -> Dialing<'a> {
        Box::pin(async move {
            let (ours, theirs) = tokio::io::duplex(1 << 16);
            tokio::spawn(origin(theirs, self.0.clone()));
            let addr = SocketAddr::from(([192, 0, 2, 1], 80));
            Ok((Box::new(ours) as BoxIo, addr, addr))
        })
    }
}

/// What the client's first request is, as the proxy's own parser reads
/// it: its method and body, if it is a whole, unambiguous request.
fn first_request(data: &[u8]) -> Option<(Bytes, Bytes)> {
    let buf = Bytes::copy_from_slice(data);
    let (head, len) = h1::parse_request(&buf).ok()??;
    let mut rest = BytesMut::from(&data[len..]);
    let body = match h1::request_body(&head).ok()? {
        BodyKind::None => Bytes::new(),
        BodyKind::Length(n) => {
            if (rest.len() as u64) < n {
                return None;
            }
            rest.split_to(n as usize).freeze()
        }
        BodyKind::Chunked => {
            let mut out = Vec::new();
            match ChunkedDecoder::default().decode(&mut rest, &mut out) {
                Ok(true) => Bytes::from(out),
                _ => return None,
            }
        }
        BodyKind::Close => return None,
    };
    Some((head.first, body))
}

/// Runs `data` through a proxy connection and checks what reached the
/// origin.
pub fn client_bytes(data: &[u8]) {
    let seen = run(data);
    // Only the first request is checked: after a CONNECT, what reaches the
    // origin is the client's own bytes, HTTP or not.
    if let (Some((method, body)), Some(first)) = (first_request(data), seen.first())
        && !method.eq_ignore_ascii_case(b"CONNECT")
    {
        let (got, sent) = first.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(*got, method, "the method changed");
        assert_eq!(*sent, body, "the body changed");
    }
}

/// What reached the origin when a client sent `data`.
fn run(data: &[u8]) -> Vec<Result<(Bytes, Bytes), String>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let seen = Seen::default();
    let options = Options {
        dialer: Dialer::new(Arc::new(Pipes(seen.clone()))),
        ..Options::default()
    };
    let live = Arc::new(Live::new(
        Arc::new(Scripts::new(Arc::new(Quiet))),
        None,
        None,
        options,
    ));
    let sent = data.to_vec();
    let shared = live.clone();
    runtime.block_on(async move {
        let (mut client, proxy) = tokio::io::duplex(1 << 16);
        let (_closing_tx, closing) = tokio::sync::watch::channel(false);
        let addr = SocketAddr::from(([127, 0, 0, 1], 8080));
        let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
        let driver = tokio::spawn(super::conn::run(
            Box::new(proxy),
            peer,
            addr,
            shared,
            Arc::default(),
            None,
            closing,
        ));
        let _ = client.write_all(&sent).await;
        let _ = client.shutdown().await;
        // Whatever the proxy answers is read and dropped, so it never
        // waits on a full pipe.
        let drain = tokio::spawn(async move {
            let mut sink = tokio::io::sink();
            let _ = tokio::io::copy(&mut client, &mut sink).await;
        });
        let _ = driver.await;
        drain.abort();
    });
    drop(runtime);
    let _ = live.done();
    std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_reach_the_origin_as_sent() {
        let post = b"POST http://a.test/x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET http://a.test/y HTTP/1.1\r\n\r\n";
        let seen = run(post);
        assert_eq!(
            seen,
            [
                Ok((Bytes::from_static(b"POST"), Bytes::from_static(b"abc"))),
                Ok((Bytes::from_static(b"GET"), Bytes::new())),
            ]
        );
        client_bytes(post);
        assert!(run(b"GET /relative HTTP/1.1\r\n\r\n").is_empty());
    }
}
