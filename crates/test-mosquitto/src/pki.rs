//! A throwaway private CA and the certificates tests need, generated with rcgen at test time.
//! Nothing here is committed: every key lives in a temp dir for one test run.

use std::path::{Path, PathBuf};

use mosquitto_setup::{Ca, Issued};

pub use mosquitto_setup::Validity;

use crate::{Result, err, write_private};

/// A certificate and its private key on disk (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The certificate.
    pub cert: PathBuf,
    /// The private key (mode 0600).
    pub key: PathBuf,
}

/// A private certificate authority that writes its files into one directory.
#[derive(Debug)]
pub struct Pki {
    dir: PathBuf,
    ca: Ca,
    ca_file: PathBuf,
}

fn rc(e: mosquitto_setup::Error) -> crate::HarnessError {
    err(format!("certificate generation failed: {e}"))
}

impl Pki {
    /// Creates a CA named `name` and writes `<name>-ca.pem` into `dir`.
    pub fn new(dir: &Path, name: &str) -> Result<Self> {
        let ca = Ca::new(&format!("{name} test CA"), Validity::Current).map_err(rc)?;
        let ca_file = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&ca_file, ca.cert_pem())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            ca,
            ca_file,
        })
    }

    /// The CA certificate (PEM) that clients trust.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// A server certificate for `names` (DNS names or IP addresses).
    pub fn server(&self, stem: &str, names: &[&str], validity: Validity) -> Result<CertFiles> {
        let issued = self.ca.server(names, validity).map_err(rc)?;
        self.write(stem, &issued)
    }

    /// A client certificate with `common_name`.
    pub fn client(&self, stem: &str, common_name: &str) -> Result<CertFiles> {
        let issued = self.ca.client(common_name, Validity::Current).map_err(rc)?;
        self.write(stem, &issued)
    }

    fn write(&self, stem: &str, issued: &Issued) -> Result<CertFiles> {
        let files = CertFiles {
            cert: self.dir.join(format!("{stem}.crt")),
            key: self.dir.join(format!("{stem}.key")),
        };
        std::fs::write(&files.cert, &issued.cert_pem)?;
        write_private(&files.key, &issued.key_pem)?;
        Ok(files)
    }
}
