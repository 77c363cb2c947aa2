//! compile, plan, run, prove.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use circuits::plan::{estimate, plan_for, Plan, MIN_K};
use prover::atomic::write_atomic;
use prover::prove::infer;
use prover::salt::{new_salt, read_salt, write_new_salt, SaltError};
use prover::{compile_model, CompileOptions, Prover};

use super::{fmt_outputs, print_json, read_input, read_model, sibling, top_class};

pub fn compile(
    onnx: &Path,
    output: Option<PathBuf>,
    calibration: Option<PathBuf>,
    visibility: circuits::Visibilities,
    layout: circuits::quantize::LayoutRequest,
    srs: &str,
    json: bool,
) -> Result<ExitCode> {
    let out = output.unwrap_or_else(|| sibling(onnx, "zkm"));
    let opts = CompileOptions {
        onnx: onnx.to_path_buf(),
        calibration,
        visibility,
        layout,
        srs: circuits::setup::store::find_srs(srs)?,
    };
    let (model, plan) = compile_model(&opts)?;
    write_atomic(&out, &model.to_json()).with_context(|| format!("writing {}", out.display()))?;
    if json {
        print_json(&json!({
            "model": out, "model_digest": model.digest, "k": model.k, "report": model.report, "plan": plan,
        }));
    } else {
        println!("{}", model.report);
        print_plan_summary(&plan);
        println!(
            "keys made: verifying key in the model file, proving key cached; proofs are {} bytes",
            plan.estimate.proof_bytes
        );
        print_stages(&plan);
        println!("wrote {} (model digest {})", out.display(), model.digest);
    }
    Ok(ExitCode::SUCCESS)
}

/// Rows and multiply-accumulates of each stage of the circuit.
fn print_stages(p: &Plan) {
    println!(
        "  {:<44} {:<15} {:>8} {:>10}",
        "circuit stage", "kind", "rows", "MACs"
    );
    for l in &p.layers {
        println!(
            "  {:<44} {:<15} {:>8} {:>10}",
            l.name, l.kind, l.rows, l.macs
        );
    }
}

fn print_plan_summary(p: &Plan) {
    println!(
        "circuit: k = {} ({} of {} usable rows), {} inputs x {} accumulators per row, {}-bit table limbs \
         ({} advice, ~{} fixed, {} equality columns, {} lookups), \
         {:.3} advice cells per multiply-accumulate ({} MACs)",
        p.k,
        p.rows,
        p.usable_rows,
        p.shape.inputs_per_row,
        p.shape.width,
        p.shape.limb_bits,
        p.advice_columns,
        p.fixed_columns,
        p.equality_columns,
        p.lookups,
        p.advice_cells_per_mac,
        p.macs
    );
}

pub fn plan(model: &Path) -> Result<Plan> {
    let m = read_model(model)?;
    let mut p = plan_for(
        &m.graph,
        m.visibility,
        m.shape.inputs_per_row,
        m.shape.width,
    )?;
    // The model's verifying key gives the exact proof size.
    if let Ok(vk) = m.verifying_key() {
        p.estimate.proof_bytes = circuits::keys::proof_bytes(&vk);
    }
    Ok(p)
}

pub fn plan_cmd(path: &Path, json: bool) -> Result<ExitCode> {
    let p = plan(path)?;
    if json {
        print_json(&serde_json::to_value(&p)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_plan_summary(&p);
    print_stages(&p);
    println!(
        "  range table: {} rows; public values: {} rows",
        p.table_rows, p.instance_rows
    );
    let e = &p.estimate;
    println!(
        "estimate (2 threads): keygen {:.2} s, prove {:.2} s, verify {:.3} s, peak memory {:.0} MiB; \
         proof {} bytes",
        e.keygen_s, e.prove_s, e.verify_s, e.peak_mib, e.proof_bytes
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(model: &Path, input: &Path, json: bool) -> Result<ExitCode> {
    let m = read_model(model)?;
    let x = read_input(input)?;
    let inf = infer(&m, &x).with_context(|| format!("input {}", input.display()))?;
    if json {
        print_json(&json!({ "outputs": [inf.outputs], "quantized": [inf.trace.output()] }));
    } else {
        println!("outputs: {}", fmt_outputs(&inf.outputs));
        if let Some(c) = top_class(&inf.outputs, m.graph.input_len()) {
            println!("top class: {c}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `zkinfer prove` is asked to do besides the model and the input.
pub struct ProveRequest {
    pub output: Option<PathBuf>,
    pub salt_file: Option<PathBuf>,
    /// Prove even when the plan's peak memory is over what is available.
    pub force: bool,
    pub json: bool,
}

/// Refuse a model whose planned peak memory is over what this process has (unless `force`).
fn check_memory(model: &Path, m: &circuits::ModelFile, force: bool) -> Result<()> {
    let Some(available) = prover::memory::available_bytes().map_err(anyhow::Error::msg)? else {
        return Ok(());
    };
    let peak = |k| (estimate(k, &m.shape).peak_mib * (1u64 << 20) as f64) as u64;
    let need = peak(m.k);
    if force || need <= available {
        return Ok(());
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let fits = (MIN_K..m.k).rev().find(|k| peak(*k) <= available).map_or(
        "no circuit of this row shape fits".to_string(),
        |k| {
            format!(
                "circuits of this row shape fit up to k = {k} ({} rows; this one needs k = {})",
                1usize << k,
                m.k
            )
        },
    );
    anyhow::bail!(
        "proving {} needs about {:.1} GiB (the plan's peak at k = {}), over the {:.1} GiB this process \
         has ({}); {fits}. Prove on a larger machine, or pass --force to try anyway",
        model.display(),
        gib(need),
        m.k,
        gib(available),
        match std::env::var_os(prover::memory::MEMORY_VAR) {
            Some(_) => prover::memory::MEMORY_VAR,
            None => "available memory, cgroup and address-space limits",
        }
    )
}

pub fn prove(model: &Path, input: &Path, request: ProveRequest) -> Result<ExitCode> {
    let ProveRequest {
        output,
        salt_file,
        force,
        json,
    } = request;
    let m = read_model(model)?;
    let x = read_input(input)?;
    // Check the input and the memory before spending time on keys.
    infer(&m, &x).with_context(|| format!("input {}", input.display()))?;
    check_memory(model, &m, force)?;
    let out = output.unwrap_or_else(|| sibling(input, "zkp"));
    // A salted input's salt: the one given, or a new one written beside the proof (checked to be
    // free before proving, written before the proof so that no proof is left without its salt).
    let (salt, new_salt_file) = match (m.visibility.input_salted, salt_file) {
        (false, Some(f)) => anyhow::bail!(
            "--salt-file {}: model {} does not salt its input's hash (compile it with --input hashed --salt)",
            f.display(),
            model.display()
        ),
        (false, None) => (None, None),
        (true, Some(f)) => (Some(read_salt(&f)?), None),
        (true, None) => {
            let path = sibling(&out, "salt");
            if path.exists() {
                return Err(SaltError::Exists(path).into());
            }
            (Some(new_salt()), Some(path))
        }
    };
    let progress = super::progress::Terminal::new(json);
    let prover = Prover::with_progress(&m, &progress)?;
    if let (Some(w), false) = (prover.params_source.warning(m.k), json) {
        eprintln!("warning: {w}");
    }
    let bundle = prover
        .prove_salted(&x, salt)
        .with_context(|| format!("proving {}", input.display()))?;
    if let (Some(path), Some(salt)) = (&new_salt_file, salt) {
        write_new_salt(path, salt)?;
        if !json {
            eprintln!(
                "wrote the input hash's salt to {}: keep it with the input (zkinfer hash --salt-file)",
                path.display()
            );
        }
    }
    let bytes = bundle.to_json_pretty();
    write_atomic(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    let outputs = &bundle.public.output.values;
    let info = &bundle.prover;
    if json {
        print_json(&json!({
            "proof": out, "model_digest": bundle.model_digest, "outputs": [outputs], "salt_file": new_salt_file,
            "k": bundle.k, "proof_bytes": bundle.proof_bytes()?.len(), "threads": info.threads,
            "params_s": info.params_s, "keygen_s": info.keygen_s, "witness_s": info.witness_s, "prove_s": info.prove_s,
        }));
    } else {
        println!("outputs: {}", fmt_outputs(outputs));
        if let Some(c) = top_class(outputs, m.graph.input_len()) {
            println!("top class: {c}");
        }
        println!(
            "proved in {:.3} s (proving key {:.3} s, SRS {:.3} s, {} threads); proof {} bytes; wrote {}",
            info.prove_s,
            info.keygen_s,
            info.params_s,
            info.threads,
            bundle.proof_bytes()?.len(),
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `zkinfer strip`: the model without its weights, for verifiers.
pub fn strip(model: &Path, output: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let m = read_model(model)?;
    let stripped = m
        .strip()
        .map_err(|why| anyhow::anyhow!("cannot strip {}: {why}", model.display()))?;
    let out = output.unwrap_or_else(|| sibling(model, "pub.zkm"));
    if out == model {
        anyhow::bail!(
            "refusing to overwrite {} with its stripped copy: choose another -o",
            model.display()
        );
    }
    let bytes = stripped.to_json();
    write_atomic(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    let hash = stripped.weights_hash.clone().unwrap_or_default();
    if json {
        print_json(&json!({
            "model": out, "model_digest": stripped.digest, "weights_hash": hash, "bytes": bytes.len(),
        }));
    } else {
        println!(
            "wrote {} ({} bytes, no weights; model digest {}, weights hash {hash})",
            out.display(),
            bytes.len(),
            stripped.digest
        );
    }
    Ok(ExitCode::SUCCESS)
}
