//! Model files that are well-formed JSON with a correct digest, but describe absurd circuits, are
//! refused with a message: no panic, no unbounded allocation.

mod common;

use circuits::artifacts::model_file::{ModelFile, ModelFileError, MODEL_FORMAT};
use circuits::import::import;
use circuits::ir::Shape;
use circuits::qgraph::QOp;
use circuits::quantize::compile_graph;
use common::*;

fn digits_model() -> ModelFile {
    let graph = import(&fixture("digits_mlp.onnx")).unwrap();
    let (q, report, plan) = compile_graph(
        &graph,
        &calibration(),
        "calibration.json",
        Default::default(),
    )
    .unwrap();
    ModelFile {
        format: MODEL_FORMAT.into(),
        name: "digits".into(),
        source: "digits_mlp.onnx".into(),
        graph: q,
        visibility: Default::default(),
        shape: plan.shape,
        k: plan.k,
        report,
        weights_hash: None,
        stripped: false,
        proof_system: circuits::artifacts::model_file::ProofSystem::placeholder(),
        digest: String::new(),
    }
    .seal()
}

fn refused(m: ModelFile) -> String {
    let bytes = m.seal().to_json();
    match ModelFile::from_bytes(&bytes, "hostile.zkm") {
        Err(e @ ModelFileError::Invalid { .. }) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_honest_model_round_trips() {
    let m = digits_model();
    assert_eq!(
        ModelFile::from_bytes(&m.to_json(), "digits.zkm").unwrap(),
        m
    );
}

#[test]
fn absurd_sizes_are_refused_before_anything_is_computed() {
    let mut m = digits_model();
    m.graph.input_shape = Shape(vec![usize::MAX, 3]);
    assert!(refused(m).contains("input shape"));

    let mut m = digits_model();
    m.graph.layers[0].out_shape = Shape(vec![1 << 20, 1 << 20]);
    assert!(refused(m).contains("too large"));

    // A convolution whose geometry is consistent but enormous.
    let mut m = digits_model();
    let geom = circuits::ir::geom::ConvGeom {
        in_c: 1,
        in_h: 8,
        in_w: 8,
        out_c: 60_000,
        out_h: 8,
        out_w: 8,
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0; 4],
        dilation: [1, 1],
        groups: 1,
        input_dilation: [1, 1],
    };
    m.graph.input_shape = Shape(vec![1, 1, 8, 8]);
    m.graph.layers[0].op = QOp::MaxPool { geom };
    assert!(!refused(m).is_empty());

    let mut m = digits_model();
    m.shape.width = 1 << 20;
    assert!(!refused(m).is_empty());
}

#[test]
fn graph_edges_that_do_not_fit_are_refused() {
    // A layer that reads a tensor made after it.
    let mut m = digits_model();
    m.graph.layers[0].inputs = vec![2];
    assert!(refused(m).contains("not made before"));

    // A sum whose inputs do not have the output's length.
    let mut m = digits_model();
    let n = m.graph.layers[0].out_shape.numel();
    m.graph.layers[1].op = QOp::Add { coeffs: vec![1, 1] };
    m.graph.layers[1].out_shape = Shape(vec![1, n]);
    m.graph.layers[1].inputs = vec![1, 0];
    assert!(refused(m).contains("invalid sum"));

    // A product of one tensor.
    let mut m = digits_model();
    m.graph.layers[1].op = QOp::Mul;
    assert!(refused(m).contains("invalid product"));
}
