//! compile, plan, run, strip.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use circuits::plan::{plan_of_shape, Plan};
use circuits::qgraph::{QOp, QuantGraph};
use prover::atomic::write_atomic;
use prover::prove::infer;
use prover::CompileOptions;

use super::{fmt_outputs, print_json, read_input, read_model, sibling, top_class};

/// `zkinfer compile`: `srs` names the SRS (KZG; unused in IPA mode); `force` makes the keys even
/// when their planned peak memory is over what this process has.
pub fn compile(
    opts: CompileOptions,
    srs: &str,
    output: Option<PathBuf>,
    force: bool,
    json: bool,
) -> Result<ExitCode> {
    let out = output.unwrap_or_else(|| sibling(&opts.onnx, "zkm"));
    let key_cache_limit = prover::key_cache::limit_bytes()?;
    let opts = match opts.commitment {
        circuits::artifacts::model_file::Commitment::Kzg => CompileOptions {
            srs: circuits::setup::store::find_srs(srs)?,
            ..opts
        },
        circuits::artifacts::model_file::Commitment::Ipa => opts,
    };
    let (model, plan) = prover::compile::quantize_model(&opts)?;
    let work = super::memory_check::Work::Keygen;
    let (model, plan) = match force {
        false => fitting_memory(&opts, (model, plan), "--force keeps the fastest")?,
        true => (model, plan),
    };
    super::memory_check::check(&opts.onnx, &model.shape, model.k, work, force)?;
    let (model, plan) = prover::compile::make_keys(model, plan, &opts)?;
    write_atomic(&out, &model.to_json()).with_context(|| format!("writing {}", out.display()))?;
    super::keys::keep_limit(&model.digest, key_cache_limit);
    if json {
        print_json(&json!({
            "model": out, "model_digest": model.digest, "k": model.k, "report": model.report, "plan": plan,
        }));
    } else {
        println!("{}", model.report);
        print_plan_summary(&plan);
        let size = match model.proof_system.commitment {
            circuits::artifacts::model_file::Commitment::Kzg => {
                format!("; proofs are {} bytes", plan.estimate.proof_bytes)
            }
            circuits::artifacts::model_file::Commitment::Ipa => String::new(),
        };
        println!("keys made: verifying key in the model file, proving key cached{size}");
        print_stages(&plan);
        print_table_note(&plan, &model.graph);
        println!("wrote {} (model digest {})", out.display(), model.digest);
    }
    Ok(ExitCode::SUCCESS)
}

/// The fastest layout's keys need more memory than this process has (`available` bytes): the
/// fastest layout whose keys and proofs fit it, said on stderr, or the fastest as it is when none
/// does (the memory check then refuses it, with its figures).
fn within_memory(
    opts: &CompileOptions,
    fastest: (circuits::ModelFile, Plan),
    available: u64,
    overridden_by: &str,
) -> (circuits::ModelFile, Plan) {
    let within = CompileOptions {
        layout: circuits::quantize::LayoutRequest {
            max_peak_mib: Some(available >> 20),
            ..opts.layout
        },
        ..opts.clone()
    };
    let (model, plan) = match prover::compile::quantize_model(&within) {
        Ok(fits) => fits,
        Err(e) => {
            eprintln!("memory: no other layout fits either: {e}");
            return fastest;
        }
    };
    let (f, e) = (&fastest.1, &plan.estimate);
    let layout = |p: &Plan| {
        format!(
            "{} x {}, k = {}",
            p.shape.inputs_per_row, p.shape.width, p.k
        )
    };
    eprintln!(
        "memory: the fastest layout ({}) needs about {} to make its keys, over the {} this \
         process has; the fastest layout within it instead: {}, about {} at most, prove ~{:.1} s \
         against ~{:.1} s ({overridden_by})",
        layout(f),
        fmt_mib(f.estimate.keygen_peak_mib),
        fmt_mib(available as f64 / (1u64 << 20) as f64),
        layout(&plan),
        fmt_mib(circuits::plan::peak_mib(&plan)),
        e.prove_s,
        f.estimate.prove_s,
    );
    (model, plan)
}

/// The plan `compile` takes: the fastest layout, or where its keys are over the memory this process
/// has and no row shape was asked, the fastest within it ([`within_memory`]).
fn fitting_memory(
    opts: &CompileOptions,
    fastest: (circuits::ModelFile, Plan),
    overridden_by: &str,
) -> Result<(circuits::ModelFile, Plan)> {
    let (shape, k) = (fastest.0.shape, fastest.0.k);
    let work = super::memory_check::Work::Keygen;
    Ok(match super::memory_check::over(&shape, k, work)? {
        Some(available) if opts.layout.shape.is_none() => {
            within_memory(opts, fastest, available, overridden_by)
        }
        _ => fastest,
    })
}

/// Memory in MiB as GiB from 1 GiB up.
fn fmt_mib(mib: f64) -> String {
    match mib >= 1024.0 {
        true => format!("{:.1} GiB", mib / 1024.0),
        false => format!("{mib:.1} MiB"),
    }
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
    if p.shape.threshold {
        let banks = match p.shape.threshold_banks {
            1 => String::new(),
            n => format!("; their table in {n} banks, a lookup argument each"),
        };
        println!("  threshold rows: {}{banks}", p.shape.threshold_limbs());
    }
}

/// The plan of a compiled model.
fn plan(m: &circuits::ModelFile) -> Result<Plan> {
    let mut p = plan_of_shape(&m.graph, m.visibility, &m.shape)?;
    // The model's verifying key gives the exact proof size.
    if let Ok(vk) = m.verifying_key() {
        p.estimate.proof_bytes = circuits::keys::proof_bytes(&vk);
    }
    Ok(p)
}

pub fn plan_cmd(path: &Path, json: bool) -> Result<ExitCode> {
    let m = read_model(path)?;
    print_plan(&plan(&m)?, &m.graph, json)
}

/// `zkinfer plan model.onnx`: quantize and plan without making keys.
pub fn plan_onnx(opts: &CompileOptions, json: bool) -> Result<ExitCode> {
    let fastest = prover::compile::quantize_model(opts)?;
    let (model, plan) = fitting_memory(opts, fastest, "compile --force keeps the fastest")?;
    if !json {
        println!("{}", model.report);
        println!(
            "plan of {} before compiling (no keys made):",
            opts.onnx.display()
        );
    }
    print_plan(&plan, &model.graph, json)
}

/// What this machine's recorded proofs say of its speed (see [`prover::machine_speed`]), for the
/// thread count `plan` runs with (a prove without `--threads` uses the same).
fn machine_factor() -> Option<prover::machine_speed::MachineFactor> {
    let cache = circuits::setup::store::cache_dir().ok()?;
    prover::machine_speed::factor(&cache, rayon::current_num_threads())
}

/// `e` with its times scaled by `f` (memory and proof size are the machine's own).
fn scaled(e: &circuits::plan::Estimate, f: f64) -> circuits::plan::Estimate {
    circuits::plan::Estimate {
        keygen_s: e.keygen_s * f,
        prove_s: e.prove_s * f,
        verify_s: e.verify_s * f,
        ..e.clone()
    }
}

/// When the largest lookup table, not the rows, sets k: say so, and what shrinks a table of
/// per-channel threshold maps.
fn print_table_note(p: &Plan, graph: &QuantGraph) {
    let rows_k = p.k_for_rows();
    if rows_k >= p.k {
        return;
    }
    let bank = match p.shape.threshold_banks {
        1 => String::new(),
        n => format!(", a bank of the threshold table's {n}"),
    };
    println!(
        "  k = {} is set by the largest lookup table ({} rows{bank}): the circuit's {} rows alone \
         fit k = {rows_k}",
        p.k, p.table_rows, p.rows
    );
    let maps = graph.threshold_maps().len();
    let layers = graph
        .layers
        .iter()
        .filter(|l| matches!(l.op, QOp::Threshold(_)))
        .count();
    if p.shape.threshold && maps > layers {
        println!(
            "  it holds {maps} threshold maps for {layers} requantizations: one per output channel \
             where weights have per-channel scales; weights quantized per tensor share one map per \
             layer (onnxruntime: quantize_static(..., per_channel=False))"
        );
    }
}

fn print_plan(p: &Plan, graph: &QuantGraph, json: bool) -> Result<ExitCode> {
    let machine = machine_factor();
    if json {
        let mut v = serde_json::to_value(p)?;
        if let Some(m) = machine {
            v["machine"] = json!({
                "factor": m.factor, "proofs": m.proofs, "threads": m.threads,
                "estimate": scaled(&p.estimate, m.factor),
            });
        }
        print_json(&v);
        return Ok(ExitCode::SUCCESS);
    }
    print_plan_summary(p);
    print_stages(p);
    let columns = p.shape.instance_columns;
    let spread = match columns {
        1 => String::new(),
        c => format!(
            " over {c} instance columns (at most {} rows each)",
            p.instance_rows.div_ceil(c)
        ),
    };
    println!(
        "  largest lookup table: {} rows; public values: {}{spread}",
        p.table_rows, p.instance_rows
    );
    print_table_note(p, graph);
    let e = &p.estimate;
    println!(
        "estimate (2 threads): prove {:.2} s, verify {:.3} s, peak memory {:.0} MiB; proof {} bytes",
        e.prove_s, e.verify_s, e.peak_mib, e.proof_bytes
    );
    println!(
        "  once, when compiling (the keys): keygen {:.2} s, peak memory {:.0} MiB",
        e.keygen_s, e.keygen_peak_mib
    );
    match machine {
        Some(m) => {
            let h = scaled(e, m.factor);
            println!(
                "on this machine ({} threads; its last {} proofs took {:.2}x their estimates, the \
                 median): prove {:.2} s, verify {:.3} s, keygen {:.2} s",
                m.threads, m.proofs, m.factor, h.prove_s, h.verify_s, h.keygen_s
            );
        }
        None => println!(
            "  (times of the 2-core reference machine; after a few proofs of {} s or more, plan \
             shows this machine's)",
            prover::machine_speed::MIN_ESTIMATE_S
        ),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(model: &Path, input: &Path, json: bool) -> Result<ExitCode> {
    let m = read_model(model)?;
    let x = read_input(input)?;
    let inf = infer(&m, &x).with_context(|| format!("input {}", input.display()))?;
    if json {
        // A uint8 model's output as its bytes (held as int8, bytes - 128).
        let off = m.graph.int8.map_or(0, |io| io.byte_offset());
        let quantized: Vec<i64> = inf.trace.output().iter().map(|v| v + off).collect();
        print_json(&json!({ "outputs": [inf.outputs], "quantized": [quantized] }));
    } else {
        println!("outputs: {}", fmt_outputs(&inf.outputs));
        if let Some(c) = top_class(&inf.outputs, m.graph.input_len()) {
            println!("top class: {c}");
        }
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
