//! ONNX conformance: the PyTorch-converted test models shipped with the `onnx` package (copied into
//! `fixtures/conformance/` by `fixtures/make_conformance.py`), compiled, proved and verified.
//!
//! Run with `cargo test --release -p zkinfer --test conformance -- --ignored --nocapture`; it writes
//! `target/conformance.md`. A test case's whole batch is one input, proved in one proof (the model as
//! exported: a batch of N is N copies of the per-sample graph); several inputs (outputs) are one,
//! concatenated in the model's order. A result passes when every proof verifies and the
//! proven outputs are within 1% of the expected outputs' range (max abs error).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use circuits::artifacts::model_file::MODEL_FORMAT;
use circuits::import::import;
use circuits::quantize::compile_graph;
use circuits::ModelFile;
use prover::Prover;
use verifier::verify_bundle_with;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/conformance")
}

struct Tensor {
    shape: Vec<usize>,
    data: Vec<Option<f64>>,
}

fn tensors(v: &Value, key: &str) -> Vec<Tensor> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| Tensor {
            shape: t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect(),
            data: t["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64())
                .collect(),
        })
        .collect()
}

enum Outcome {
    Pass { max_err: f64, range: f64, k: u32 },
    Fail(String),
    NotApplicable(String),
}

fn run(name: &str) -> Outcome {
    let d = dir().join(name);
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(d.join(f)).unwrap()).unwrap()
    };
    let (inputs, expected) = (
        tensors(&read("inputs.json"), "inputs"),
        tensors(&read("expected.json"), "outputs"),
    );
    // Some of the oldest test cases were written from uninitialized memory (1e198, denormals).
    let absurd =
        |v: &Option<f64>| v.is_some_and(|v| v.abs() > 1e30 || (v != 0.0 && v.abs() < 1e-30));
    if inputs
        .iter()
        .chain(&expected)
        .any(|t| t.data.iter().any(absurd))
    {
        return Outcome::NotApplicable("the test data holds uninitialized values".into());
    }
    if inputs.iter().any(|t| t.shape.len() > 4) {
        return Outcome::NotApplicable(
            "3-D operation (5-D tensor): this version supports 1-D and 2-D".into(),
        );
    }
    // The whole batch is one input: one proof per test case, the model as exported. Several inputs
    // (outputs) are one, concatenated in the model's order.
    let x: Vec<f64> = inputs
        .iter()
        .flat_map(|t| &t.data)
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let want: Vec<Option<f64>> = expected.iter().flat_map(|t| t.data.clone()).collect();
    let graph = match import(&d.join("model.onnx")) {
        Ok(g) => g,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    let calib = vec![x.iter().map(|v| *v as f32).collect::<Vec<f32>>()];
    let (qgraph, report, plan) =
        match compile_graph(&graph, &calib, "test inputs", Default::default()) {
            Ok(c) => c,
            Err(e) => return Outcome::Fail(e.to_string()),
        };
    let model = ModelFile {
        format: MODEL_FORMAT.into(),
        name: name.into(),
        source: "model.onnx".into(),
        graph: qgraph,
        visibility: Default::default(),
        shape: plan.shape,
        k: plan.k,
        report,
        weights_hash: None,
        stripped: false,
        proof_system: circuits::artifacts::model_file::ProofSystem::placeholder(),
        digest: String::new(),
    };
    let model = match prover::compile::with_keys(model, Some(&circuits::setup::srs::SrsRef::dev()))
    {
        Ok(m) => m,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    let prover = match Prover::new(&model) {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    let bundle = match prover.prove(&x) {
        Ok(b) => b,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    let verdict = verify_bundle_with(&bundle, &model, true).expect("verification runs");
    if !verdict.valid {
        return Outcome::Fail(format!("proof invalid: {:?}", verdict.reason));
    }
    // A trailing Softmax or LogSoftmax is left out of the proof (the report says so): applied here,
    // outside it, over the last axis.
    let mut got = verdict.outputs[0].clone();
    if let [tail] = model.report.unproven_tail.as_slice() {
        let row = model
            .graph
            .output_shape()
            .0
            .last()
            .copied()
            .unwrap_or(1)
            .max(1);
        for r in got.chunks_mut(row) {
            let m = r.iter().fold(f64::MIN, |m, v| m.max(*v));
            let log_sum = r.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            match tail.as_str() {
                "Softmax" => r.iter_mut().for_each(|v| *v = (*v - m - log_sum).exp()),
                "LogSoftmax" => r.iter_mut().for_each(|v| *v -= m + log_sum),
                _ => {}
            }
        }
    }
    if got.len() != want.len() {
        return Outcome::Fail(format!("{} outputs, expected {}", got.len(), want.len()));
    }
    let known: Vec<f64> = want.iter().flatten().copied().collect();
    let (lo, hi) = known
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    let range = hi - lo;
    let max_err = got
        .iter()
        .zip(&want)
        .filter_map(|(g, w)| w.map(|w| (g - w).abs()))
        .fold(0.0f64, f64::max);
    if max_err <= 0.01 * range.max(1e-9) {
        Outcome::Pass {
            max_err,
            range,
            k: model.k,
        }
    } else {
        Outcome::Fail(format!(
            "max abs error {max_err:.4} over 1% of the output range {range:.4}"
        ))
    }
}

#[test]
#[ignore = "conformance run: cargo test --release -p zkinfer --test conformance -- --ignored --nocapture"]
fn onnx_conformance_models() {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("index.json")).unwrap()).unwrap();
    let mut table = String::from("| model | ops | result |\n|---|---|---|\n");
    let (mut pass, mut fail, mut na) = (0, 0, 0);
    // `CONFORMANCE_ONLY=test_ELU,test_SELU` runs just those (and leaves the table alone).
    let only = std::env::var("CONFORMANCE_ONLY").ok();
    let wanted = |name: &str| {
        only.as_ref()
            .is_none_or(|o| o.split(',').any(|w| w == name))
    };
    for entry in index.as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        if !wanted(name) {
            continue;
        }
        let ops: Vec<&str> = entry["ops"]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o.as_str()).collect())
            .unwrap_or_default();
        let result = if let Some(reason) = entry.get("skipped").and_then(|s| s.as_str()) {
            na += 1;
            format!("n/a: not copied ({reason})")
        } else {
            match run(name) {
                Outcome::Pass { max_err, range, k } => {
                    pass += 1;
                    format!("pass (k = {k}, max abs error {max_err:.2e}, output range {range:.2})")
                }
                Outcome::Fail(why) => {
                    fail += 1;
                    format!("fail: {}", why.replace('|', "/").replace('\n', " "))
                }
                Outcome::NotApplicable(why) => {
                    na += 1;
                    format!("n/a: {why}")
                }
            }
        };
        eprintln!("{name}: {result}");
        writeln!(table, "| {name} | {} | {result} |", ops.join(", ")).unwrap();
    }
    let summary = format!("{pass} passed, {fail} failed; {na} not applicable\n");
    table.push_str(&format!("\n{summary}"));
    if only.is_some() {
        eprintln!("{summary}");
        return;
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/conformance.md");
    std::fs::write(&out, &table).unwrap();
    eprintln!("{summary}table written to {}", out.display());
}
