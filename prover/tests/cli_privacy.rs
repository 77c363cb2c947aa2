//! Hashed and private inputs as a user meets them: compile, prove, `hash`, `verify --input-hash`, and
//! what the proof file does (not) contain.

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

/// Compile the digits MLP with `--input VIS` and prove input 0; returns (model, proof).
fn prove_with(dir: &Path, vis: &str) -> (PathBuf, PathBuf) {
    let model = dir.join(format!("mlp_{vis}.zkm"));
    let proof = dir.join(format!("p_{vis}.zkp"));
    let calibration = fixture("digits/calibration.json");
    ok(zkinfer(&[
        "compile",
        s(&fixture("digits_mlp.onnx")),
        "--calibration",
        s(&calibration),
        "--input",
        vis,
        "-o",
        s(&model),
    ]));
    let input = fixture("digits/input_0.json");
    ok(zkinfer(&[
        "prove",
        "-m",
        s(&model),
        "-i",
        s(&input),
        "-o",
        s(&proof),
    ]));
    (model, proof)
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
fn hashed_weights_and_private_outputs_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, vis, says) in [
        ("--weights", "hashed", "not implemented yet"),
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
