//! batchbench: verifying N proofs of the digits MLP one by one (each as a separate `zkinfer verify`
//! would: verifying key read every time) against one batch check (one accumulated pairing check).
//!
//! ```text
//! cargo run --release -p zkinfer-benches --bin batchbench -- [N]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use prover::{compile_model, CompileOptions, Prover};
use verifier::{verify_bundle_with, ModelVerifier};

const USAGE: &str = "batchbench: N digits-MLP proofs verified one by one against one batch check

usage: batchbench [N]        (default 100)

example: cargo run --release -p zkinfer-benches --bin batchbench -- 50";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    zkinfer_benches::check_args(&args, &[], USAGE);
    let n: usize = args.first().map(|v| v.parse()).transpose()?.unwrap_or(100);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let (model, _) = compile_model(&CompileOptions {
        srs: circuits::setup::srs::SrsRef::dev(),
        commitment: circuits::artifacts::model_file::Commitment::Kzg,
        onnx: root.join("digits_mlp.onnx"),
        calibration: Some(root.join("digits/calibration.json")),
        visibility: Default::default(),
        layout: Default::default(),
    })?;
    let split: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        root.join("digits/test_split.json"),
    )?)?;
    let inputs: Vec<Vec<f64>> = split["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .take(n)
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    let prover = Prover::new(&model)?;
    let t = Instant::now();
    let bundles = inputs
        .iter()
        .map(|x| prover.prove(x))
        .collect::<Result<Vec<_>, _>>()?;
    let prove_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for b in &bundles {
        anyhow::ensure!(
            verify_bundle_with(b, &model, true)?.valid,
            "a proof did not verify"
        );
    }
    let single_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let v = ModelVerifier::with_options(&model, true)?;
    let outcome = v.verify_batch(&bundles);
    let batch_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        outcome.verdicts.iter().all(|v| v.valid),
        "the batch did not verify"
    );

    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "proofs": bundles.len(), "threads": rayon::current_num_threads(), "prove_all_s": prove_s,
            "verify_one_by_one_s": single_s, "verify_batch_s": batch_s,
            "batch_keygen_vk_s": v.keygen_vk_s, "batch_check_s": outcome.batch_s,
            "batch_share": batch_s / single_s,
        }))?
    );
    Ok(())
}
