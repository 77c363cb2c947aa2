//! The model circuit with hashed and private tensors (MockProver), on the digits MLP.

mod common;

use circuits::circuit::{instance_column, packings, TensorClaim};
use circuits::compiler::{compile_graph, import, LayoutRequest};
use circuits::layout::Plan;
use circuits::{QuantGraph, Trace, Visibilities, Visibility};
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
    Visibilities {
        input,
        output,
        weights: Visibility::Public,
    }
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
        &TensorClaim::of(v.input, pin, claimed_input).unwrap(),
        &TensorClaim::of(v.output, pout, claimed_output).unwrap(),
    );
    circuits::with_shape(plan.shape, || {
        let c = circuits::InferenceCircuit::with_visibility(q, v, Some(trace));
        MockProver::run(plan.k, &c, vec![instance])
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
