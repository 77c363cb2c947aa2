//! verify: the verifier crate's command (one proof, or many as a batch).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Result};

pub fn verify(proofs: &[PathBuf], model: &Path, json: bool) -> Result<ExitCode> {
    verifier::cli::run(proofs, model, json).map_err(|e| anyhow!("{e}"))
}
