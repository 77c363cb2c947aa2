//! report: verify a proof and write a self-contained HTML or Markdown page about it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use prover::atomic::write_atomic;
use verifier::report::{render, ReportFormat, ReportPaths};
use verifier::{verify_bundle_with, ProofBundle};

use super::read_model;

pub fn report(
    proof: &Path,
    model: &Path,
    output: Option<PathBuf>,
    format: ReportFormat,
    allow_dev_srs: bool,
) -> Result<ExitCode> {
    let bundle = ProofBundle::read(proof)?;
    let m = read_model(model)?;
    let v = verify_bundle_with(&bundle, &m, allow_dev_srs)?;
    let ext = match format {
        ReportFormat::Html => "html",
        ReportFormat::Markdown => "md",
    };
    let out = output.unwrap_or_else(|| proof.with_extension(ext));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (p, mp) = (proof.display().to_string(), model.display().to_string());
    let paths = ReportPaths {
        proof: &p,
        model: &mp,
    };
    let text = render(&bundle, &m, &v, &paths, now, format);
    write_atomic(&out, text.as_bytes()).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{}: report written to {}",
        if v.valid { "VALID" } else { "INVALID" },
        out.display()
    );
    Ok(if v.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
