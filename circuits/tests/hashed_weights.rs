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
        MockProver::run(plan.k, &c, plan.shape.instance_of(&instance))
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

/// A depthwise 3x3 convolution (same padding) whose blocks are window tiles, ReLU, and a dense layer.
fn depthwise_graph() -> QuantGraph {
    use circuits::ir::{geom::ConvGeom, Shape};
    use circuits::qgraph::{QLayer, QRescale};
    let mut g = ConvGeom::depthwise(3, 5, 6, [3, 3]);
    (g.pads, g.out_h, g.out_w) = ([1; 4], 5, 6);
    g.validate().unwrap();
    let n = g.out_len_total();
    let layer = QLayer::new;
    let conv = QConv {
        geom: g,
        weight_scale: 4,
        weight: (0..g.weight_len())
            .map(|i| (i as i64 * 7) % 23 - 11)
            .collect(),
        bias: vec![40, -25, 9],
    };
    let dense = QLinear {
        in_features: n,
        out_features: 2,
        weight_scale: 4,
        weight: (0..2 * n).map(|i| (i as i64 * 5) % 13 - 6).collect(),
        bias: vec![3, -4],
    };
    let relu = QRescale {
        shift: 4,
        relu: true,
    };
    QuantGraph {
        input_shape: Shape(vec![1, 3, 5, 6]),
        input_scale: 4,
        limb_bits: 8,
        int8: None,
        layers: vec![
            layer("dw", QOp::Conv(conv), 8, vec![1, 3, 5, 6]),
            layer("relu", QOp::Rescale(relu), 4, vec![1, 3, 5, 6]),
            layer("fc", QOp::Linear(dense), 8, vec![1, 2]),
        ],
    }
}

#[test]
fn window_tiles_bind_their_weights_and_pin_the_others_to_zero() {
    use circuits::lower::BlockLayout;
    let q = depthwise_graph();
    let plan = circuits::plan::plan_for(&q, VIS, 2, 8).unwrap();
    let single = BlockLayout {
        window_tiles: false,
        ..BlockLayout::of(&plan.shape)
    };
    let plan_single = circuits::plan::plan_layout(&q, VIS, single).unwrap();
    assert!(plan.shape.window_tiles);
    assert!(plan.rows < plan_single.rows, "the blocks are window tiles");
    let x: Vec<i64> = (0..q.input_len())
        .map(|i| (i as i64 * 9) % 31 - 15)
        .collect();
    let t = q.eval(&x).unwrap();
    assert!(accepted(&q, &plan, &t, hash_of(&q)));
    // One kernel weight changed (used by every position of its channel): rejected.
    let other = other_weights(&q);
    let t_other = other.eval(&x).unwrap();
    assert!(!accepted(&other, &plan, &t_other, hash_of(&q)));
}
