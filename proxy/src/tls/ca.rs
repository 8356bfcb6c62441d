//! The proxy's certificate authority: made on first run in the confdir,
//! reused after, in mitmproxy's three files.
//!
//! - `waylay-ca.pem`: key and certificate, mode 0600;
//! - `waylay-ca-cert.pem`: the certificate alone, for users to trust;
//! - `waylay-ca-cert.cer`: the same in DER.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::CertificateDer;

use super::TlsError;

/// The key and certificate file.
pub const KEY_FILE: &str = "waylay-ca.pem";
/// The certificate for users to trust, PEM.
pub const CERT_FILE: &str = "waylay-ca-cert.pem";
/// The same certificate, DER.
pub const CER_FILE: &str = "waylay-ca-cert.cer";

/// A loaded CA: what signs leaves.
pub struct Ca {
    pub(crate) issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, DER.
    pub cert: CertificateDer<'static>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

/// The CA and how it came to be.
#[derive(Debug)]
pub struct Loaded {
    pub ca: Ca,
    /// Made on this run (no key file was there).
    pub created: bool,
    /// Problems worth a line that do not stop the proxy.
    pub warnings: Vec<String>,
}

/// Loads the CA from `confdir`, or makes one there if it has none.
/// The error is one line naming the file and what to do.
pub fn load_or_create(confdir: &Path) -> Result<Loaded, TlsError> {
    let key_path = confdir.join(KEY_FILE);
    match fs::read_to_string(&key_path) {
        Ok(text) => load(&key_path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(confdir),
        Err(cause) => Err(TlsError::CaUnreadable {
            path: key_path,
            cause,
        }),
    }
}

/// A new CA key and its self-signed certificate.
fn generate() -> Result<(KeyPair, rcgen::CertificateParams, rcgen::Certificate), TlsError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| TlsError::Crypto {
        what: "make a CA key",
        cause: e.to_string(),
    })?;
    let params = ca_params();
    let cert = params.self_signed(&key).map_err(|e| TlsError::Crypto {
        what: "sign the CA certificate",
        cause: e.to_string(),
    })?;
    Ok((key, params, cert))
}

/// A CA kept in memory only, never written: for what makes TLS
/// connections to servers but intercepts no client (offline replays), so
/// that such a run leaves no CA behind.
pub fn ephemeral() -> Result<Ca, TlsError> {
    let (key, params, cert) = generate()?;
    Ok(Ca {
        cert: cert.der().clone(),
        issuer: Issuer::new(params, key),
    })
}

fn corrupt(path: &Path, what: &str) -> TlsError {
    TlsError::CaCorrupt {
        path: path.to_owned(),
        what: what.to_owned(),
    }
}

fn load(path: &Path, text: &str) -> Result<Loaded, TlsError> {
    let key =
        KeyPair::from_pem(text).map_err(|e| corrupt(path, &format!("no private key: {e}")))?;
    let cert_pem = pem_block(text, "CERTIFICATE").ok_or_else(|| corrupt(path, "no certificate"))?;
    let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)
        .map_err(|e| corrupt(path, &format!("bad certificate: {e}")))?;
    let cert = der_of(&cert_pem).ok_or_else(|| corrupt(path, "bad certificate encoding"))?;
    let mut warnings = Vec::new();
    if let Some(mode) = mode_of(path)
        && mode & 0o077 != 0
    {
        warnings.push(format!(
            "the CA key {} is readable by other users (mode {mode:o}); run chmod 600 on it",
            path.display()
        ));
    }
    Ok(Loaded {
        ca: Ca { issuer, cert },
        created: false,
        warnings,
    })
}

fn create(confdir: &Path) -> Result<Loaded, TlsError> {
    let fail = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |cause| TlsError::CaWrite {
            action,
            path,
            cause,
        }
    };
    create_dir_private(confdir).map_err(fail("create the confdir", confdir))?;
    let (key, params, cert) = generate()?;
    let cert_pem = cert.pem();
    let key_path = confdir.join(KEY_FILE);
    write_file(
        &key_path,
        format!("{}{cert_pem}", key.serialize_pem()).as_bytes(),
        0o600,
    )
    .map_err(fail("write", &key_path))?;
    let cert_path = confdir.join(CERT_FILE);
    write_file(&cert_path, cert_pem.as_bytes(), 0o644).map_err(fail("write", &cert_path))?;
    let cer_path = confdir.join(CER_FILE);
    write_file(&cer_path, cert.der(), 0o644).map_err(fail("write", &cer_path))?;
    Ok(Loaded {
        ca: Ca {
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        },
        created: true,
        warnings: Vec::new(),
    })
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "waylay");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "waylay");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(2);
    params.not_after = now + time::Duration::days(3650);
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&super::random_serial()));
    params
}

/// The first PEM block labelled `label` in `text`, with its armour.
fn pem_block(text: &str, label: &str) -> Option<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(format!("{}\n", &text[start..stop]))
}

fn der_of(cert_pem: &str) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(cert_pem.as_bytes()).ok()
}

#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn mode_of(_: &Path) -> Option<u32> {
    None
}

fn create_dir_private(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to a new `path` created with `mode`, through a
/// temporary name so that a crash leaves no half-written file.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_fresh_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("conf");
        let first = load_or_create(&conf).unwrap();
        assert!(first.created);
        assert_eq!(mode_of(&conf.join(KEY_FILE)), Some(0o600));
        assert!(conf.join(CERT_FILE).exists() && conf.join(CER_FILE).exists());
        let second = load_or_create(&conf).unwrap();
        assert!(!second.created, "the CA is reused");
        assert_eq!(first.ca.cert, second.ca.cert);
        assert!(second.warnings.is_empty());
        assert_eq!(
            fs::read(conf.join(CER_FILE)).unwrap(),
            second.ca.cert.to_vec()
        );
    }

    #[test]
    fn a_key_others_can_read_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let loaded = load_or_create(dir.path()).unwrap();
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("chmod 600"));
    }

    #[test]
    fn a_corrupt_key_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), "not a pem file").unwrap();
        let e = load_or_create(dir.path()).unwrap_err();
        assert!(
            matches!(e, TlsError::CaCorrupt { ref path, .. } if path.ends_with(KEY_FILE)),
            "{e:?}"
        );
        assert!(e.to_string().contains("move it away"), "{e}");
        let made = load_or_create(&dir.path().join("fresh")).unwrap();
        let key_only = made.ca.issuer.key().serialize_pem();
        fs::write(dir.path().join(KEY_FILE), key_only).unwrap();
        let e = load_or_create(dir.path()).unwrap_err();
        assert!(
            matches!(e, TlsError::CaCorrupt { ref what, .. } if what == "no certificate"),
            "{e:?}"
        );
    }
}
