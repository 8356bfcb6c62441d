//! Reverse mode's first layer: every connection goes to the mode's
//! server. The client may speak TLS to the listener (detected by its
//! first bytes, as mitmproxy does; it gets a leaf for its SNI or the
//! server's name) or plain HTTP; `tcp://` and `tls://` servers carry TCP
//! flows.

use super::detect;
use super::handoff::{Handoff, Tunnel};
use super::mode::{Kind, Scheme};
use super::state::Session;
use super::upstream::Pool;
use super::via;
use super::wire::{BoxIo, Reader};
use crate::script::Level;

/// Decides what the connection carries and hands it on.
pub async fn start(s: &Session, mut client: Reader<BoxIo>) -> Handoff {
    let Kind::Reverse(server) = &s.mode.kind else {
        return Handoff::Close(client);
    };
    let tunnel = Tunnel {
        tls: server.scheme.tls(),
        host: server.host.clone(),
        port: server.port,
        reverse: true,
    };
    if !client.has_buffered() {
        match client.read_more().await {
            Ok(n) if n > 0 => {}
            _ => return Handoff::Close(client),
        }
    }
    let client_tls = detect::classify(client.buffered()) == detect::Opening::Tls;
    if !client_tls && server.scheme.http() {
        // Plain HTTP from the client: each flow connects (TLS to an
        // https:// server) when it needs to.
        return Handoff::Http1 {
            client,
            tunnel: Some(tunnel),
            pool: Pool::default(),
        };
    }
    let reached = via::reach(&server.host, server.port, &s.live.options, None, &s.notify).await;
    let (stream, server_conn) = match reached {
        Ok(reached) => reached,
        // TCP flows record it (`tcp_error`); a TLS client of an HTTP
        // server has no flow yet.
        Err(failure) if !server.scheme.http() => return Handoff::TcpFailed { client, failure },
        Err(e) => {
            s.log(
                Level::Warn,
                &format!("{e}; closing the client's connection"),
            );
            return Handoff::Close(client);
        }
    };
    if client_tls {
        return Handoff::Intercept {
            client,
            server: stream,
            server_conn,
            tunnel,
        };
    }
    if server.scheme == Scheme::Tls {
        // Plain bytes from the client, TLS to the server: a TCP flow over
        // the server's TLS.
        return match super::upstream::tls_to(
            stream,
            server_conn,
            (&tunnel.host, tunnel.port),
            &s.live.options,
            &s.notify,
        )
        .await
        {
            Ok((server, server_conn)) => Handoff::Tcp {
                client,
                server,
                server_conn,
            },
            Err(failure) => Handoff::TcpFailed { client, failure },
        };
    }
    Handoff::Tcp {
        client,
        server: Reader::new(stream),
        server_conn,
    }
}
