//! The hudsucker peer of `cargo xtask bench live`: `hudsucker-peer PORT`
//! proxies on 127.0.0.1:PORT until SIGINT, adding `newheader: foo` to
//! every response (what examples/add_header does). Its CA is made in
//! memory; the bench sends plain HTTP, so no TLS client is built in.

use std::net::SocketAddr;

use hudsucker::certificate_authority::RcgenAuthority;
use hudsucker::hyper::{Response, header::HeaderValue};
use hudsucker::hyper_util::client::legacy::connect::HttpConnector;
use hudsucker::rcgen::{self, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use hudsucker::rustls::crypto::aws_lc_rs;
use hudsucker::{Body, HttpContext, HttpHandler, Proxy};

#[derive(Clone)]
struct AddHeader;

impl HttpHandler for AddHeader {
    async fn handle_response(
        &mut self,
        _ctx: &HttpContext,
        mut res: Response<Body>,
    ) -> Response<Body> {
        res.headers_mut()
            .insert("newheader", HeaderValue::from_static("foo"));
        res
    }
}

fn authority() -> Result<RcgenAuthority, rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "hudsucker bench CA");
    let issuer = Issuer::new(params, key);
    Ok(RcgenAuthority::new(
        issuer,
        1_000,
        aws_lc_rs::default_provider(),
    ))
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: hudsucker-peer PORT");
    let proxy = Proxy::builder()
        .with_addr(SocketAddr::from(([127, 0, 0, 1], port)))
        .with_ca(authority().expect("a CA"))
        .with_http_connector(HttpConnector::new())
        .with_http_handler(AddHeader)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .build()
        .expect("a proxy");
    if let Err(e) = proxy.start().await {
        eprintln!("hudsucker-peer: {e}");
        std::process::exit(1);
    }
}
