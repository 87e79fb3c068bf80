//! The canned kubectl answers under tests/fixtures/dumps, read for the in-process tests.

/// A dump under tests/fixtures/dumps, as kubectl would print it.
pub(crate) fn dump_fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/dumps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}
