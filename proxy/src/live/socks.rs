//! SOCKS5 from the client (mitmproxy's `socks5` mode): the handshake,
//! with RFC 1929 username and password when `--proxyauth` is set, then
//! the server reached and the tunnel handed on like a CONNECT's. The
//! protocol itself is `crate::socks5`.

use tokio::io::AsyncWriteExt;

use super::failure::Failure;
use super::handoff::Handoff;
use super::state::Session;
use super::wire::{BoxIo, Reader};
use super::{auth, via};
use crate::script::Level;
use crate::socks5::{self, Parsed, reply};

/// Reads one message with `parse`, reading more as needed; `None` when
/// the client went away or sent something that is not SOCKS5 (logged).
async fn read<T>(
    s: &Session,
    client: &mut Reader<BoxIo>,
    parse: fn(&[u8]) -> Parsed<T>,
) -> Option<T> {
    loop {
        match parse(client.buffered()) {
            Ok(Some((message, used))) => {
                let _ = client.buffered().split_to(used);
                return Some(message);
            }
            Ok(None) => {}
            Err(e) => {
                s.log(Level::Warn, &format!("{e}; closing"));
                if let socks5::SocksError::AddressType(_) = e {
                    let bound = s.sock;
                    let _ = client
                        .io()
                        .write_all(&socks5::reply(e.reply(), bound))
                        .await;
                }
                return None;
            }
        }
        match tokio::time::timeout(s.live.options.header_timeout, client.read_more()).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return None,
        }
    }
}

/// The handshake, then the tunnel; a failure answers with SOCKS5's reply
/// code and closes.
pub async fn handshake(s: &Session, mut client: Reader<BoxIo>) -> Handoff {
    let Some(methods) = read(s, &mut client, socks5::greeting).await else {
        return Handoff::Close(client);
    };
    let wanted = if s.live.expected_auth.is_some() {
        socks5::USER_PASS
    } else {
        socks5::NO_AUTH
    };
    let chosen = if methods.contains(&wanted) {
        wanted
    } else {
        socks5::NO_METHOD
    };
    if client.io().write_all(&[5, chosen]).await.is_err() || chosen == socks5::NO_METHOD {
        if chosen == socks5::NO_METHOD {
            let need = if wanted == socks5::USER_PASS {
                "username and password (--proxyauth is set)"
            } else {
                "no authentication"
            };
            s.log(
                Level::Warn,
                &format!("the SOCKS5 client does not offer {need}; closing"),
            );
        }
        return Handoff::Close(client);
    }
    if let Some(expected) = &s.live.expected_auth {
        let Some((user, pass)) = read(s, &mut client, socks5::credentials).await else {
            return Handoff::Close(client);
        };
        let given = [user, b":".to_vec(), pass].concat();
        let basic = auth::expected(&String::from_utf8_lossy(&given));
        let ok = auth::matches(expected, Some(basic.as_bytes()));
        let _ = client.io().write_all(&[1, if ok { 0 } else { 1 }]).await;
        if !ok {
            s.log(Level::Warn, "SOCKS5 authentication failed; closing");
            return Handoff::Close(client);
        }
    }
    let Some(request) = read(s, &mut client, socks5::request).await else {
        return Handoff::Close(client);
    };
    if request.command != 1 {
        let _ = client
            .io()
            .write_all(&socks5::reply(reply::COMMAND_NOT_SUPPORTED, s.sock))
            .await;
        s.log(
            Level::Warn,
            &format!(
                "SOCKS5 command {} is not supported (only CONNECT); closing",
                request.command
            ),
        );
        return Handoff::Close(client);
    }
    let via = via::proxy_of(&s.mode.kind);
    match via::reach(&request.host, request.port, &s.live.options, via, &s.notify).await {
        Ok((server, server_conn)) => {
            if client
                .io()
                .write_all(&socks5::reply(reply::SUCCEEDED, s.sock))
                .await
                .is_err()
            {
                return Handoff::Close(client);
            }
            Handoff::tunnel(client, server, server_conn, request.host, request.port)
        }
        Err(e) => {
            // The reply is chosen by the failure's kind, not its words.
            let code = match &e {
                Failure::Connect(why) => why.socks_reply(),
                _ => reply::GENERAL_FAILURE,
            };
            let _ = client.io().write_all(&socks5::reply(code, s.sock)).await;
            s.log(Level::Warn, &format!("{e}; SOCKS5 answered {code}"));
            Handoff::Close(client)
        }
    }
}
