//! What every request to the view passes first: the `Host` check (against
//! DNS rebinding), the access token (from the printed URL, then an
//! HttpOnly cookie), and the security headers on every answer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;

/// The cookie that carries the token after the first visit.
const COOKIE: &str = "waylay_token";

/// The Content-Security-Policy: the page's own scripts and styles only;
/// images from bodies as blobs.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether `host` (a `Host` field) names the view's own address: its IP
/// and port, or `localhost` for a loopback view. A wildcard view takes
/// any IP literal (no DNS name can be rebound to those).
pub fn host_allowed(host: &str, address: SocketAddr) -> bool {
    let Some((name, port)) = host.rsplit_once(':') else {
        return false;
    };
    if port.parse::<u16>() != Ok(address.port()) {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let ip = address.ip();
    match name.parse::<std::net::IpAddr>() {
        Ok(named) => named == ip || ip.is_unspecified(),
        Err(_) => {
            name.eq_ignore_ascii_case("localhost") && (ip.is_loopback() || ip.is_unspecified())
        }
    }
}

/// The token a request carries, in `?token=` or the cookie.
fn token_of(req: &Request) -> (Option<String>, Option<String>) {
    let query = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.strip_prefix("token="))
            .next()
            .map(str::to_owned)
    });
    let cookie = cookie(req.headers());
    (query, cookie)
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .next()
        .map(str::to_owned)
}

/// Compares in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn refuse(status: StatusCode, why: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        why + "\n",
    )
        .into_response()
}

/// The guard: Host, then token; the token in the URL becomes a cookie
/// and the page is loaded again without it.
pub async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut response = if !host_allowed(&host, app.address) {
        refuse(
            StatusCode::FORBIDDEN,
            format!(
                "Host {host:?} is not this web view's address ({}); refused, as a page on another site may be trying to reach it (DNS rebinding). Open http://{}/ instead",
                app.address, app.address
            ),
        )
    } else {
        let (query, cookie) = token_of(&req);
        if query.as_deref().is_some_and(|t| same(t, &app.token)) {
            // The token leaves the address bar and lives in the cookie.
            let path = req.uri().path().to_owned();
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, path)]).into_response();
            let set = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", app.token);
            r.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&set).expect("a token is ASCII"),
            );
            r
        } else if cookie.as_deref().is_some_and(|t| same(t, &app.token)) {
            next.run(req).await
        } else {
            refuse(
                StatusCode::FORBIDDEN,
                "this web view needs its access token: open the address the runner printed (http://.../?token=...)".into(),
            )
        }
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether a push channel's `Origin` is the view itself.
pub fn origin_allowed(headers: &HeaderMap, address: SocketAddr) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .is_some_and(|host| host_allowed(host, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let loopback: SocketAddr = "127.0.0.1:8081".parse().unwrap();
        assert!(host_allowed("127.0.0.1:8081", loopback));
        assert!(host_allowed("localhost:8081", loopback));
        assert!(!host_allowed("127.0.0.1:8082", loopback));
        assert!(!host_allowed("evil.example:8081", loopback));
        assert!(!host_allowed("127.0.0.1", loopback));
        let v6: SocketAddr = "[::1]:9000".parse().unwrap();
        assert!(host_allowed("[::1]:9000", v6));
        assert!(!host_allowed("[::2]:9000", v6));
        let any: SocketAddr = "0.0.0.0:8081".parse().unwrap();
        assert!(host_allowed("192.168.1.5:8081", any));
        assert!(!host_allowed("rebound.example:8081", any));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
