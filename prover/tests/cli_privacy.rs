//! Hashed and private inputs, and hashed weights, as a user meets them: compile, prove, `hash`,
//! `verify --input-hash`, `strip`, and what the proof and model files do (not) contain.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env("ZKINFER_ALLOW_DEV_SRS", "1")
        .env("ZKINFER_SRS", "dev")
        .env(
            "ZKINFER_CACHE_DIR",
            std::env::temp_dir().join("zkinfer-test-cache"),
        )
        .output()
        .expect("zkinfer runs")
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Compile `onnx` (a fixture) on the digits calibration set with `flags` into `model`.
fn compile(onnx: &str, flags: &[&str], model: &Path) {
    let (onnx, calibration) = (fixture(onnx), fixture("digits/calibration.json"));
    let mut args = vec!["compile", s(&onnx), "--calibration", s(&calibration)];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["-o", s(model)]);
    ok(zkinfer(&args));
}

/// Compile the digits MLP with `--input VIS` and prove input 0; returns (model, proof).
fn prove_with(dir: &Path, vis: &str) -> (PathBuf, PathBuf) {
    let model = dir.join(format!("mlp_{vis}.zkm"));
    let proof = dir.join(format!("p_{vis}.zkp"));
    compile("digits_mlp.onnx", &["--input", vis], &model);
    prove(&model, &proof);
    (model, proof)
}

/// Prove digits input 0 with `model` into `proof`.
fn prove(model: &Path, proof: &Path) {
    let input = fixture("digits/input_0.json");
    ok(zkinfer(&[
        "prove",
        "-m",
        s(model),
        "-i",
        s(&input),
        "-o",
        s(proof),
    ]));
}

fn bundle(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn a_hashed_input_proof_verifies_binds_to_its_input_and_reveals_no_values() {
    let dir = tempfile::tempdir().unwrap();
    let (model, proof) = prove_with(dir.path(), "hashed");
    let (_, public_proof) = prove_with(dir.path(), "public");
    ok(zkinfer(&["verify", s(&proof), "-m", s(&model)]));

    // The hash `zkinfer hash` prints is the one in the proof, and --input-hash accepts it.
    let h0 = ok(zkinfer(&[
        "hash",
        s(&fixture("digits/input_0.json")),
        "-m",
        s(&model),
    ]));
    let b = bundle(&proof);
    assert_eq!(b["public"]["input"]["hash"], Value::String(h0.clone()));
    ok(zkinfer(&[
        "verify",
        s(&proof),
        "-m",
        s(&model),
        "--input-hash",
        &h0,
    ]));

    // Another input's hash: exit 1, saying so. A malformed hash: exit 2.
    let h1 = ok(zkinfer(&[
        "hash",
        s(&fixture("digits/input_1.json")),
        "-m",
        s(&model),
    ]));
    assert_ne!(h0, h1);
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--input-hash", &h1]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not the expected"));
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--input-hash", "beef"]);
    assert_eq!(o.status.code(), Some(2));

    // The input's values appear in the public proof, and nowhere in the hashed one.
    let pb = bundle(&public_proof);
    let quantized = serde_json::to_string(&pb["public"]["input"]["quantized"]).unwrap();
    let values = serde_json::to_string(&pb["public"]["input"]["values"]).unwrap();
    assert!(quantized.len() > 40);
    let text = std::fs::read_to_string(&proof).unwrap();
    assert!(!text.contains(&quantized[1..quantized.len() - 1]));
    assert!(!text.contains(&values[1..values.len() - 1]));
    assert_eq!(b["public"]["input"]["quantized"], Value::Array(vec![]));

    // A proof whose input hash was replaced by another input's: invalid.
    let mut forged = b.clone();
    forged["public"]["input"]["hash"] = Value::String(h1);
    let forged_path = dir.path().join("forged.zkp");
    std::fs::write(&forged_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let o = zkinfer(&["verify", s(&forged_path), "-m", s(&model)]);
    assert_eq!(o.status.code(), Some(1));

    // inspect says what was revealed.
    let shown = ok(zkinfer(&["inspect", s(&proof)]));
    assert!(shown.contains("hashed: only its Poseidon hash"), "{shown}");
}

#[test]
fn a_private_input_proof_verifies_and_carries_neither_values_nor_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (model, proof) = prove_with(dir.path(), "private");
    ok(zkinfer(&["verify", s(&proof), "-m", s(&model)]));
    let b = bundle(&proof);
    assert_eq!(b["public"]["input"]["quantized"], Value::Array(vec![]));
    assert!(b["public"]["input"].get("hash").is_none());
    // --input-hash cannot hold for a proof that carries no input hash.
    let h = "0".repeat(64);
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--input-hash", &h]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn private_weights_and_private_outputs_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, vis, says) in [
        ("--weights", "private", "make them public or hashed"),
        ("--output-visibility", "private", "must reveal its output"),
    ] {
        let out = dir.path().join("m.zkm");
        let o = zkinfer(&[
            "compile",
            s(&fixture("digits_mlp.onnx")),
            flag,
            vis,
            "-o",
            s(&out),
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains(says));
        assert!(!out.exists());
    }
}

/// Compile `onnx` with hashed input and weights into `dir/name.zkm` and strip it into `name.pub.zkm`.
fn compile_hashed_weights(dir: &Path, onnx: &str, name: &str) -> (PathBuf, PathBuf) {
    let model = dir.join(format!("{name}.zkm"));
    compile(onnx, &["--input", "hashed", "--weights", "hashed"], &model);
    ok(zkinfer(&["strip", s(&model)]));
    let public = dir.join(format!("{name}.pub.zkm"));
    assert!(public.exists());
    (model, public)
}

/// A layer's weights as the model file writes them (packed), and their values.
fn weights(op: &Value) -> (String, Vec<i64>) {
    let packed = op["weight"].as_str().expect("packed weights").to_string();
    let values: circuits::qgraph::packed::PackedInts =
        serde_json::from_value(op["weight"].clone()).unwrap();
    (packed, values.to_vec())
}

#[test]
fn hashed_weights_verify_with_the_stripped_model_alone_and_bind_to_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let (model, public) = compile_hashed_weights(dir.path(), "digits_mlp.onnx", "mlp");
    let proof = dir.path().join("p.zkp");
    prove(&model, &proof);
    let v = ok(zkinfer(&["verify", s(&proof), "-m", s(&public), "--json"]));
    let v: Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["valid"], true);

    // The same digest and weights hash; no weight values in the stripped model or the proof.
    let (full, stripped) = (bundle(&model), bundle(&public));
    assert_eq!(full["digest"], stripped["digest"]);
    assert_eq!(full["weights_hash"], stripped["weights_hash"]);
    assert_eq!(
        bundle(&proof)["public"]["weights_hash"],
        full["weights_hash"]
    );
    let (packed, values) = weights(&full["graph"]["layers"][0]["op"]["Linear"]);
    assert!(values.iter().any(|v| *v != 0));
    let contains = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).contains(&packed);
    assert!(contains(&model), "the full model carries its weights");
    assert!(!contains(&public) && !contains(&proof));
    for layer in stripped["graph"]["layers"].as_array().unwrap() {
        if let Some(op) = layer["op"].get("Linear") {
            assert!(weights(op).1.iter().all(|v| *v == 0));
            assert!(op["bias"].as_array().unwrap().iter().all(|v| v == 0));
        }
    }
    let shown = ok(zkinfer(&["inspect", s(&public)]));
    assert!(shown.contains("stripped") && shown.contains("weights hash"));
    // The weights hash the model owner published: accepted; any other: exit 1.
    let published = full["weights_hash"].as_str().unwrap();
    ok(zkinfer(&[
        "verify",
        s(&proof),
        "-m",
        s(&public),
        "--weights-hash",
        published,
    ]));
    let o = zkinfer(&[
        "verify",
        s(&proof),
        "-m",
        s(&public),
        "--weights-hash",
        &"1".repeat(64),
    ]);
    assert_eq!(o.status.code(), Some(1));

    // A stripped model cannot prove.
    let input = fixture("digits/input_0.json");
    let o = zkinfer(&["prove", "-m", s(&public), "-i", s(&input)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stripped"));

    // Another model of the same shape (other weights): its stripped copy rejects the proof, and a
    // bundle that claims the other weights' hash is rejected by this model.
    let (_, other_public) = compile_hashed_weights(dir.path(), "digits_mlp_other.onnx", "other");
    let o = zkinfer(&["verify", s(&proof), "-m", s(&other_public)]);
    assert_eq!(o.status.code(), Some(1));
    let mut forged = bundle(&proof);
    forged["public"]["weights_hash"] = bundle(&other_public)["weights_hash"].clone();
    let forged_path = dir.path().join("forged.zkp");
    std::fs::write(&forged_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let o = zkinfer(&["verify", s(&forged_path), "-m", s(&public)]);
    assert_eq!(o.status.code(), Some(1));

    // Only a hashed-weights model can be stripped.
    let (plain, _) = prove_with(dir.path(), "public");
    let o = zkinfer(&["strip", s(&plain)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--weights hashed"));
}
