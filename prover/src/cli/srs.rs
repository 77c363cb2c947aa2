//! `zkinfer srs`: the structured reference strings on this machine: list, make the development one,
//! import a ceremony's file, download the published one.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use circuits::setup::import::import_bytes;
use circuits::setup::srs::{SrsRef, KNOWN};
use circuits::setup::store;
use prover::srs_get::{fetch_pinned, hermez_file, DEFAULT_BASE_URL};

use super::print_json;

/// The k files of an SRS on this machine.
fn ks_on_disk(srs: &SrsRef) -> Vec<u32> {
    let Ok(dir) = store::srs_dir(srs) else {
        return vec![];
    };
    (circuits::plan::MIN_K..=circuits::plan::MAX_K)
        .filter(|k| dir.join(format!("k{k}.params")).is_file())
        .collect()
}

/// The SRS on this machine: the known ones (with their files) and the imported ones.
fn all_srs() -> Result<Vec<SrsRef>> {
    let mut list: Vec<SrsRef> = KNOWN.iter().filter_map(|(n, _)| SrsRef::known(n)).collect();
    for r in store::imported_srs()? {
        if !list.contains(&r) {
            list.push(r);
        }
    }
    Ok(list)
}

/// `zkinfer srs list`.
pub fn list(json_out: bool) -> Result<ExitCode> {
    let list = all_srs()?;
    if json_out {
        let items: Vec<_> = list
            .iter()
            .map(|r| json!({"name": r.name, "tau_g2": r.tau_g2, "id": r.id(), "ks": ks_on_disk(r), "insecure": r.is_dev()}))
            .collect();
        print_json(&json!({ "cache": store::cache_dir()?, "srs": items }));
        return Ok(ExitCode::SUCCESS);
    }
    println!("SRS in {}:", store::cache_dir()?.join("srs").display());
    for r in &list {
        let ks = ks_on_disk(r);
        let files = match (ks.first(), ks.last()) {
            (Some(a), Some(b)) if a == b => format!("k = {a}"),
            (Some(a), Some(b)) => format!("k = {a}..{b} ({} files)", ks.len()),
            _ => "no files".into(),
        };
        let note = if r.is_dev() {
            " (INSECURE: for trying out and tests; made on demand)"
        } else if KNOWN.iter().any(|(n, _)| *n == r.name) {
            " (pinned in zkinfer)"
        } else {
            " (imported)"
        };
        println!("  {:<10} {files}{note}; τ·G2 {}…", r.name, &r.tau_g2[..16]);
    }
    Ok(ExitCode::SUCCESS)
}

/// `zkinfer srs dev --k N`.
pub fn dev(k: u32) -> Result<ExitCode> {
    anyhow::ensure!(
        (circuits::plan::MIN_K..=circuits::plan::MAX_K).contains(&k),
        "--k {k}: zkinfer uses k = {} to {}",
        circuits::plan::MIN_K,
        circuits::plan::MAX_K
    );
    let srs = SrsRef::dev();
    let (_, source) = store::load(&srs, k)?;
    if let Some(w) = source.warning(k) {
        eprintln!("warning: {w}");
    }
    println!(
        "development SRS for k = {k} in {} (INSECURE: anyone can forge proofs against it)",
        store::params_path(&srs, k)?.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `zkinfer srs import FILE [--name NAME] [--k K]`.
pub fn import(file: &Path, name: Option<&str>, max_k: Option<u32>) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let imported = import_bytes(&bytes, name, max_k, |k| {
        eprintln!("computing and checking the parameters for k = {k}");
    })
    .with_context(|| format!("importing {}", file.display()))?;
    let (a, b) = (imported.ks[0], imported.ks[imported.ks.len() - 1]);
    println!(
        "imported SRS '{}' for k = {a}..{b} into {} (compile with --srs {})",
        imported.srs.name,
        imported.dir.display(),
        imported.srs.name
    );
    Ok(ExitCode::SUCCESS)
}

/// `zkinfer srs get --k N [--from URL]`.
pub fn get(k: u32, base: Option<&str>) -> Result<ExitCode> {
    let (file, size, pin) = hermez_file(k)?;
    let base = base.unwrap_or(DEFAULT_BASE_URL);
    let url = format!("{}/{file}", base.trim_end_matches('/'));
    eprintln!("downloading {url} ({size} bytes), checked against its pinned BLAKE2b-512");
    let tmp_dir = store::cache_dir()?.join("downloads");
    let tmp = fetch_pinned(&url, pin, size, &tmp_dir)?;
    let bytes = std::fs::read(tmp.path()).context("reading the download")?;
    let imported = import_bytes(&bytes, Some("hermez"), Some(k), |k| {
        eprintln!("computing and checking the parameters for k = {k}");
    })?;
    println!(
        "SRS '{}' (Hermez Powers of Tau) for k = {}..{k} in {}",
        imported.srs.name,
        imported.ks[0],
        imported.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
