//! The lean `zkinfer-verify` binary: same verdicts and exit codes as `zkinfer verify`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use prover::{compile_model, CompileOptions, Prover};
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

fn run(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer-verify"))
        .args(args)
        .env("ZKINFER_ALLOW_DEV_SRS", "1")
        .env("ZKINFER_SRS", "dev")
        .env("ZKINFER_CACHE_DIR", cache)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_lean_verifier_gives_verdicts_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = std::env::temp_dir().join("zkinfer-test-cache");
    std::env::set_var("ZKINFER_CACHE_DIR", &cache);
    let (model, _) = compile_model(&CompileOptions {
        srs: circuits::setup::srs::SrsRef::dev(),
        commitment: circuits::artifacts::model_file::Commitment::Kzg,
        onnx: fixture("digits_mlp.onnx"),
        calibration: Some(fixture("digits/calibration.json")),
        visibility: Default::default(),
        layout: Default::default(),
    })
    .unwrap();
    let model_path = dir.path().join("m.zkm");
    std::fs::write(&model_path, model.to_json()).unwrap();
    let text = std::fs::read_to_string(fixture("digits/input_0.json")).unwrap();
    let x = circuits::artifacts::input::parse_input(&text).unwrap();
    let bundle = Prover::new(&model).unwrap().prove(&x).unwrap();
    let proof = dir.path().join("p.zkp");
    std::fs::write(&proof, bundle.to_json_pretty()).unwrap();

    let o = run(&cache, &[s(&proof), "-m", s(&model_path), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["outputs"][0].as_array().unwrap().len(), 10);

    let mut b: Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    b["public"]["output"]["values"][0] = Value::from(1.5);
    let bad = dir.path().join("bad.zkp");
    std::fs::write(&bad, serde_json::to_vec(&b).unwrap()).unwrap();
    let o = run(&cache, &[s(&bad), "-m", s(&model_path)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("INVALID"));

    // --model-digest: the published digest passes (and is printed in full), any other is exit 1.
    let pinned = |digest: &str, extra: &[&str]| {
        let mut args = vec![s(&proof), "-m", s(&model_path), "--model-digest", digest];
        args.extend_from_slice(extra);
        run(&cache, &args)
    };
    let o = pinned(&model.digest, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&model.digest));
    let other = "ab".repeat(32);
    let o = pinned(&other, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["model_digest"], model.digest.as_str());
    assert!(v["reason"].as_str().unwrap().contains(&other));

    let o = run(&cache, &[s(&proof), "-m", "/nonexistent.zkm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent.zkm"));
}
