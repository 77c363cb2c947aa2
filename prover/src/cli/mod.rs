//! The subcommands. Each returns the process exit code, or an error (exit 2).

pub mod commands;
pub mod demo;
pub mod inspect;
pub mod keys;
pub mod memory_check;
pub mod progress;
pub mod prove;
pub mod report;
pub mod srs;
pub mod verify;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Size the global rayon pool (halo2's FFTs and MSMs run on it).
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        anyhow::ensure!(n > 0, "--threads must be at least 1");
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("sizing the thread pool")?;
    }
    Ok(())
}

/// `dir/name.ext` → `dir/name.<ext>`.
pub fn sibling(path: &Path, ext: &str) -> PathBuf {
    path.with_extension(ext)
}

/// Read and parse an input file, naming the file in every error.
pub fn read_input(path: &Path) -> Result<circuits::artifacts::input::ModelInput> {
    let text = circuits::artifacts::input::read_limited(path)
        .with_context(|| format!("cannot read input {}", path.display()))?;
    circuits::artifacts::input::parse_model_input(&text)
        .with_context(|| format!("input {}", path.display()))
}

pub fn read_model(path: &Path) -> Result<circuits::ModelFile> {
    Ok(circuits::ModelFile::read(path)?)
}

pub fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string(v).expect("json"));
}

pub use verifier::outputs::{fmt_outputs, top_class};
