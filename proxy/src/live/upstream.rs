//! Connections to origin servers, kept per client connection and reused
//! for later requests to the same host and port.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::record;
use super::wire::{Reader, WireError};
use crate::h1::{self, Head};
use crate::tnetstring::Value;

/// One open connection to an origin.
#[derive(Debug)]
pub struct Upstream {
    pub reader: Reader<OwnedReadHalf>,
    pub writer: OwnedWriteHalf,
    /// Its `server_conn` dict.
    pub conn: Value,
}

/// A client connection's idle upstream connections.
#[derive(Debug, Default)]
pub struct Pool {
    idle: HashMap<(String, u16), Upstream>,
}

impl Pool {
    /// An idle connection to `host:port`, if there is one.
    pub fn take(&mut self, host: &str, port: u16) -> Option<Upstream> {
        self.idle.remove(&(host.to_owned(), port))
    }

    /// Keeps a connection for reuse.
    pub fn put(&mut self, host: &str, port: u16, upstream: Upstream) {
        self.idle.insert((host.to_owned(), port), upstream);
    }
}

/// Opens a connection to `host:port`; the error is one line for the flow.
pub async fn connect(host: &str, port: u16, timeout: Duration) -> Result<Upstream, String> {
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
    let (read, writer) = stream.into_split();
    Ok(Upstream {
        reader: Reader::new(read),
        writer,
        conn,
    })
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
