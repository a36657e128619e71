//! A regular file standing in for a device in unit tests.

/// A zeroed file of `len` bytes in a fresh temporary directory (removed when the
/// directory handle drops).
pub(crate) fn temp_device(len: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev");
    std::fs::File::create(&path).unwrap().set_len(len).unwrap();
    (dir, path)
}
