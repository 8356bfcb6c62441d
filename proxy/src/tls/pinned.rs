//! Upstream certificates as users trust them: the system's roots (and
//! `ssl_verify_upstream_trusted_ca`'s CAs) through webpki, and, as
//! mitmproxy accepts it, a server certificate that is exactly one of the
//! certificates in that file, even one marked `CA:TRUE` (what
//! `openssl req -x509` makes), still checked for its name and dates.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// The chain check, with the trusted file's certificates also accepted as
/// themselves.
#[derive(Debug)]
pub struct ChainOrPinned {
    pub chain: Arc<WebPkiServerVerifier>,
    pub pinned: Vec<CertificateDer<'static>>,
}

/// Checks a pinned certificate's name and validity dates.
fn check(
    der: &CertificateDer<'_>,
    name: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let cert = webpki::EndEntityCert::try_from(der)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    cert.verify_is_valid_for_subject_name(name)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::NotValidForName))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(der)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = parsed.validity();
    if now < validity.not_before.timestamp() {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet,
        ));
    }
    if now > validity.not_after.timestamp() {
        return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
    }
    Ok(())
}

impl ServerCertVerifier for ChainOrPinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .chain
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Ok(verified) => Ok(verified),
            Err(e) => {
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref())
                {
                    check(end_entity, server_name, now)?;
                    return Ok(ServerCertVerified::assertion());
                }
                Err(e)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(names: &[&str], days: (i64, i64)) -> CertificateDer<'static> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(days.0);
        params.not_after = now + time::Duration::days(days.1);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn a_pinned_certificate_still_has_its_name_and_dates_checked() {
        let now = UnixTime::now();
        let name = |n: &str| ServerName::try_from(n.to_owned()).unwrap();
        let good = cert(&["localhost"], (-1, 30));
        assert!(check(&good, &name("localhost"), now).is_ok());
        let wrong = check(&good, &name("other.test"), now);
        assert_eq!(
            wrong,
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName
            ))
        );
        let old = cert(&["localhost"], (-60, -30));
        assert_eq!(
            check(&old, &name("localhost"), now),
            Err(rustls::Error::InvalidCertificate(CertificateError::Expired))
        );
        let early = cert(&["localhost"], (10, 30));
        assert_eq!(
            check(&early, &name("localhost"), now),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidYet
            ))
        );
    }
}
