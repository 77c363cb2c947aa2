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
                weight: vec![1, -2, 3, -4, 5, -6, 7, -8].into(),
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
        keygen_peak_mib: 100.0,
        proof_bytes,
    };
    p
}

#[test]
fn a_small_proof_is_preferred_only_when_it_costs_little() {
    let chosen = |c: Vec<Plan>| {
        best_of(c, PlanLimits::default())
            .unwrap()
            .unwrap()
            .estimate
            .proof_bytes
    };
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

#[test]
fn a_proof_size_limit_takes_the_cheapest_layout_within_it_whatever_it_costs() {
    let chosen = |c: Vec<Plan>, limit| {
        best_of(c, PlanLimits::proof_bytes(Some(limit)))
            .unwrap()
            .map(|p| (p.estimate.proof_bytes, p.estimate.prove_s))
    };
    let candidates = || {
        vec![
            plan(66.0, 25.0, 4096),
            plan(101.0, 26.0, 2816),
            plan(150.0, 30.0, 2400),
            plan(90.0, 26.0, 3000),
        ]
    };
    // Far slower than the small-proof rule allows, but within the limit: the cheapest that fits.
    assert_eq!(chosen(candidates(), 3072), Ok((3000, 90.0)));
    assert_eq!(chosen(candidates(), 2816), Ok((2816, 101.0)));
    assert_eq!(chosen(candidates(), 2400), Ok((2400, 150.0)));
    // A limit at or above every proof: the cheapest of all.
    assert_eq!(chosen(candidates(), 1 << 20), Ok((4096, 66.0)));
    // Below every proof: refused, naming the smallest and its layout.
    match best_of(candidates(), PlanLimits::proof_bytes(Some(2399))) {
        Some(Err(LayoutError::ProofTooLarge {
            limit,
            smallest,
            layout,
        })) => {
            assert_eq!((limit, smallest), (2399, 2400));
            assert!(layout.starts_with("2 x 5 layout"), "{layout}");
        }
        other => panic!("{other:?}"),
    }
    assert!(best_of(vec![], PlanLimits::proof_bytes(Some(3072))).is_none());
}

/// A plan whose key generation peaks at `keygen_mib` and whose proof at `prove_mib`.
fn plan_in(prove_s: f64, proof_bytes: usize, keygen_mib: f64, prove_mib: f64) -> Plan {
    let mut p = plan(prove_s, 1.0, proof_bytes);
    p.estimate.keygen_peak_mib = keygen_mib;
    p.estimate.peak_mib = prove_mib;
    p
}

#[test]
fn a_memory_limit_takes_the_cheapest_layout_whose_keys_and_proofs_fit() {
    let candidates = || {
        vec![
            plan_in(60.0, 4096, 7000.0, 5000.0),
            plan_in(80.0, 4000, 5000.0, 5500.0),
            plan_in(95.0, 2800, 4000.0, 3900.0),
            plan_in(120.0, 2400, 3000.0, 3500.0),
        ]
    };
    let chosen = |limits| {
        best_of(candidates(), limits)
            .unwrap()
            .map(|p| p.estimate.prove_s)
    };
    let mib = |m| PlanLimits {
        max_peak_mib: Some(m),
        ..PlanLimits::default()
    };
    // Key generation's peak counts as well as the proof's: 6,000 MiB leaves out the first.
    assert_eq!(chosen(mib(6000)), Ok(80.0));
    assert_eq!(chosen(mib(5499)), Ok(95.0));
    assert_eq!(chosen(mib(7000)), Ok(60.0));
    // A proof size limit applies among the layouts within the memory.
    let both = PlanLimits {
        max_proof_bytes: Some(3000),
        max_peak_mib: Some(6000),
    };
    assert_eq!(chosen(both), Ok(95.0));
    // Below every peak: refused, naming the least peak and its layout.
    match best_of(candidates(), mib(3400)) {
        Some(Err(LayoutError::OverMemory {
            limit_mib,
            least_mib,
            layout,
        })) => {
            assert_eq!((limit_mib, least_mib), (3400, 3500));
            assert!(layout.starts_with("2 x 5 layout"), "{layout}");
        }
        other => panic!("{other:?}"),
    }
}
