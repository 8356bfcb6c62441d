//! Helpers for this crate's own tests.

use std::path::PathBuf;

/// The repository's golden test data folder.
pub(crate) fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// A golden flow file's bytes.
pub(crate) fn golden(name: &str) -> Vec<u8> {
    let path = testdata().join("flows").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
