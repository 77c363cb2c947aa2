//! MockProver runs of the whole model circuit on the digits MLP: the honest witness passes with the
//! reference evaluator's outputs as public values (bit for bit), and tampering fails.

mod common;

use circuits::layout::plan;
use circuits::{public_inputs, with_shape, InferenceCircuit};
use common::*;
use halo2_proofs::dev::MockProver;

fn check(q: &circuits::QuantGraph, trace: &circuits::Trace, output: &[i64]) -> bool {
    let p = plan(q).unwrap();
    let instance = public_inputs(&trace.tensors[0], output);
    with_shape(p.shape, || {
        let c = InferenceCircuit::new(q, Some(trace));
        let r = MockProver::run(p.k, &c, vec![instance]).unwrap().verify();
        if let Err(e) = &r {
            eprintln!("{} failures, first: {:?}", e.len(), &e[..e.len().min(2)]);
        }
        r.is_ok()
    })
}

#[test]
fn digits_mlp_circuit_outputs_equal_the_reference_evaluator() {
    let q = digits_quant("digits_mlp.onnx");
    let split = test_split();
    for x in split.inputs.iter().take(3) {
        let t = trace_for(&q, x);
        assert!(check(&q, &t, t.output()));
    }
}

#[test]
fn altered_or_swapped_public_outputs_are_rejected() {
    let q = digits_quant("digits_mlp.onnx");
    let t = trace_for(&q, &test_split().inputs[0]);
    let mut altered = t.output().to_vec();
    altered[3] += 1;
    assert!(!check(&q, &t, &altered));
    let mut swapped = t.output().to_vec();
    let (a, b) = (swapped[0], swapped[1]);
    assert_ne!(a, b);
    swapped.swap(0, 1);
    assert!(!check(&q, &t, &swapped));
}

#[test]
fn a_tampered_hidden_activation_is_rejected() {
    let q = digits_quant("digits_mlp.onnx");
    let mut t = trace_for(&q, &test_split().inputs[1]);
    // Layer 2 is fc1's rescale+ReLU; change one hidden activation and recompute everything after it,
    // so the only lie is the ReLU output.
    let hidden = 2;
    t.tensors[hidden][5] += 7;
    let rest = q.layers[hidden..].iter();
    let x = t.tensors[hidden].clone();
    let sub = circuits::QuantGraph {
        input_shape: q.layers[hidden - 1].out_shape.clone(),
        input_scale: q.layers[hidden - 1].out_scale,
        limb_bits: q.limb_bits,
        layers: rest.cloned().collect(),
    };
    let tail = sub.eval(&x).unwrap();
    for (i, tensor) in tail.tensors.into_iter().enumerate().skip(1) {
        t.tensors[hidden + i] = tensor;
    }
    let out = t.output().to_vec();
    assert!(!check(&q, &t, &out));
}

#[test]
fn layout_meets_the_cells_per_mac_budget() {
    let q = digits_quant("digits_mlp.onnx");
    let p = plan(&q).unwrap();
    eprintln!("{p:#?}");
    assert!(p.advice_cells_per_mac <= 1.3, "{}", p.advice_cells_per_mac);
    assert!(p.k <= 9, "k = {}", p.k);
}
