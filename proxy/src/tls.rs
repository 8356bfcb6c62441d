//! TLS interception: the CA, leaves minted per host, and the rustls
//! configurations for both sides of an intercepted connection.
//!
//! Nothing here does I/O but the CA's files and the trust store's; the
//! handshakes themselves happen in `live::tunnel`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

use crate::tnetstring::{Dict, Value};

pub mod ca;
mod error;
pub mod leaf;
mod pinned;

pub use error::{CertProblem, TlsError};

/// How upstream certificates are checked.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// Accept any certificate (`--ssl-insecure`).
    pub insecure: bool,
    /// A PEM file of extra CAs to trust (`ssl_verify_upstream_trusted_ca`).
    pub extra_ca: Option<PathBuf>,
}

/// The ALPN protocols the proxy speaks, best first.
pub const ALPN_H2: &[u8] = b"h2";
/// HTTP/1.1's ALPN name.
pub const ALPN_H1: &[u8] = b"http/1.1";

/// Everything an intercepted connection needs.
pub struct Interceptor {
    leaves: leaf::Leaves,
    server_base: ServerConfig,
    client_base: ClientConfig,
}

impl std::fmt::Debug for Interceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interceptor")
            .field("leaves", &self.leaves)
            .finish_non_exhaustive()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Interceptor {
    /// An interceptor signing with `ca` and checking servers per `trust`.
    /// Returns it and lines worth showing (the trust store's problems).
    pub fn new(ca: ca::Ca, trust: &Trust) -> Result<(Interceptor, Vec<String>), TlsError> {
        let leaves = leaf::Leaves::new(ca)?;
        // Each connection gets its own leaf (`server_config`); the base
        // needs a resolver only to be built.
        let placeholder = Arc::new(rustls::server::ResolvesServerCertUsingSni::new());
        let server_base = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Crypto {
                what: "set up TLS for clients",
                cause: e.to_string(),
            })?
            .with_no_client_auth()
            .with_cert_resolver(placeholder);
        let (client_base, notes) = client_config(trust)?;
        Ok((
            Interceptor {
                leaves,
                server_base,
                client_base,
            },
            notes,
        ))
    }

    /// The leaf minter and its cache.
    pub fn leaves(&self) -> &leaf::Leaves {
        &self.leaves
    }

    /// The client-facing config: `leaf`, offering `alpn`.
    pub fn server_config(&self, leaf: Arc<CertifiedKey>, alpn: Vec<Vec<u8>>) -> Arc<ServerConfig> {
        let mut config = self.server_base.clone();
        config.cert_resolver = Arc::new(rustls::sign::SingleCertAndKey::from(leaf));
        config.alpn_protocols = alpn;
        Arc::new(config)
    }

    /// The server-facing config, offering `alpn`.
    pub fn client_config(&self, alpn: Vec<Vec<u8>>) -> Arc<ClientConfig> {
        let mut config = self.client_base.clone();
        config.alpn_protocols = alpn;
        Arc::new(config)
    }
}

fn client_config(trust: &Trust) -> Result<(ClientConfig, Vec<String>), TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Crypto {
            what: "set up TLS for servers",
            cause: e.to_string(),
        })?;
    if trust.insecure {
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider())))
            .with_no_client_auth();
        return Ok((config, Vec::new()));
    }
    let mut notes = Vec::new();
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        notes.push("no system CA certificates found; trusting Mozilla's roots instead".into());
    }
    let mut pinned = Vec::new();
    if let Some(path) = &trust.extra_ca {
        for cert in read_pem_certs(path)? {
            // A server's own self-signed certificate is no CA webpki can
            // take (it may not even be marked as one); it is pinned below.
            let _ = roots.add(cert.clone());
            pinned.push(cert);
        }
    }
    let chain =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| TlsError::TrustFile {
                path: trust.extra_ca.clone().unwrap_or_default(),
                what: e.to_string(),
            })?;
    let verifier = pinned::ChainOrPinned { chain, pinned };
    Ok((
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth(),
        notes,
    ))
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |what: String| TlsError::TrustFile {
        path: path.to_owned(),
        what,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("not a PEM file ({e})")))?;
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate".into()));
    }
    Ok(certs)
}

/// `--ssl-insecure`: a verifier that checks signatures but not the chain.
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Random serial number bytes (positive, non-zero).
pub(crate) fn random_serial() -> [u8; 16] {
    let mut bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    bytes
}

/// What a finished handshake tells about a connection, as mitmproxy
/// records it.
#[derive(Clone, Debug, Default)]
pub struct Negotiated {
    pub sni: Option<String>,
    pub alpn: Option<Vec<u8>>,
    pub alpn_offers: Vec<Vec<u8>>,
    pub tls_version: Option<String>,
    pub cipher: Option<String>,
    /// The peer's chain, leaf first (server side only).
    pub certificates: Vec<CertificateDer<'static>>,
}

impl Negotiated {
    /// Reads a finished handshake's state.
    pub fn of(
        state: &rustls::CommonState,
        sni: Option<String>,
        offers: Vec<Vec<u8>>,
    ) -> Negotiated {
        let version = state.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
            other => format!("{other:?}"),
        });
        let cipher = state
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .map(str::to_owned);
        Negotiated {
            sni,
            alpn: state.alpn_protocol().map(<[u8]>::to_vec),
            alpn_offers: offers,
            tls_version: version,
            cipher,
            certificates: state
                .peer_certificates()
                .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
                .unwrap_or_default(),
        }
    }

    /// Sets the TLS fields of a connection dict.
    pub fn record(&self, conn: &mut Dict, at: f64) {
        let text = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::text);
        conn.insert("tls", Value::Bool(true));
        conn.insert("timestamp_tls_setup", Value::Float(at));
        conn.insert("sni", text(&self.sni));
        conn.insert("tls_version", text(&self.tls_version));
        conn.insert("cipher", text(&self.cipher));
        conn.insert(
            "alpn",
            Value::Bytes(self.alpn.clone().unwrap_or_default().into()),
        );
        conn.insert(
            "alpn_offers",
            Value::list(self.alpn_offers.iter().map(|a| Value::bytes(a)).collect()),
        );
        conn.insert(
            "certificate_list",
            Value::list(
                self.certificates
                    .iter()
                    .map(|c| Value::Bytes(pem(c).into()))
                    .collect(),
            ),
        );
    }
}

/// A DER certificate as PEM text.
pub fn pem(der: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = Vec::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            b64.push(if i <= n {
                ALPHABET[((v >> (18 - 6 * i)) & 63) as usize]
            } else {
                b'='
            });
        }
    }
    let mut out = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    for line in b64.chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pem_round_trips_through_rustls() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        for len in [1usize, 2, 3, 4, 47, 48, 49, 700] {
            let der: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let text = super::pem(&der);
            let back = CertificateDer::from_pem_slice(&text).unwrap();
            assert_eq!(back.as_ref(), &der[..], "{len}");
        }
    }
}
