//! A proof too large for the memory at hand is refused before it starts (exit 2), unless forced.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{compile, fixture, s, shared_cache, text};

/// `zkinfer args...` with `cache` as its cache and `available` as the memory it may count on.
fn zkinfer_with_memory(cache: &Path, available: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env("ZKINFER_CACHE_DIR", cache)
        .env("ZKINFER_MEMORY_AVAILABLE", available)
        .output()
        .unwrap()
}

#[test]
fn a_proof_over_the_available_memory_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.zkm");
    compile("digits_mlp.onnx", &[], &model);
    let proof = dir.path().join("p.zkp");
    let input = fixture("digits/input_0.json");
    let prove = |available: &str, extra: &[&str]| {
        let mut args = vec!["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)];
        args.extend_from_slice(extra);
        zkinfer_with_memory(&shared_cache(), available, &args)
    };
    let o = prove("1M", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let msg = text(&o);
    assert!(msg.contains("GiB (the plan's peak at k = "), "{msg}");
    assert!(msg.contains("--force"), "{msg}");
    assert!(!proof.exists(), "nothing written");

    let o = prove("1M", &["--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(proof.exists());
    std::fs::remove_file(&proof).unwrap();
    let o = prove("64G", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = prove("lots", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("ZKINFER_MEMORY_AVAILABLE=lots"),
        "{}",
        text(&o)
    );
}

/// Key generation is weighed too: `compile` refuses before making keys (nothing written, no key
/// cached), and `prove` of a model whose proving key is not cached counts key generation's peak.
#[test]
fn keys_over_the_available_memory_are_refused_before_they_are_made() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let model = dir.path().join("m.zkm");
    let (onnx, calibration) = (
        fixture("digits_mlp.onnx"),
        fixture("digits/calibration.json"),
    );
    let compile = |available: &str, extra: &[&str]| {
        let mut args = vec!["compile", s(&onnx), "--calibration", s(&calibration)];
        args.extend_from_slice(&["--srs", "dev", "-o", s(&model)]);
        args.extend_from_slice(extra);
        zkinfer_with_memory(&cache, available, &args)
    };
    let o = compile("1M", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let msg = text(&o);
    assert!(
        msg.contains("making the keys of") && msg.contains("key-generation peak at k = "),
        "{msg}"
    );
    assert!(msg.contains("--force"), "{msg}");
    assert!(!model.exists(), "no model written");
    let keys = cache.join("keys");
    let cached = || std::fs::read_dir(&keys).map_or(0, |d| d.count());
    assert_eq!(cached(), 0, "no key cached");

    let o = compile("1M", &["--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(model.exists());
    assert_eq!(cached(), 1, "one proving key, nothing left half-written");

    // Another machine (an empty cache): its first prove makes the proving key.
    let proof = dir.path().join("p.zkp");
    let input = fixture("digits/input_0.json");
    let args = ["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)];
    let o = zkinfer_with_memory(&dir.path().join("elsewhere"), "1M", &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the larger of the plan's key-generation and proving peaks"),
        "{}",
        text(&o)
    );
    assert!(!proof.exists());
}
