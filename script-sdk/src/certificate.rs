//! [`Certificate`]: an X.509 certificate's fields (the seed's SSLCert).

use crate::Error;

mod der;

/// An X.509 certificate, read from the PEM a [`Connection`] holds: the
/// seed's `SSLCert` (mitmproxy's `Cert`).
///
/// [`Connection`]: crate::Connection
///
/// ```
/// # fn f(flow: &waylay_sdk::Flow, ctx: &waylay_sdk::Context) {
/// let server = flow.server().map(|s| s.certificate_list()).unwrap_or_default();
/// if let Some(cert) = server.first() {
///     ctx.info(&format!("{:?} issued by {:?}", cert.cn(), cert.issuer()));
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    serial: Vec<u8>,
    issuer: Vec<(String, String)>,
    subject: Vec<(String, String)>,
    not_before: i64,
    not_after: i64,
    altnames: Vec<String>,
    is_ca: bool,
}

fn invalid(what: &str) -> Error {
    Error::new(format!("not an X.509 certificate: {what}"))
}

/// RFC 4514's short names, as mitmproxy shows them; others are dotted.
fn attribute_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        other => other,
    }
    .to_owned()
}

fn name(contents: &[u8]) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for (_, set) in der::children(contents).ok_or_else(|| invalid("bad name"))? {
        for (_, pair) in der::children(set).ok_or_else(|| invalid("bad name"))? {
            let parts = der::children(pair).ok_or_else(|| invalid("bad name"))?;
            if let [(0x06, oid), (_, value), ..] = parts[..] {
                out.push((
                    attribute_name(&der::oid(oid)),
                    String::from_utf8_lossy(value).into_owned(),
                ));
            }
        }
    }
    Ok(out)
}

impl Certificate {
    /// Reads a certificate from PEM text (the first `CERTIFICATE` block).
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// for pem in c.certificates() {
    ///     let cert = waylay_sdk::Certificate::from_pem(pem);
    /// }
    /// # }
    /// ```
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, Error> {
        let der = der::pem(pem).ok_or_else(|| invalid("no PEM CERTIFICATE block"))?;
        Certificate::from_der(der)
    }

    /// Reads a certificate from DER bytes.
    ///
    /// ```
    /// assert!(waylay_sdk::Certificate::from_der(b"not der".to_vec()).is_err());
    /// ```
    pub fn from_der(der: Vec<u8>) -> Result<Certificate, Error> {
        let (_, cert, _) = der::element(&der).ok_or_else(|| invalid("bad DER"))?;
        let (_, tbs, _) = der::element(cert).ok_or_else(|| invalid("no tbsCertificate"))?;
        let mut fields = der::children(tbs).ok_or_else(|| invalid("bad tbsCertificate"))?;
        if fields.first().is_some_and(|(tag, _)| *tag == 0xa0) {
            fields.remove(0);
        }
        let [
            (0x02, serial),
            (_, _),
            (0x30, issuer),
            (0x30, validity),
            (0x30, subject),
            (0x30, _),
            ref extra @ ..,
        ] = fields[..]
        else {
            return Err(invalid("unexpected tbsCertificate fields"));
        };
        let times = der::children(validity).ok_or_else(|| invalid("bad validity"))?;
        let [(t1, before), (t2, after)] = times[..] else {
            return Err(invalid("bad validity"));
        };
        let mut cert = Certificate {
            serial: serial.iter().skip_while(|&&b| b == 0).copied().collect(),
            issuer: name(issuer)?,
            subject: name(subject)?,
            not_before: der::time(t1, before).ok_or_else(|| invalid("bad notBefore"))?,
            not_after: der::time(t2, after).ok_or_else(|| invalid("bad notAfter"))?,
            altnames: Vec::new(),
            is_ca: false,
            der: Vec::new(),
        };
        if let Some((_, wrapped)) = extra.iter().find(|(tag, _)| *tag == 0xa3) {
            cert.read_extensions(wrapped);
        }
        cert.der = der;
        Ok(cert)
    }

    fn read_extensions(&mut self, wrapped: &[u8]) {
        let Some((_, list, _)) = der::element(wrapped) else {
            return;
        };
        for (_, ext) in der::children(list).unwrap_or_default() {
            let parts = der::children(ext).unwrap_or_default();
            let (Some((0x06, oid)), Some((0x04, value))) = (parts.first(), parts.last()) else {
                continue;
            };
            let Some((_, inner, _)) = der::element(value) else {
                continue;
            };
            match der::oid(oid).as_str() {
                "2.5.29.17" => {
                    for (tag, name) in der::children(inner).unwrap_or_default() {
                        match (tag, name.len()) {
                            (0x82, _) => self
                                .altnames
                                .push(String::from_utf8_lossy(name).into_owned()),
                            (0x87, 4) => self.altnames.push(
                                std::net::Ipv4Addr::new(name[0], name[1], name[2], name[3])
                                    .to_string(),
                            ),
                            (0x87, 16) => {
                                let mut octets = [0u8; 16];
                                octets.copy_from_slice(name);
                                self.altnames
                                    .push(std::net::Ipv6Addr::from(octets).to_string());
                            }
                            _ => {}
                        }
                    }
                }
                "2.5.29.19" => {
                    self.is_ca = der::children(inner)
                        .unwrap_or_default()
                        .first()
                        .is_some_and(|&(tag, v)| tag == 0x01 && v == [0xff]);
                }
                _ => {}
            }
        }
    }

    /// The subject's attributes in order, e.g. `[("CN", "example.com")]`.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// for (key, value) in cert.subject() {
    ///     println!("{key}={value}");
    /// }
    /// # }
    /// ```
    pub fn subject(&self) -> &[(String, String)] {
        &self.subject
    }

    /// The issuer's attributes in order.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// let self_signed = cert.issuer() == cert.subject();
    /// # }
    /// ```
    pub fn issuer(&self) -> &[(String, String)] {
        &self.issuer
    }

    /// The subject's common name.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// let cn: Option<&str> = cert.cn();
    /// # }
    /// ```
    pub fn cn(&self) -> Option<&str> {
        self.attribute("CN")
    }

    /// The subject's organization.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// let org: Option<&str> = cert.organization();
    /// # }
    /// ```
    pub fn organization(&self) -> Option<&str> {
        self.attribute("O")
    }

    fn attribute(&self, key: &str) -> Option<&str> {
        self.subject
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The subject alternative names: DNS names, and IP addresses as text.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// let covers = cert.altnames().iter().any(|n| n == "example.com");
    /// # }
    /// ```
    pub fn altnames(&self) -> &[String] {
        &self.altnames
    }

    /// The start of its validity, in Unix seconds.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// assert!(cert.not_before() <= cert.not_after());
    /// # }
    /// ```
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// The end of its validity, in Unix seconds.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate, now: i64) {
    /// let expired = cert.not_after() < now;
    /// # }
    /// ```
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// The serial number, big-endian, without leading zero bytes.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// let hex: String = cert.serial().iter().map(|b| format!("{b:02x}")).collect();
    /// # }
    /// ```
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The SHA-256 fingerprint of the DER encoding.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// let pin = cert.fingerprint();
    /// assert_eq!(pin.len(), 32);
    /// # }
    /// ```
    pub fn fingerprint(&self) -> [u8; 32] {
        der::sha256(&self.der)
    }

    /// Whether it is a CA certificate (basicConstraints cA).
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// if cert.is_ca() { /* a server showing a CA as its own certificate */ }
    /// # }
    /// ```
    pub fn is_ca(&self) -> bool {
        self.is_ca
    }

    /// The DER encoding.
    ///
    /// ```
    /// # fn f(cert: &waylay_sdk::Certificate) {
    /// let size = cert.der().len();
    /// # }
    /// ```
    pub fn der(&self) -> &[u8] {
        &self.der
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
    /// -subj "/CN=localhost/O=Test Org" -addext
    /// "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" -days 30`,
    /// serial set to 0x1234.
    const PEM: &str = include_str!("certificate/test-cert.pem");

    #[test]
    fn reads_what_openssl_wrote() {
        let cert = Certificate::from_pem(PEM.as_bytes()).unwrap();
        assert_eq!(cert.cn(), Some("localhost"));
        assert_eq!(cert.organization(), Some("Test Org"));
        assert_eq!(
            cert.subject(),
            [
                ("CN".to_owned(), "localhost".to_owned()),
                ("O".to_owned(), "Test Org".to_owned())
            ]
        );
        assert_eq!(cert.issuer(), cert.subject());
        assert_eq!(cert.altnames(), ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(cert.serial(), [0x12, 0x34]);
        assert_eq!(cert.not_after() - cert.not_before(), 30 * 86_400);
        assert!(cert.is_ca(), "openssl req -x509 marks it a CA");
        assert_eq!(cert.fingerprint(), der::sha256(cert.der()));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Certificate::from_pem(b"nothing here").is_err());
        let cert = Certificate::from_pem(PEM.as_bytes()).unwrap();
        for cut in [1, 10, 100, cert.der().len() - 1] {
            assert!(
                Certificate::from_der(cert.der()[..cut].to_vec()).is_err(),
                "{cut}"
            );
        }
    }
}
