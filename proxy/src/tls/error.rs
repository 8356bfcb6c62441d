//! What can go wrong with interception's certificates and handshakes, as
//! one typed error whose message names the file or host and what to do.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A TLS failure: the CA, the trust store, a leaf, or a server's handshake.
#[derive(Debug)]
pub enum TlsError {
    /// The CA key file exists but cannot be read.
    CaUnreadable { path: PathBuf, cause: io::Error },
    /// The CA file is there but not usable.
    CaCorrupt { path: PathBuf, what: String },
    /// Making the CA failed: creating the confdir or writing a file.
    CaWrite {
        action: &'static str,
        path: PathBuf,
        cause: io::Error,
    },
    /// A key, certificate or configuration could not be made.
    Crypto { what: &'static str, cause: String },
    /// The file of extra trusted CAs (`ssl_verify_upstream_trusted_ca`) is
    /// unusable.
    TrustFile { path: PathBuf, what: String },
    /// No leaf could be minted for a host.
    Leaf { host: String, cause: String },
    /// The proxy has no TLS set up, so it cannot reach an https origin.
    NotSetUp { host: String, port: u16 },
    /// The name to send as SNI is no host name.
    BadName {
        host: String,
        port: u16,
        name: String,
    },
    /// The server's handshake did not finish in time.
    Timeout { host: String, port: u16, secs: u64 },
    /// The server's certificate was refused.
    Certificate {
        host: String,
        port: u16,
        problem: CertProblem,
    },
    /// The handshake with the server failed otherwise.
    Handshake {
        host: String,
        port: u16,
        cause: String,
    },
}

/// Why a server's certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    UnknownIssuer,
    Expired,
    NotValidYet,
    NotValidForName,
    Revoked,
    Other(String),
}

impl TlsError {
    /// The error of a failed handshake with `host:port`, read from the
    /// I/O error rustls wrapped it in.
    pub fn upstream(e: &io::Error, host: &str, port: u16) -> TlsError {
        use rustls::CertificateError as C;
        let (host, inner) = (
            host.to_owned(),
            e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
        );
        match inner {
            Some(rustls::Error::InvalidCertificate(cert)) => TlsError::Certificate {
                host,
                port,
                problem: match cert {
                    C::UnknownIssuer => CertProblem::UnknownIssuer,
                    C::Expired | C::ExpiredContext { .. } => CertProblem::Expired,
                    C::NotValidYet | C::NotValidYetContext { .. } => CertProblem::NotValidYet,
                    C::NotValidForName | C::NotValidForNameContext { .. } => {
                        CertProblem::NotValidForName
                    }
                    C::Revoked => CertProblem::Revoked,
                    other => CertProblem::Other(sentence(other)),
                },
            },
            Some(other) => TlsError::Handshake {
                host,
                port,
                cause: other.to_string(),
            },
            None => TlsError::Handshake {
                host,
                port,
                cause: e.to_string(),
            },
        }
    }
}

/// What a certificate problem rustls names is, in words: never a Rust
/// `Debug` rendering.
fn sentence(problem: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match problem {
        C::BadEncoding => "is malformed".into(),
        C::BadSignature => "has a signature that does not verify".into(),
        C::UnhandledCriticalExtension => "has a critical extension that cannot be checked".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "is not meant for a server (its extended key usage)".into()
        }
        C::UnknownRevocationStatus => "has a revocation status that cannot be found".into(),
        C::ApplicationVerificationFailure => "was refused by the verifier".into(),
        C::Other(other) => {
            let text = other.to_string();
            if text.contains("CaUsedAsEndEntity") {
                "is a CA certificate used as a server's own (CA:TRUE, as `openssl req -x509` makes it)".into()
            } else {
                format!("is not acceptable: {}", words(&text))
            }
        }
        other => format!("is not acceptable: {}", words(&format!("{other:?}"))),
    }
}

/// `UnsupportedCertVersion` as "unsupported cert version": a name in
/// words, anything after it left out.
fn words(name: &str) -> String {
    let name = name.split(['(', '{', ' ']).next().unwrap_or(name);
    let mut out = String::new();
    for c in name.chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::CaUnreadable { path, cause } => write!(
                f,
                "cannot read the CA key {}: {cause}; fix its permissions, or move it away to make a new CA",
                path.display()
            ),
            TlsError::CaCorrupt { path, what } => write!(
                f,
                "the CA file {} is not usable ({what}); move it away (and its waylay-ca-cert.* files) to make a new CA",
                path.display()
            ),
            TlsError::CaWrite {
                action,
                path,
                cause,
            } => write!(
                f,
                "cannot {action} {}: {cause}; pick a writable directory with --confdir",
                path.display()
            ),
            TlsError::Crypto { what, cause } => write!(f, "cannot {what}: {cause}"),
            TlsError::TrustFile { path, what } => write!(
                f,
                "--set ssl_verify_upstream_trusted_ca={}: {what}",
                path.display()
            ),
            TlsError::Leaf { host, cause } => {
                write!(f, "cannot mint a certificate for {host}: {cause}")
            }
            TlsError::NotSetUp { host, port } => write!(
                f,
                "cannot reach https://{host}:{port}: this proxy has no TLS set up"
            ),
            TlsError::BadName { host, port, name } => write!(
                f,
                "cannot speak TLS to {host}:{port}: {name:?} is not a host name"
            ),
            TlsError::Timeout { host, port, secs } => write!(
                f,
                "the TLS handshake with {host}:{port} got no answer in {secs}s"
            ),
            TlsError::Certificate {
                host,
                port,
                problem,
            } => {
                let what = match problem {
                    CertProblem::UnknownIssuer => {
                        "is not signed by a trusted CA (unknown issuer)".to_owned()
                    }
                    CertProblem::Expired => "has expired".to_owned(),
                    CertProblem::NotValidYet => "is not valid yet".to_owned(),
                    CertProblem::NotValidForName => format!("is not valid for the name {host}"),
                    CertProblem::Revoked => "is revoked".to_owned(),
                    CertProblem::Other(why) => why.clone(),
                };
                write!(
                    f,
                    "the certificate of {host}:{port} {what}; pass --ssl-insecure (-k) to accept it anyway, or trust it (or its CA) with --set ssl_verify_upstream_trusted_ca=FILE"
                )
            }
            TlsError::Handshake { host, port, cause } => {
                write!(f, "the TLS handshake with {host}:{port} failed: {cause}")
            }
        }
    }
}

impl std::error::Error for TlsError {}
