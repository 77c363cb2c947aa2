//! A proof too large for the memory at hand is refused before it starts (exit 2), unless forced.

mod common;

use std::process::Command;

use common::{compile, fixture, s, shared_cache, text};

#[test]
fn a_proof_over_the_available_memory_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.zkm");
    compile("digits_mlp.onnx", &[], &model);
    let proof = dir.path().join("p.zkp");
    let prove = |available: &str, extra: &[&str]| {
        let input = fixture("digits/input_0.json");
        Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .args(["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)])
            .args(extra)
            .env("ZKINFER_CACHE_DIR", shared_cache())
            .env("ZKINFER_MEMORY_AVAILABLE", available)
            .output()
            .unwrap()
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
