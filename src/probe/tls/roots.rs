//! The trust anchors: `--ca FILE`, else the system's roots, else webpki-roots when the system has none.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// Roots and where they came from, in words.
#[derive(Debug, Clone)]
pub struct Roots {
    /// The store.
    pub store: Arc<RootCertStore>,
    /// `system (146 certificates)`, `--ca lab.pem (1 certificate)`.
    pub source: String,
}

fn count(n: usize) -> String {
    format!("{n} certificate{}", if n == 1 { "" } else { "s" })
}

/// The certificates of a PEM file given with `--ca`; a file with none is a usage error.
pub fn from_file(path: &str) -> Result<Roots> {
    let shown = crate::text::escape(path).into_owned();
    let bytes = std::fs::read(path).map_err(|e| Error::io(format!("reading --ca '{shown}'"), e))?;
    let mut store = RootCertStore::empty();
    let mut bad = 0;
    for der in CertificateDer::pem_slice_iter(&bytes) {
        match der.map_err(|_| ()).and_then(|d| store.add(d).map_err(|_| ())) {
            Ok(()) => {}
            Err(()) => bad += 1,
        }
    }
    if store.is_empty() {
        return Err(Error::usage(format!(
            "--ca '{shown}' holds no usable certificate{}; accepted: a PEM file of one or more \
             '-----BEGIN CERTIFICATE-----' blocks",
            if bad > 0 {
                format!(" ({bad} unreadable)")
            } else {
                String::new()
            }
        )));
    }
    let n = store.len();
    Ok(Roots {
        store: Arc::new(store),
        source: format!("--ca {shown} ({})", count(n)),
    })
}

/// The system's roots (what OpenSSL and curl use), or webpki-roots' copy of Mozilla's when none load.
pub fn system() -> Roots {
    let loaded = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(loaded.certs);
    if added > 0 {
        return Roots {
            store: Arc::new(store),
            source: format!("system ({})", count(added)),
        };
    }
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let n = store.len();
    Roots {
        store: Arc::new(store),
        source: format!("webpki-roots, the system has none ({})", count(n)),
    }
}
