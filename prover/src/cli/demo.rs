//! demo: the bundled digits MLP, compiled, proved and verified, with timings.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};

use prover::atomic::write_atomic;
use prover::{compile_model, CompileOptions, Prover};
use verifier::verify_bundle_with;

use super::{fmt_outputs, top_class};

const ONNX: &[u8] = include_bytes!("../../../fixtures/digits_mlp.onnx");
const CALIBRATION: &[u8] = include_bytes!("../../../fixtures/digits/calibration.json");
const INPUT: &[u8] = include_bytes!("../../../fixtures/digits/input_0.json");
const EXPECTED: &str = include_str!("../../../fixtures/digits/expected_0.json");

pub fn demo(out: Option<PathBuf>) -> Result<ExitCode> {
    let tmp;
    let keep = out.is_some();
    let dir = match out {
        Some(d) => {
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
            d
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let onnx = dir.join("digits_mlp.onnx");
    let calibration = dir.join("calibration.json");
    let input = dir.join("input.json");
    for (p, b) in [(&onnx, ONNX), (&calibration, CALIBRATION), (&input, INPUT)] {
        write_atomic(p, b).with_context(|| format!("writing {}", p.display()))?;
    }
    let label = serde_json::from_str::<serde_json::Value>(EXPECTED)?["label"].as_i64();
    println!(
        "zkinfer demo: digits MLP (64-32-10, ReLU, scikit-learn digits), files in {}",
        dir.display()
    );
    println!(
        "   on the development SRS: works offline, but insecure (anyone can forge its proofs); \
         compile real models with a ceremony's SRS (zkinfer srs --help)"
    );

    let t = Instant::now();
    let (model, plan) = compile_model(&CompileOptions {
        srs: circuits::setup::srs::SrsRef::dev(),
        commitment: circuits::artifacts::model_file::Commitment::Kzg,
        onnx: onnx.clone(),
        calibration: Some(calibration),
        visibility: Default::default(),
        layout: Default::default(),
    })?;
    write_atomic(&dir.join("digits_mlp.zkm"), &model.to_json())?;
    println!(
        "1. compiled in {:.3} s: k = {}, {} rows, {:.3} advice cells per MAC; output error vs float {:.4}, \
         top-1 agreement on calibration {:.0}%",
        t.elapsed().as_secs_f64(),
        plan.k,
        plan.rows,
        plan.advice_cells_per_mac,
        model.report.output_max_abs_error,
        model.report.top1_agreement.unwrap_or(0.0) * 100.0
    );

    let progress = super::progress::Terminal::new(false);
    let prover = Prover::with_progress(&model, &progress)?;
    let x = circuits::artifacts::input::parse_input(std::str::from_utf8(INPUT)?)?;
    let bundle = prover.prove(&x)?;
    let proof_path = dir.join("input.zkp");
    write_atomic(&proof_path, &bundle.to_json_pretty())?;
    let outputs = &bundle.public.output.values;
    println!(
        "2. proved: predicted digit {} (true label {}), logits {}",
        top_class(outputs, model.graph.input_len()).unwrap_or(0),
        label.map(|l| l.to_string()).unwrap_or("?".into()),
        fmt_outputs(outputs)
    );
    println!(
        "   prove {:.3} s + proving key {:.3} s + SRS {:.3} s ({}), {} threads; proof {} bytes",
        bundle.prover.prove_s,
        prover.keygen_s,
        prover.params_s,
        match prover.params_source {
            circuits::setup::store::ParamsSource::Cache => "read and checked",
            circuits::setup::store::ParamsSource::Created => "made now, cached for next time",
            circuits::setup::store::ParamsSource::Rebuilt { .. } =>
                "the cached file was not the development SRS: made again and replaced",
        },
        bundle.prover.threads,
        bundle.proof_bytes()?.len()
    );

    // The demo's own model is on the development SRS (it works offline): accepted here, and said so.
    let v = verify_bundle_with(&bundle, &model, true)?;
    println!(
        "3. verified: {} in {:.1} ms (verifying key read {:.1} ms, proof check {:.1} ms)",
        if v.valid { "VALID" } else { "INVALID" },
        (v.params_s + v.keygen_vk_s + v.verify_s) * 1e3,
        v.keygen_vk_s * 1e3,
        v.verify_s * 1e3
    );
    if keep {
        println!(
            "   re-check: zkinfer verify {} -m {} --allow-dev-srs",
            proof_path.display(),
            dir.join("digits_mlp.zkm").display()
        );
    } else {
        println!("   (files removed; run `zkinfer demo --out DIR` to keep them)");
    }
    Ok(if v.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
