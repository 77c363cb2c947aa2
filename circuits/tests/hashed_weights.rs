//! The model circuit with hashed weights (MockProver and verifying keys), on the digits MLP: the proof
//! binds to the weights' hash, and the verifying circuit does not depend on the weight values.

mod common;

use circuits::circuit::{instance_with_weights, TensorClaim};
use circuits::disclosure::hashing::weights_hash;
use circuits::import::import;
use circuits::plan::Plan;
use circuits::qgraph::{QConv, QLinear, QOp};
use circuits::quantize::{compile_graph, LayoutRequest};
use circuits::setup::srs::dev_params;
use circuits::{InputVisibility, QuantGraph, Revealed, Trace, Visibilities};
use common::packings;
use common::{calibration, fixture, test_split, trace_for};
use halo2_proofs::{dev::MockProver, halo2curves::bn256::Fr};

const VIS: Visibilities = Visibilities {
    input: InputVisibility::Hashed { salted: false },
    output: Revealed::Public,
    weights: Revealed::Hashed,
};

fn compiled() -> (QuantGraph, Plan) {
    compiled_model("digits_mlp.onnx")
}

fn compiled_model(onnx: &str) -> (QuantGraph, Plan) {
    compiled_with(onnx, VIS)
}

fn compiled_with(onnx: &str, vis: Visibilities) -> (QuantGraph, Plan) {
    let graph = import(&fixture(onnx)).unwrap();
    let request = LayoutRequest {
        visibility: vis,
        ..Default::default()
    };
    let (q, _, plan) = compile_graph(&graph, &calibration(), "calibration.json", request).unwrap();
    (q, plan)
}

fn hash_of(q: &QuantGraph) -> Fr {
    let p = q.params();
    weights_hash(q.limb_bits, &p.weights, &p.biases).unwrap()
}

/// `q` with one first-layer weight changed by one.
fn other_weights(q: &QuantGraph) -> QuantGraph {
    let mut other = q.clone();
    match &mut other.layers[0].op {
        QOp::Linear(QLinear { weight, .. }) => weight[100] += 1,
        QOp::Conv(QConv { weight, .. }) => weight[3] += 1,
        op => panic!("the model starts with {}", op.kind()),
    }
    other
}

/// MockProver on `q` with `trace`, the instance claiming `weights` as the weights' hash.
fn accepted(q: &QuantGraph, plan: &Plan, trace: &Trace, weights: Fr) -> bool {
    verified(VIS, q, plan, trace, weights).is_ok()
}

/// MockProver on `q` with `trace` under `vis`, the instance claiming `weights` as the weights' hash.
fn verified(
    vis: Visibilities,
    q: &QuantGraph,
    plan: &Plan,
    trace: &Trace,
    weights: Fr,
) -> Result<(), Vec<halo2_proofs::dev::VerifyFailure>> {
    let (pin, pout) = packings(q);
    let instance = instance_with_weights(
        &TensorClaim::of(vis.input.kind(), pin, &trace.tensors[0]).unwrap(),
        &TensorClaim::of(vis.output.kind(), pout, trace.output()).unwrap(),
        Some(weights),
    );
    circuits::with_shape(plan.shape, || {
        let c = circuits::InferenceCircuit::with_visibility(q, vis, Some(trace));
        MockProver::run(plan.k, &c, vec![instance])
            .unwrap()
            .verify()
    })
}

#[test]
fn a_private_input_with_hashed_weights_proves_and_binds_to_the_weights() {
    let vis = Visibilities {
        input: InputVisibility::Private,
        ..VIS
    };
    let (q, plan) = compiled_with("digits_mlp.onnx", vis);
    let input = &test_split().inputs[5];
    let t = trace_for(&q, input);
    verified(vis, &q, &plan, &t, hash_of(&q)).unwrap();
    let other = other_weights(&q);
    let t_other = trace_for(&other, input);
    assert!(verified(vis, &other, &plan, &t_other, hash_of(&q)).is_err());
    assert!(verified(vis, &q, &plan, &t, hash_of(&other)).is_err());
}

#[test]
fn hashed_weights_prove_and_bind_to_their_hash() {
    let (q, plan) = compiled();
    assert!(plan.shape.hidden_weights && plan.shape.hashing);
    // One Poseidon chip would need k = 14 for the MLP's 171 hashes (66 rows each); two fit k = 13.
    assert!(plan.shape.second_hash_chip);
    assert_eq!(plan.k, 13);
    let input = &test_split().inputs[0];
    let t = trace_for(&q, input);
    assert!(accepted(&q, &plan, &t, hash_of(&q)));

    // Other weights: rejected against the published hash, accepted against their own.
    let other = other_weights(&q);
    assert_ne!(hash_of(&other), hash_of(&q));
    let t_other = trace_for(&other, input);
    assert!(!accepted(&q, &plan, &t, hash_of(&other)));
    assert!(!accepted(&other, &plan, &t_other, hash_of(&q)));
    assert!(accepted(&other, &plan, &t_other, hash_of(&other)));
}

#[test]
fn the_verifying_circuit_does_not_depend_on_the_weights() {
    let (q, plan) = compiled();
    let mut stripped = q.clone();
    stripped.zero_params();
    let params = circuits::proof::ProofParams::Kzg(dev_params(plan.k));
    let pinned = |g: &QuantGraph| {
        let vk = circuits::keys::make_vk(&params, g, VIS, plan.shape).unwrap();
        circuits::keys::vk_bytes(&vk)
    };
    let full = pinned(&q);
    assert_eq!(full, pinned(&stripped));
    assert_eq!(full, pinned(&other_weights(&q)));
    // With public weights the key does depend on them (the weights are fixed columns).
    let public = Visibilities {
        weights: Revealed::Public,
        ..VIS
    };
    let graph = import(&fixture("digits_mlp.onnx")).unwrap();
    let request = LayoutRequest {
        visibility: public,
        ..Default::default()
    };
    let (pq, _, pplan) = compile_graph(&graph, &calibration(), "c", request).unwrap();
    let params = circuits::proof::ProofParams::Kzg(dev_params(pplan.k));
    let vk = |g: &QuantGraph| {
        let vk = circuits::keys::make_vk(&params, g, public, pplan.shape).unwrap();
        circuits::keys::vk_bytes(&vk)
    };
    assert_ne!(vk(&pq), vk(&other_weights(&pq)));
}

#[test]
fn a_convolution_binds_every_position_to_one_copy_of_its_weights() {
    let (q, plan) = compiled_model("digits_cnn.onnx");
    assert!(matches!(q.layers[0].op, QOp::Conv(_)));
    let input = &test_split().inputs[1];
    let t = trace_for(&q, input);
    assert!(accepted(&q, &plan, &t, hash_of(&q)));
    // One kernel weight changed (it is used at every output position): rejected.
    let other = other_weights(&q);
    let t_other = trace_for(&other, input);
    assert!(!accepted(&other, &plan, &t_other, hash_of(&q)));
}
