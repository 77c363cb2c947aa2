//! The planner's choice between layouts.

use super::*;
use crate::ir::Shape;
use crate::qgraph::{QLayer, QLinear};

/// A real plan (a one-layer graph) with the given estimate.
fn plan(prove_s: f64, keygen_s: f64, proof_bytes: usize) -> Plan {
    let graph = QuantGraph {
        input_shape: Shape(vec![1, 4]),
        input_scale: 4,
        limb_bits: 8,
        int8: None,
        layers: vec![QLayer {
            inputs: vec![],
            name: "fc".into(),
            op: QOp::Linear(QLinear {
                in_features: 4,
                out_features: 2,
                weight_scale: 4,
                weight: vec![1, -2, 3, -4, 5, -6, 7, -8],
                bias: vec![1, 2],
            }),
            out_scale: 8,
            out_shape: Shape(vec![1, 2]),
        }],
    };
    let mut p = plan_with(&graph, 2, 5).unwrap();
    p.estimate = Estimate {
        keygen_s,
        prove_s,
        verify_s: 0.01,
        peak_mib: 100.0,
        proof_bytes,
    };
    p
}

#[test]
fn a_small_proof_is_preferred_only_when_it_costs_little() {
    let chosen = |c: Vec<Plan>| best_of(c).unwrap().estimate.proof_bytes;
    // A small model: 40% slower for a proof under EZKL's size is worth it.
    assert_eq!(
        chosen(vec![plan(0.10, 0.2, 3500), plan(0.14, 0.2, 2800)]),
        2800
    );
    // A large one: 35 s more per proof is not, though within the cost factor.
    assert_eq!(
        chosen(vec![plan(66.0, 25.0, 4096), plan(101.0, 26.0, 2816)]),
        4096
    );
    // Beyond the cost factor: never.
    assert_eq!(
        chosen(vec![plan(1.0, 0.5, 3500), plan(2.0, 0.5, 2800)]),
        3500
    );
    // The cheapest small one among several.
    let three = vec![
        plan(1.0, 0.5, 4000),
        plan(1.3, 0.5, 3000),
        plan(1.2, 0.5, 2900),
    ];
    assert_eq!(chosen(three), 2900);
}
