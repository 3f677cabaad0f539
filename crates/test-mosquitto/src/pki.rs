//! A throwaway private CA and the certificates tests need, generated with rcgen at test time.
//! Nothing here is committed: every key lives in a temp dir for one test run.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use crate::{Result, err, write_private};

/// A certificate and its private key on disk (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The certificate.
    pub cert: PathBuf,
    /// The private key (mode 0600).
    pub key: PathBuf,
}

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From yesterday for a year.
    Current,
    /// Expired yesterday.
    Expired,
    /// Valid from a time near now for `days` days (expiry warnings).
    ExpiresInDays(i64),
}

impl Validity {
    fn apply(self, params: &mut CertificateParams) {
        let now = OffsetDateTime::now_utc();
        let (from, to) = match self {
            Validity::Current => (now - Duration::days(1), now + Duration::days(365)),
            Validity::Expired => (now - Duration::days(30), now - Duration::days(1)),
            Validity::ExpiresInDays(days) => (now - Duration::days(1), now + Duration::days(days)),
        };
        params.not_before = from;
        params.not_after = to;
    }
}

/// A private certificate authority that writes its files into one directory.
#[derive(Debug)]
pub struct Pki {
    dir: PathBuf,
    ca_params: CertificateParams,
    ca_key: KeyPair,
    ca_file: PathBuf,
}

fn rc(e: rcgen::Error) -> crate::HarnessError {
    err(format!("certificate generation failed: {e}"))
}

fn named(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

impl Pki {
    /// Creates a CA named `name` and writes `<name>-ca.pem` into `dir`.
    pub fn new(dir: &Path, name: &str) -> Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
        params.distinguished_name = named(&format!("{name} test CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Validity::Current.apply(&mut params);
        let key = KeyPair::generate().map_err(rc)?;
        let cert = params.self_signed(&key).map_err(rc)?;
        let ca_file = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&ca_file, cert.pem())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            ca_params: params,
            ca_key: key,
            ca_file,
        })
    }

    /// The CA certificate (PEM) that clients trust.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// A server certificate for `names` (DNS names or IP addresses).
    pub fn server(&self, stem: &str, names: &[&str], validity: Validity) -> Result<CertFiles> {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .map_err(rc)?;
        params.distinguished_name = named(names.first().copied().unwrap_or(stem));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        validity.apply(&mut params);
        self.issue(stem, params)
    }

    /// A client certificate with `common_name`.
    pub fn client(&self, stem: &str, common_name: &str) -> Result<CertFiles> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
        params.distinguished_name = named(common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        Validity::Current.apply(&mut params);
        self.issue(stem, params)
    }

    fn issue(&self, stem: &str, params: CertificateParams) -> Result<CertFiles> {
        let key = KeyPair::generate().map_err(rc)?;
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = params.signed_by(&key, &issuer).map_err(rc)?;
        let files = CertFiles {
            cert: self.dir.join(format!("{stem}.crt")),
            key: self.dir.join(format!("{stem}.key")),
        };
        std::fs::write(&files.cert, cert.pem())?;
        write_private(&files.key, &key.serialize_pem())?;
        Ok(files)
    }
}
