//! Leaf certificates minted per host, signed by the CA, kept in a bounded
//! cache so that a host costs one signature, once.
//!
//! As in mitmproxy, every leaf shares one key made at startup: minting is
//! then a signature, not a key generation. Leaf keys never touch the disk.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, SanType};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use super::TlsError;
use super::ca::Ca;

/// How many hosts' leaves are kept.
pub const CACHE_SIZE: usize = 4096;

/// Mints and caches leaves.
pub struct Leaves {
    ca: Ca,
    key: KeyPair,
    signing: Arc<dyn rustls::sign::SigningKey>,
    cache: Mutex<Cache>,
    minted: AtomicU64,
}

#[derive(Default)]
struct Cache {
    map: HashMap<String, Arc<CertifiedKey>>,
    order: VecDeque<String>,
}

impl std::fmt::Debug for Leaves {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leaves")
            .field("minted", &self.minted)
            .finish_non_exhaustive()
    }
}

impl Leaves {
    /// A minter signing with `ca`, with a fresh leaf key.
    pub fn new(ca: Ca) -> Result<Leaves, TlsError> {
        let crypto = |what| {
            move |e: &dyn std::fmt::Display| TlsError::Crypto {
                what,
                cause: e.to_string(),
            }
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| crypto("make the leaf key")(&e))?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing = rustls::crypto::ring::sign::any_supported_type(&der)
            .map_err(|e| crypto("use the leaf key")(&e))?;
        Ok(Leaves {
            ca,
            key,
            signing,
            cache: Mutex::default(),
            minted: AtomicU64::new(0),
        })
    }

    /// The CA signing the leaves.
    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// How many leaves have been minted (cache misses).
    pub fn minted(&self) -> u64 {
        self.minted.load(Ordering::Relaxed)
    }

    /// The leaf for `host` (a name or an IP address), from the cache or
    /// minted now.
    pub fn get(&self, host: &str) -> Result<Arc<CertifiedKey>, TlsError> {
        let host = host.to_ascii_lowercase();
        if let Some(hit) = self.lock().map.get(&host) {
            return Ok(hit.clone());
        }
        let leaf = Arc::new(self.mint(&host)?);
        let mut cache = self.lock();
        if cache.map.insert(host.clone(), leaf.clone()).is_none() {
            cache.order.push_back(host);
            if cache.order.len() > CACHE_SIZE
                && let Some(old) = cache.order.pop_front()
            {
                cache.map.remove(&old);
            }
        }
        Ok(leaf)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Signs a new leaf for `host`; not cached.
    pub fn mint(&self, host: &str) -> Result<CertifiedKey, TlsError> {
        self.minted.fetch_add(1, Ordering::Relaxed);
        let fail = |e: rcgen::Error| TlsError::Leaf {
            host: host.to_owned(),
            cause: e.to_string(),
        };
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, host);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "waylay");
        params.subject_alt_names = vec![match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(host.try_into().map_err(fail)?),
        }];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(2);
        params.not_after = now + time::Duration::days(365);
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&super::random_serial()));
        let cert = params.signed_by(&self.key, &self.ca.issuer).map_err(fail)?;
        Ok(CertifiedKey::new(
            vec![cert.der().clone(), self.ca.cert.clone()],
            self.signing.clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves() -> Leaves {
        let dir = tempfile::tempdir().unwrap();
        Leaves::new(super::super::ca::load_or_create(dir.path()).unwrap().ca).unwrap()
    }

    #[test]
    fn a_host_is_minted_once() {
        let leaves = leaves();
        let a = leaves.get("Example.com").unwrap();
        let b = leaves.get("example.com").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(leaves.minted(), 1);
        leaves.get("127.0.0.1").unwrap();
        assert_eq!(leaves.minted(), 2);
        assert_eq!(a.cert.len(), 2, "leaf then CA");
    }

    #[test]
    fn names_that_are_not_dns_names_fail_cleanly() {
        let e = leaves().get("bücher.example").err();
        assert!(
            matches!(e, Some(TlsError::Leaf { ref host, .. }) if host == "bücher.example"),
            "{e:?}"
        );
    }
}
