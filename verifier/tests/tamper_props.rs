//! Property tests: any single-byte change to a valid bundle's proof, and any change to one of its
//! public values, makes verification fail; no input makes it panic.

use std::sync::OnceLock;

use proptest::prelude::*;

use circuits::ModelFile;
use prover::{compile_model, CompileOptions, Prover};
use verifier::{ModelVerifier, ProofBundle};

struct Setup {
    verifier: ModelVerifier<'static>,
    bundle: ProofBundle,
    proof: Vec<u8>,
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        std::env::set_var(
            "ZKINFER_CACHE_DIR",
            std::env::temp_dir().join("zkinfer-test-cache"),
        );
        let (model, _) = compile_model(&CompileOptions {
            srs: circuits::setup::srs::SrsRef::dev(),
            commitment: circuits::artifacts::model_file::Commitment::Kzg,
            onnx: fixtures.join("digits_mlp.onnx"),
            calibration: Some(fixtures.join("digits/calibration.json")),
            visibility: Default::default(),
            layout: Default::default(),
        })
        .unwrap();
        let model: &'static ModelFile = Box::leak(Box::new(model));
        let text = std::fs::read_to_string(fixtures.join("digits/input_3.json")).unwrap();
        let x = circuits::artifacts::input::parse_input(&text).unwrap();
        let bundle = Prover::new(model).unwrap().prove(&x).unwrap();
        let verifier = ModelVerifier::with_options(model, true).unwrap();
        assert!(verifier.verify(&bundle).valid, "the honest bundle verifies");
        let proof = bundle.proof_bytes().unwrap();
        Setup {
            verifier,
            bundle,
            proof,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_single_byte_change_to_the_proof_fails(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let s = setup();
        let mut proof = s.proof.clone();
        let i = index.index(proof.len());
        proof[i] ^= flip;
        let mut b = s.bundle.clone();
        b.proof = ProofBundle::encode_proof(&proof);
        let v = s.verifier.verify(&b);
        prop_assert!(!v.valid, "byte {} ^ {:#x} still verifies", i, flip);
    }

    #[test]
    fn any_change_to_a_public_value_fails(output in any::<bool>(), index in any::<prop::sample::Index>(), delta in prop_oneof![-1000i64..0, 1i64..1000]) {
        let s = setup();
        let mut b = s.bundle.clone();
        let tensor = if output { &mut b.public.output } else { &mut b.public.input };
        let i = index.index(tensor.quantized.len());
        tensor.quantized[i] += delta;
        // Keep the float claim consistent, so only the proof can catch the change.
        tensor.values[i] = circuits::qgraph::dequantize(tensor.quantized[i], tensor.scale);
        let v = s.verifier.verify(&b);
        prop_assert!(!v.valid, "{} value {} + {} still verifies", if output { "output" } else { "input" }, i, delta);
    }

    #[test]
    fn truncated_or_extended_proofs_fail_without_panicking(cut in any::<prop::sample::Index>(), extra in prop::collection::vec(any::<u8>(), 0..64)) {
        let s = setup();
        let mut proof = s.proof[..cut.index(s.proof.len())].to_vec();
        proof.extend(&extra);
        prop_assume!(proof != s.proof);
        let mut b = s.bundle.clone();
        b.proof = ProofBundle::encode_proof(&proof);
        prop_assert!(!s.verifier.verify(&b).valid);
    }
}
