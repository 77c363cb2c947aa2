//! The model circuit with hashed and private tensors (MockProver), on the digits MLP.

mod common;

use circuits::circuit::{instance_column, TensorClaim};
use circuits::import::import;
use circuits::plan::Plan;
use circuits::quantize::{compile_graph, LayoutRequest};
use circuits::{QuantGraph, Trace, Visibilities, Visibility};
use common::packings;
use common::{calibration, fixture, test_split, trace_for};
use halo2_proofs::dev::MockProver;

fn compiled(vis: Visibilities) -> (QuantGraph, Plan) {
    let graph = import(&fixture("digits_mlp.onnx")).unwrap();
    let request = LayoutRequest {
        visibility: vis,
        ..Default::default()
    };
    let (q, _, plan) = compile_graph(&graph, &calibration(), "calibration.json", request).unwrap();
    (q, plan)
}

fn vis(input: Visibility, output: Visibility) -> Visibilities {
    Visibilities::new(input, output, Visibility::Public, false).unwrap()
}

/// MockProver on `trace`, with the instance claimed about `claimed_input` and `claimed_output`.
fn accepted(
    q: &QuantGraph,
    plan: &Plan,
    v: Visibilities,
    trace: &Trace,
    claimed_input: &[i64],
    claimed_output: &[i64],
) -> bool {
    let (pin, pout) = packings(q);
    let instance = instance_column(
        &TensorClaim::of(v.input.kind(), pin, claimed_input).unwrap(),
        &TensorClaim::of(v.output.kind(), pout, claimed_output).unwrap(),
    );
    circuits::with_shape(plan.shape, || {
        let c = circuits::InferenceCircuit::with_visibility(q, v, Some(trace));
        MockProver::run(plan.k, &c, plan.shape.instance_of(&instance))
            .unwrap()
            .verify()
            .is_ok()
    })
}

#[test]
fn hashed_input_and_output_prove_and_bind_to_their_values() {
    let v = vis(Visibility::Hashed, Visibility::Hashed);
    let (q, plan) = compiled(v);
    assert!(plan.shape.hashing);
    let split = test_split();
    let t = trace_for(&q, &split.inputs[0]);
    let other = trace_for(&q, &split.inputs[1]);
    let (x, y) = (t.tensors[0].clone(), t.output().to_vec());
    assert!(accepted(&q, &plan, v, &t, &x, &y));
    // Another input's hash, or this input with one value changed: rejected.
    assert!(!accepted(&q, &plan, v, &t, &other.tensors[0], &y));
    let mut x1 = x.clone();
    x1[10] += 1;
    assert!(!accepted(&q, &plan, v, &t, &x1, &y));
    // A swapped or altered output under its hash: rejected.
    let mut swapped = y.clone();
    swapped.swap(0, 1);
    assert_ne!(swapped, y);
    assert!(!accepted(&q, &plan, v, &t, &x, &swapped));
}

#[test]
fn a_private_input_proves_with_the_output_alone() {
    let v = vis(Visibility::Private, Visibility::Public);
    let (q, plan) = compiled(v);
    let t = trace_for(&q, &test_split().inputs[2]);
    let y = t.output().to_vec();
    assert!(accepted(&q, &plan, v, &t, &[], &y));
    let mut wrong = y.clone();
    wrong[3] += 1;
    assert!(!accepted(&q, &plan, v, &t, &[], &wrong));
}

#[test]
fn hashed_input_with_public_output_fits_the_planned_k() {
    let v = vis(Visibility::Hashed, Visibility::Public);
    let (q, plan) = compiled(v);
    let (public_q, public_plan) = compiled(Visibilities::default());
    assert_eq!(q.limb_bits, plan.shape.limb_bits);
    assert!(plan.rows >= public_plan.rows + q.input_len());
    assert!(plan.hash_rows > 0 && plan.hash_rows <= plan.usable_rows);
    assert!(!plan.shape.second_hash_chip, "a short chain keeps one chip");
    let t = trace_for(&q, &test_split().inputs[3]);
    let (x, y) = (t.tensors[0].clone(), t.output().to_vec());
    assert!(accepted(&q, &plan, v, &t, &x, &y));
    // The public model's rows are unchanged by the hashing code.
    assert!(!public_plan.shape.hashing);
    assert_eq!(public_q.input_len(), q.input_len());
}

/// MockProver on a salted-input circuit with salt `witness`, the instance claiming the input's hash
/// under salt `claimed`.
fn salted_accepted(
    q: &QuantGraph,
    plan: &Plan,
    v: Visibilities,
    trace: &Trace,
    witness: halo2_proofs::halo2curves::bn256::Fr,
    claimed: TensorClaim,
) -> Result<(), Vec<halo2_proofs::dev::VerifyFailure>> {
    let (_, pout) = packings(q);
    let instance = instance_column(
        &claimed,
        &TensorClaim::of(v.output.kind(), pout, trace.output()).unwrap(),
    );
    circuits::with_shape(plan.shape, || {
        let c = circuits::InferenceCircuit::with_visibility(q, v, Some(trace)).with_salt(witness);
        MockProver::run(plan.k, &c, plan.shape.instance_of(&instance))
            .unwrap()
            .verify()
    })
}

#[test]
fn a_salted_input_hash_binds_to_its_salt_and_its_input() {
    use circuits::disclosure::hashing::salt_from_bytes;
    let v = Visibilities::new(
        Visibility::Hashed,
        Visibility::Public,
        Visibility::Public,
        true,
    )
    .unwrap();
    let (q, plan) = compiled(v);
    let (unsalted_q, unsalted_plan) = compiled(vis(Visibility::Hashed, Visibility::Public));
    assert_eq!(unsalted_q, q);
    // One more hash in the chain (the salt), and the salt's own row.
    assert!(plan.hash_rows > unsalted_plan.hash_rows + 38);
    let t = trace_for(&q, &test_split().inputs[4]);
    let x = t.tensors[0].clone();
    let (pin, _) = packings(&q);
    let (salt, other) = (salt_from_bytes([7; 31]), salt_from_bytes([8; 31]));
    let claim = |s, x: &[i64]| TensorClaim::salted(pin, s, x).unwrap();
    salted_accepted(&q, &plan, v, &t, salt, claim(salt, &x)).unwrap();
    // The hash under another salt, the unsalted hash, another input: the instance row of the input
    // hash (row 0) is not the hash the circuit computes.
    let mut x1 = x.clone();
    x1[20] += 1;
    for wrong in [
        claim(other, &x),
        TensorClaim::of(Visibility::Hashed, pin, &x).unwrap(),
        claim(salt, &x1),
    ] {
        let failures = salted_accepted(&q, &plan, v, &t, salt, wrong).unwrap_err();
        assert!(
            failures
                .iter()
                .any(|f| format!("{f:?}").contains("Instance")),
            "{failures:?}"
        );
    }
    // A prover with another salt than the one it claims: rejected too.
    assert!(salted_accepted(&q, &plan, v, &t, other, claim(salt, &x)).is_err());
}
