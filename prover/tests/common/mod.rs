//! Helpers of the CLI tests: the fixtures, the `zkinfer` binary with a test cache, JSON files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

/// The SRS files and proving keys shared by the tests (made once; writes are atomic, so sharing is safe).
pub fn shared_cache() -> PathBuf {
    std::env::temp_dir().join("zkinfer-test-cache")
}

pub fn zkinfer_in(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env("ZKINFER_CACHE_DIR", cache)
        .env("ZKINFER_ALLOW_DEV_SRS", "1")
        .env("ZKINFER_SRS", "dev")
        .output()
        .expect("zkinfer runs")
}

pub fn zkinfer(args: &[&str]) -> Output {
    zkinfer_in(&shared_cache(), args)
}

/// stdout then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stdout of a run that must succeed.
pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Compile a fixture on the digits calibration set with `flags` into `model`.
pub fn compile(onnx: &str, flags: &[&str], model: &Path) {
    let (onnx, calibration) = (fixture(onnx), fixture("digits/calibration.json"));
    let mut args = vec![
        "compile",
        s(&onnx),
        "--calibration",
        s(&calibration),
        "--srs",
        "dev",
    ];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["-o", s(model)]);
    ok(zkinfer(&args));
}

/// `zkinfer prove -m model -i fixtures/input -o proof extra...`.
pub fn prove(model: &Path, input: &str, proof: &Path, extra: &[&str]) -> Output {
    let input = fixture(input);
    let mut args = vec!["prove", "-m", s(model), "-i", s(&input), "-o", s(proof)];
    args.extend_from_slice(extra);
    zkinfer(&args)
}

pub fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

pub fn write_json(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}
