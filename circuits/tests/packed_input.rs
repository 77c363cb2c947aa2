//! A public int8 input packed into instance cells (`InputVisibility::PublicPacked`): the compiler
//! packs long int8 inputs only; the packed circuit binds every input value (a claimed value one off
//! is rejected at its element's instance row); a real KZG proof verifies against the packed claim
//! and fails against another input.

mod common;

use circuits::circuit::{instance_with_weights, TensorClaim};
use circuits::disclosure::{hashing::Packing, packs_public_input, Disclosure};
use circuits::import::{import_model, Imported};
use circuits::proof::{self, ProofParams};
use circuits::qgraph::QuantGraph;
use circuits::setup::srs::dev_params;
use circuits::{InferenceCircuit, InputVisibility, Visibilities, Visibility};
use common::{fixture, ints};
use halo2_proofs::dev::{FailureLocation, MockProver, VerifyFailure};
use halo2_proofs::halo2curves::bn256::Fr;

const PACKED: Visibilities = Visibilities {
    input: InputVisibility::PublicPacked,
    ..Visibilities::PUBLIC
};

fn int8(name: &str) -> QuantGraph {
    let Imported::Int8(m) = import_model(&fixture(&format!("tflite/{name}_int8.tflite"))).unwrap()
    else {
        panic!("{name}: not int8");
    };
    m.graph
}

fn case_input(name: &str, i: usize) -> Vec<i64> {
    let text = std::fs::read_to_string(fixture(&format!("tflite/{name}/int8.json"))).unwrap();
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    ints(&data["cases"][i]["input_int8"])
}

/// The instance of a packed-input proof claiming `input` and `output`.
fn instance(q: &QuantGraph, input: &[i64], output: &[i64]) -> Vec<Fr> {
    let d = Disclosure::new(q, PACKED);
    let claim = TensorClaim::of(Visibility::Public, d.input_packing, input).unwrap();
    let out = TensorClaim::of(Visibility::Public, d.output_packing, output).unwrap();
    instance_with_weights(&claim, &out, None)
}

#[test]
fn the_compiler_packs_long_int8_inputs_only() {
    // 32x32x3 int8 inputs pack; 128 values, and float graphs, stay one value per row.
    let vww = int8("vww_mbnet32");
    assert!(packs_public_input(&vww));
    assert_eq!(
        Visibilities::PUBLIC.packing_input_of(&vww).input,
        InputVisibility::PublicPacked
    );
    let d = Disclosure::new(&vww, PACKED);
    assert_eq!(d.input_packing, Packing::Table { limb_bits: 12 });
    assert_eq!(d.layout.input_rows, 3072usize.div_ceil(21));
    let ae = int8("ad_ae128");
    assert!(!packs_public_input(&ae));
    assert_eq!(PACKED.packing_input_of(&ae), Visibilities::PUBLIC);
    let (float, _) = common::digits_compiled("digits_mlp.onnx");
    assert!(!packs_public_input(&float));
    // Hashed and private inputs are left as they are.
    let hashed = Visibilities::new(
        Visibility::Hashed,
        Visibility::Public,
        Visibility::Public,
        false,
    )
    .unwrap();
    assert_eq!(hashed.packing_input_of(&vww), hashed);
}

/// The planner's layout for `q` with its input packed.
fn packed_plan(q: &QuantGraph) -> circuits::plan::Plan {
    let (vis, bits) = (PACKED, circuits::plan::MIN_LIMB_BITS);
    circuits::plan::choose_with(q, vis, bits, Default::default()).unwrap()
}

#[test]
fn a_packed_input_is_bound_value_by_value() {
    // The autoencoder (128 inputs: 7 elements) with its input packed, as a long input would be.
    let q = int8("ad_ae128");
    let x = case_input("ad_ae128", 0);
    let t = q.eval(&x).unwrap();
    let plan = packed_plan(&q);
    assert!(plan.shape.packed_input, "{:?}", plan.shape);
    assert_eq!(plan.instance_rows, 7 + t.output().len());
    let run = |input: &[i64]| {
        circuits::with_shape(plan.shape, || {
            let c = InferenceCircuit::with_visibility(&q, PACKED, Some(&t));
            MockProver::run(plan.k, &c, vec![instance(&q, input, t.output())])
                .unwrap()
                .verify()
        })
    };
    assert_eq!(run(&x), Ok(()));
    // Value 50 lies in element 2 (21 values per element): its instance row fails the copy.
    let mut wrong = x.clone();
    wrong[50] = if wrong[50] < 127 {
        wrong[50] + 1
    } else {
        wrong[50] - 1
    };
    let failures = run(&wrong).expect_err("a claimed input value one off");
    assert!(
        failures.iter().any(|f| matches!(f,
            VerifyFailure::Permutation { column, location: FailureLocation::OutsideRegion { row: 2 } }
                if column.column_type() == halo2_proofs::plonk::Any::Instance)),
        "{failures:?}"
    );
}

#[test]
fn a_real_proof_verifies_against_the_packed_input_and_no_other() {
    let q = int8("ad_ae128");
    let plan = packed_plan(&q);
    let params = ProofParams::Kzg(dev_params(plan.k));
    let vk = circuits::keys::make_vk(&params, &q, PACKED, plan.shape).unwrap();
    let pk = circuits::keys::make_pk(&params, vk.clone(), &q, PACKED, plan.shape).unwrap();
    let x = case_input("ad_ae128", 1);
    let t = q.eval(&x).unwrap();
    let honest = instance(&q, &x, t.output());
    let c = InferenceCircuit::with_visibility(&q, PACKED, Some(&t));
    let bytes = proof::prove(&params, &pk, c, plan.shape, &honest).unwrap();
    proof::verify(&params, &vk, &honest, &bytes).expect("honest proof");
    let mut other = x.clone();
    other[127] = if other[127] < 127 {
        other[127] + 1
    } else {
        other[127] - 1
    };
    let wrong = instance(&q, &other, t.output());
    assert!(proof::verify(&params, &vk, &wrong, &bytes).is_err());
}
