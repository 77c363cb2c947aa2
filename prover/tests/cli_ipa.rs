//! IPA mode (`compile --commitment ipa`): the transparent mode, end to end; its generators pinned.

mod common;

use common::{fixture, ok, s, text, zkinfer, zkinfer_in};

#[test]
fn ipa_models_prove_and_verify_without_an_srs_and_planted_generators_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.zkm");
    let (onnx, calibration) = (
        fixture("digits_mlp.onnx"),
        fixture("digits/calibration.json"),
    );
    let o = ok(zkinfer(&[
        "compile",
        s(&onnx),
        "--calibration",
        s(&calibration),
        "--commitment",
        "ipa",
        "-o",
        s(&model),
    ]));
    assert!(!o.contains("proofs are"), "{o}");
    let m = circuits::ModelFile::read(&model).unwrap();
    assert_eq!(
        m.proof_system.commitment,
        circuits::artifacts::model_file::Commitment::Ipa
    );
    assert!(m.proof_system.srs.is_none());
    let proofs: Vec<_> = [0, 1]
        .iter()
        .map(|i| {
            let p = dir.path().join(format!("p{i}.zkp"));
            let input = fixture(&format!("digits/input_{i}.json"));
            ok(zkinfer(&[
                "prove",
                "-m",
                s(&model),
                "-i",
                s(&input),
                "-o",
                s(&p),
            ]));
            p
        })
        .collect();
    // No SRS, so no development-SRS flag is needed.
    let strict = std::process::Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["verify", s(&proofs[0]), "-m", s(&model)])
        .env("ZKINFER_CACHE_DIR", common::shared_cache())
        .env_remove("ZKINFER_ALLOW_DEV_SRS")
        .output()
        .unwrap();
    assert!(strict.status.success(), "{}", text(&strict));
    assert!(text(&strict).contains("VALID"), "{}", text(&strict));

    // A batch with a tampered proof names it.
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&proofs[1]).unwrap()).unwrap();
    let mut bytes =
        verifier::ProofBundle::from_bytes(&std::fs::read(&proofs[1]).unwrap(), "p1.zkp")
            .unwrap()
            .proof_bytes()
            .unwrap();
    bytes[40] ^= 1;
    bundle["proof"] = verifier::ProofBundle::encode_proof(&bytes).into();
    let tampered = dir.path().join("tampered.zkp");
    std::fs::write(&tampered, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let o = zkinfer(&["verify", s(&proofs[0]), s(&tampered), "-m", s(&model)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("tampered.zkp"), "{}", text(&o));

    // Planted generators in a fresh cache: not the pinned file, made again, and the proof verifies.
    let cache = tempfile::tempdir().unwrap();
    let file = cache.path().join("ipa").join(format!("k{}.params", m.k));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let (_, mut planted) = circuits::setup::ipa::make(m.k).unwrap();
    let mid = planted.len() / 2;
    planted[mid] ^= 1;
    std::fs::write(&file, &planted).unwrap();
    let o = zkinfer_in(cache.path(), &["verify", s(&proofs[0]), "-m", s(&model)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("not the one zkinfer derives"),
        "{}",
        text(&o)
    );
    assert_ne!(std::fs::read(&file).unwrap(), planted);
}
