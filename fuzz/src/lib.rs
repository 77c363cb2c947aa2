//! What the fuzz targets do with each input, shared with the ordinary regression test
//! (`verifier/tests/hostile_files.rs` includes `checks.rs`), so that a fuzzer finding stays covered
//! by `cargo test` on stable.

pub mod checks;
