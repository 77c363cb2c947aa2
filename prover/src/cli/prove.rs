//! prove: one model, one or many inputs (files, or folders of `.json` files), one key load.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use circuits::field::Fr;
use circuits::plan::estimate;
use circuits::ModelFile;
use prover::atomic::write_atomic;
use prover::prove::{infer, KeySource};
use prover::salt::{new_salt, read_salt, write_new_salt, SaltError};
use prover::Prover;

use super::memory_check;
use super::{fmt_outputs, print_json, read_input, read_model, sibling, top_class};

/// What `zkinfer prove` is asked to do besides the model and the inputs.
pub struct ProveRequest {
    /// The proof file (one input), or the folder of the proofs (several inputs).
    pub output: Option<PathBuf>,
    /// The salt of a salted input's hash (one input only).
    pub salt_file: Option<PathBuf>,
    /// Prove even when the plan's peak memory is over what is available.
    pub force: bool,
    /// One JSON object instead of text.
    pub json: bool,
}

/// Record how this proof's time compares with the plan's estimate (a KZG model's; see
/// [`prover::machine_speed`]), for `zkinfer plan` to show this machine's times. Best effort: a
/// cache that cannot be written leaves the proof as it is.
fn record_speed(m: &ModelFile, threads: usize, prove_s: f64) {
    if m.proof_system.commitment != circuits::artifacts::model_file::Commitment::Kzg {
        return;
    }
    let load = circuits::plan::VerifyLoad::default(); // the proof time does not depend on it
    let estimated = estimate(m.k, &m.shape, load).prove_s;
    if let Ok(cache) = circuits::setup::store::cache_dir() {
        let _ = prover::machine_speed::record(&cache, threads, estimated, prove_s);
    }
}

/// The input files: each file given, and the `.json` files of each folder given (sorted).
fn input_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read folder {}", p.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "json"))
                .collect();
            anyhow::ensure!(
                !found.is_empty(),
                "folder {} has no .json input",
                p.display()
            );
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// One input to prove: its file, values, proof file, and salt (with the file a new salt goes to).
struct Job {
    input: PathBuf,
    x: circuits::artifacts::input::ModelInput,
    out: PathBuf,
    salt: Option<Fr>,
    new_salt_file: Option<PathBuf>,
}

/// Read and check every input, and choose every output, before any key is loaded.
fn jobs(model: &Path, m: &ModelFile, inputs: &[PathBuf], r: &ProveRequest) -> Result<Vec<Job>> {
    let files = input_files(inputs)?;
    let several = files.len() > 1;
    if several && r.salt_file.is_some() {
        anyhow::bail!(
            "--salt-file goes with one input: each proof of several gets a salt of its own"
        );
    }
    let out_dir = match (&r.output, several) {
        (Some(dir), true) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("-o {}: a folder for the proofs", dir.display()))?;
            Some(dir.clone())
        }
        _ => None,
    };
    let mut jobs = Vec::with_capacity(files.len());
    for input in files {
        let x = read_input(&input)?;
        infer(m, &x).with_context(|| format!("input {}", input.display()))?;
        let out = match (&out_dir, &r.output) {
            (Some(dir), _) => dir.join(sibling(&input, "zkp").file_name().expect("a file")),
            (None, Some(o)) => o.clone(),
            (None, None) => sibling(&input, "zkp"),
        };
        // A salted input's salt: the one given, or a new one written beside the proof (checked to
        // be free before proving, written before the proof so that no proof is left without it).
        let (salt, new_salt_file) = match (m.visibility.input.salted(), &r.salt_file) {
            (false, Some(f)) => anyhow::bail!(
                "--salt-file {}: model {} does not salt its input's hash (compile it with --input hashed --salt)",
                f.display(),
                model.display()
            ),
            (false, None) => (None, None),
            (true, Some(f)) => (Some(read_salt(f)?), None),
            (true, None) => {
                let path = sibling(&out, "salt");
                if path.exists() {
                    return Err(SaltError::Exists(path).into());
                }
                (Some(new_salt()), Some(path))
            }
        };
        jobs.push(Job {
            input,
            x,
            out,
            salt,
            new_salt_file,
        });
    }
    let mut outs: Vec<&PathBuf> = jobs.iter().map(|j| &j.out).collect();
    outs.sort();
    outs.dedup();
    anyhow::ensure!(
        outs.len() == jobs.len(),
        "two inputs would write the same proof file: give them distinct names"
    );
    Ok(jobs)
}

/// Prove one job and write its files; returns its JSON summary.
fn prove_job(prover: &Prover<'_>, m: &ModelFile, job: &Job, json: bool) -> Result<Value> {
    let bundle = prover
        .prove_salted(&job.x, job.salt)
        .with_context(|| format!("proving {}", job.input.display()))?;
    if let (Some(path), Some(salt)) = (&job.new_salt_file, job.salt) {
        write_new_salt(path, salt)?;
        if !json {
            eprintln!(
                "wrote the input hash's salt to {}: keep it with the input (zkinfer hash --salt-file)",
                path.display()
            );
        }
    }
    let out = &job.out;
    write_atomic(out, &bundle.to_json_pretty())
        .with_context(|| format!("writing {}", out.display()))?;
    let outputs = &bundle.public.output.values;
    let info = &bundle.prover;
    record_speed(m, info.threads, info.prove_s);
    let proof_bytes = bundle.proof_bytes()?.len();
    if !json {
        println!("outputs: {}", fmt_outputs(outputs));
        if let Some(c) = top_class(outputs, m.graph.input_len()) {
            println!("top class: {c}");
        }
        println!(
            "proved in {:.3} s (proving key {:.3} s, SRS {:.3} s, {} threads); proof {proof_bytes} bytes; wrote {}",
            info.prove_s,
            info.keygen_s,
            info.params_s,
            info.threads,
            out.display()
        );
    }
    Ok(json!({
        "proof": out, "model_digest": bundle.model_digest, "outputs": [outputs], "salt_file": job.new_salt_file,
        "k": bundle.k, "proof_bytes": proof_bytes, "threads": info.threads,
        "params_s": info.params_s, "keygen_s": info.keygen_s, "witness_s": info.witness_s, "prove_s": info.prove_s,
    }))
}

/// `zkinfer prove -m MODEL -i INPUT...`: the SRS and the proving key are loaded once.
pub fn prove(model: &Path, inputs: &[PathBuf], request: ProveRequest) -> Result<ExitCode> {
    let m = read_model(model)?;
    let key_cache_limit = prover::key_cache::limit_bytes()?;
    // Every input and output is checked, and the memory, before time is spent on keys.
    let jobs = jobs(model, &m, inputs, &request)?;
    // A proving key not yet cached is made first (key generation's peak).
    let work = match prover::prove::pk_path(&m).is_ok_and(|p| p.is_file()) {
        true => memory_check::Work::Prove,
        false => memory_check::Work::KeygenThenProve,
    };
    memory_check::check(model, &m.shape, m.k, work, request.force)?;
    let json = request.json;
    let progress = super::progress::Terminal::new(json);
    let prover = Prover::with_progress(&m, &progress)?;
    if let (Some(w), false) = (prover.params_source.warning(m.k), json) {
        eprintln!("warning: {w}");
    }
    match &prover.key_source {
        KeySource::Made => super::keys::keep_limit(&m.digest, key_cache_limit),
        KeySource::MadeNotCached(why) => eprintln!("warning: {why}"),
        KeySource::Cache => {}
    }
    let t = std::time::Instant::now();
    let mut done = Vec::with_capacity(jobs.len());
    for job in &jobs {
        done.push(prove_job(&prover, &m, job, json)?);
    }
    if json {
        match done.as_slice() {
            [one] => print_json(one),
            _ => print_json(&json!({ "proofs": done, "total_s": t.elapsed().as_secs_f64() })),
        }
    } else if done.len() > 1 {
        println!(
            "proved {} inputs in {:.2} s (SRS and proving key loaded once)",
            done.len(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
