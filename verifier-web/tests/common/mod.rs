//! A compiled digits MLP, one proof of it, and a tampered copy, made with the prover library.

use std::path::PathBuf;

use prover::{compile_model, CompileOptions, Prover};
use verifier::ProofBundle;

pub struct Files {
    pub model: Vec<u8>,
    pub proof: Vec<u8>,
    /// The same proof claiming another first output (quantized and float value kept consistent, so
    /// only the halo2 proof check can refuse it).
    pub tampered: Vec<u8>,
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

pub fn digits_mlp() -> Files {
    std::env::set_var(
        "ZKINFER_CACHE_DIR",
        std::env::temp_dir().join("zkinfer-test-cache"),
    );
    let (model, _) = compile_model(&CompileOptions {
        srs: circuits::setup::srs::SrsRef::dev(),
        commitment: circuits::artifacts::model_file::Commitment::Kzg,
        onnx: fixture("digits_mlp.onnx"),
        calibration: Some(fixture("digits/calibration.json")),
        visibility: Default::default(),
        layout: Default::default(),
    })
    .unwrap();
    let text = std::fs::read_to_string(fixture("digits/input_0.json")).unwrap();
    let x = circuits::artifacts::input::parse_input(&text).unwrap();
    let bundle = Prover::new(&model).unwrap().prove(&x).unwrap();
    let mut bad = bundle.clone();
    let out = &mut bad.public.output;
    out.quantized[0] += 1;
    out.values[0] = circuits::qgraph::dequantize(out.quantized[0], out.scale);
    Files {
        model: model.to_json(),
        proof: bundle.to_json_pretty(),
        tampered: ProofBundle::to_json_pretty(&bad),
    }
}
