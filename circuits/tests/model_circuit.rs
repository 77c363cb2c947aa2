//! MockProver runs of the whole model circuit on the digits MLP: the honest witness passes with the
//! reference evaluator's outputs as public values (bit for bit), and tampering fails.

mod common;

use circuits::plan::{plan_with, Plan};
use circuits::{public_inputs, with_shape, InferenceCircuit, QuantGraph, Trace};
use common::*;
use halo2_proofs::dev::MockProver;

fn check(q: &QuantGraph, plan: &Plan, trace: &Trace, output: &[i64]) -> bool {
    let instance = public_inputs(&trace.tensors[0], output);
    with_shape(plan.shape, || {
        let c = InferenceCircuit::new(q, Some(trace));
        let r = MockProver::run(plan.k, &c, plan.shape.instance_of(&instance))
            .unwrap()
            .verify();
        if let Err(e) = &r {
            eprintln!("{} failures, first: {:?}", e.len(), &e[..e.len().min(2)]);
        }
        r.is_ok()
    })
}

#[test]
fn digits_mlp_circuit_outputs_equal_the_reference_evaluator() {
    let (q, plan) = digits_compiled("digits_mlp.onnx");
    let split = test_split();
    for x in split.inputs.iter().take(3) {
        let t = trace_for(&q, x);
        assert!(check(&q, &plan, &t, t.output()));
    }
}

#[test]
fn every_layout_shape_is_satisfied_by_the_honest_witness() {
    let (q, _) = digits_compiled("digits_mlp.onnx");
    let t = trace_for(&q, &test_split().inputs[7]);
    for (p, w) in [(1, 6), (2, 5), (2, 8), (3, 12), (4, 16), (1, 16)] {
        let plan = plan_with(&q, p, w).unwrap();
        assert!(check(&q, &plan, &t, t.output()), "P = {p}, W = {w}");
    }
}

#[test]
fn altered_or_swapped_public_outputs_are_rejected() {
    let (q, plan) = digits_compiled("digits_mlp.onnx");
    let t = trace_for(&q, &test_split().inputs[0]);
    let mut altered = t.output().to_vec();
    altered[3] += 1;
    assert!(!check(&q, &plan, &t, &altered));
    let mut swapped = t.output().to_vec();
    assert_ne!(swapped[0], swapped[1]);
    swapped.swap(0, 1);
    assert!(!check(&q, &plan, &t, &swapped));
}

#[test]
fn a_tampered_hidden_activation_is_rejected() {
    let (q, plan) = digits_compiled("digits_mlp.onnx");
    let mut t = trace_for(&q, &test_split().inputs[1]);
    // Layer 2 is fc1's rescale+ReLU; change one hidden activation and recompute everything after it,
    // so the only lie is that activation.
    let hidden = 2;
    t.tensors[hidden][5] += 7;
    let sub = QuantGraph {
        input_shape: q.layers[hidden - 1].out_shape.clone(),
        input_scale: q.layers[hidden - 1].out_scale,
        limb_bits: q.limb_bits,
        int8: None,
        layers: q.layers[hidden..].to_vec(),
    };
    let tail = sub.eval(&t.tensors[hidden]).unwrap();
    for (i, tensor) in tail.tensors.into_iter().enumerate().skip(1) {
        t.tensors[hidden + i] = tensor;
    }
    let out = t.output().to_vec();
    assert!(!check(&q, &plan, &t, &out));
}

#[test]
fn layout_meets_the_cells_per_mac_budget_at_small_k() {
    let (_, plan) = digits_compiled("digits_mlp.onnx");
    eprintln!("{plan:#?}");
    assert!(
        plan.advice_cells_per_mac <= 1.3,
        "{}",
        plan.advice_cells_per_mac
    );
    assert!(plan.k <= 8, "k = {}", plan.k);
}
