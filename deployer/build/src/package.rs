//! Packages a function binary as a Lambda zip: `bootstrap` at the root, byte-identical for
//! identical input, and named by its SHA-256 so that an unchanged function is never uploaded twice.

use std::io::{Cursor, Write};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// A packaged function, ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The zip archive.
    pub bytes: Vec<u8>,
    /// The archive's SHA-256, lowercase hex.
    pub sha256: String,
}

impl Package {
    /// The artifact's object name: its content hash, so equal content means equal key.
    pub fn file_name(&self) -> String {
        format!("{}.zip", self.sha256)
    }
}

/// What can go wrong while packaging.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Writing the archive failed.
    #[error("writing the zip archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Writing the archive's bytes failed.
    #[error("writing the zip archive: {0}")]
    Io(#[from] std::io::Error),
}

/// Zips `bootstrap` (the function's executable) as Lambda's `provided.al2023` runtime expects.
///
/// Every input to the archive that is not the binary itself is fixed: the timestamp is the zip
/// epoch (1980-01-01), the mode is 0755 and there is one entry, so the same binary always gives
/// the same bytes and the same name.
pub fn package_bootstrap(bootstrap: &[u8]) -> Result<Package, PackageError> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)?;
    zip.write_all(bootstrap)?;
    let bytes = zip.finish()?.into_inner();
    let sha256 = hex(&Sha256::digest(&bytes));
    Ok(Package { bytes, sha256 })
}

/// [`package_bootstrap`], reusing the zip made earlier for the same binary: zips are kept in
/// `cache_dir` under the binary's SHA-256 (with the zip's own SHA-256 beside it), so an
/// unchanged function costs one hash of its binary instead of a maximum-level deflate. Returns
/// the package and whether it came from the cache. A cache entry that cannot be read, or whose
/// zip does not match its recorded hash length, is simply made again.
pub fn package_bootstrap_cached(
    bootstrap: &[u8],
    cache_dir: &std::path::Path,
) -> Result<(Package, bool), PackageError> {
    let key = hex(&Sha256::digest(bootstrap));
    let zip_path = cache_dir.join(format!("{key}.zip"));
    let sha_path = cache_dir.join(format!("{key}.zip.sha256"));
    if let (Ok(bytes), Ok(sha256)) = (std::fs::read(&zip_path), std::fs::read_to_string(&sha_path))
    {
        let sha256 = sha256.trim().to_owned();
        if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok((Package { bytes, sha256 }, true));
        }
    }
    let package = package_bootstrap(bootstrap)?;
    std::fs::create_dir_all(cache_dir)?;
    // Written to a temporary name and renamed, so a concurrent run never reads half a zip; the
    // hash goes last, so a zip without its hash is never used.
    let tmp = cache_dir.join(format!("{key}.zip.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &package.bytes)?;
    std::fs::rename(&tmp, &zip_path)?;
    std::fs::write(&tmp, &package.sha256)?;
    std::fs::rename(&tmp, &sha_path)?;
    Ok((package, false))
}

/// Lowercase hex of some bytes.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn identical_input_gives_identical_bytes_and_name() {
        let binary = b"\x7fELF pretend executable".repeat(1000);
        let a = package_bootstrap(&binary).unwrap();
        let b = package_bootstrap(&binary).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.file_name().len(), 64 + 4);
        let c = package_bootstrap(b"another binary").unwrap();
        assert_ne!(a.sha256, c.sha256);
    }

    #[test]
    fn the_cache_reuses_the_zip_of_an_unchanged_binary() {
        let dir = tempfile::tempdir().unwrap();
        let binary = b"\x7fELF pretend executable v1".repeat(1000);
        let (first, cached) = package_bootstrap_cached(&binary, dir.path()).unwrap();
        assert!(!cached);
        assert_eq!(first, package_bootstrap(&binary).unwrap());
        let (second, cached) = package_bootstrap_cached(&binary, dir.path()).unwrap();
        assert!(cached);
        assert_eq!(second, first);
        // A changed binary is a different key: zipped again, never the old zip.
        let changed = b"\x7fELF pretend executable v2".repeat(1000);
        let (third, cached) = package_bootstrap_cached(&changed, dir.path()).unwrap();
        assert!(!cached);
        assert_eq!(third, package_bootstrap(&changed).unwrap());
        // A zip whose hash was never written is made again.
        let key = hex(&Sha256::digest(&binary));
        std::fs::remove_file(dir.path().join(format!("{key}.zip.sha256"))).unwrap();
        let (again, cached) = package_bootstrap_cached(&binary, dir.path()).unwrap();
        assert!(!cached);
        assert_eq!(again, first);
    }

    #[test]
    fn bootstrap_is_at_the_root_and_executable() {
        let binary = b"#!/bin/sh\necho hello\n".to_vec();
        let package = package_bootstrap(&binary).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(package.bytes)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, binary);
    }
}
