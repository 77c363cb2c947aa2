//! Model files that are well-formed JSON with a correct digest, but describe absurd circuits, are
//! refused with a message: no panic, no unbounded allocation.

mod common;

use circuits::artifacts::model_file::{ModelFile, ModelFileError, MODEL_FORMAT};
use circuits::import::import;
use circuits::ir::Shape;
use circuits::qgraph::{QAdd, QMaxPool, QOp, QRequant, QTable, QTableSum, MAX_TABLE_SUM_VALUE};
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
fn formats_are_read_or_named() {
    let m = digits_model();
    // The previous formats' files (the same fields) are read; the digest covers the format string.
    for format in ["zkinfer-model/3", "zkinfer-model/2"] {
        let mut older = m.clone();
        older.format = format.into();
        let older = older.seal();
        assert_eq!(
            ModelFile::from_bytes(&older.to_json(), "older.zkm").unwrap(),
            older
        );
    }
    for (format, advice) in [
        ("zkinfer-model/5", "newer zkinfer; upgrade"),
        ("zkinfer-model/1", "compile the model again"),
    ] {
        let mut other = m.clone();
        other.format = format.into();
        match ModelFile::from_bytes(&other.seal().to_json(), "other.zkm") {
            Err(e @ ModelFileError::Version { .. }) => {
                let why = e.to_string();
                assert!(why.contains(format) && why.contains(advice), "{why}");
            }
            other => panic!("{format}: expected a version error, got {other:?}"),
        }
    }
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
    m.graph.layers[0].op = QOp::MaxPool(QMaxPool { geom });
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
    m.graph.layers[1].op = QOp::Add(QAdd { coeffs: vec![1, 1] });
    m.graph.layers[1].out_shape = Shape(vec![1, n]);
    m.graph.layers[1].inputs = vec![1, 0];
    assert!(refused(m).contains("invalid sum"));

    // A product of one tensor.
    let mut m = digits_model();
    m.graph.layers[1].op = QOp::Mul;
    assert!(refused(m).contains("invalid product"));

    // Table sums: of one tensor, of tables of two lengths, of a value whose sum could leave the
    // threshold maps' domain.
    let table_sum = |a: Vec<i64>, b: Vec<i64>| {
        QOp::TableSum(QTableSum {
            lo: -128,
            tables: [a, b],
            product: false,
        })
    };
    let mut m = digits_model();
    m.graph.layers[1].op = table_sum(vec![0; 256], vec![0; 256]);
    assert!(refused(m).contains("invalid table sum"));
    for (a, b, invalid) in [
        (vec![0; 256], vec![0; 255], true),
        (vec![0; 256], vec![MAX_TABLE_SUM_VALUE; 256], true),
        // Well formed: refused only because the layout no longer matches the file's.
        (vec![0; 256], vec![MAX_TABLE_SUM_VALUE - 1; 256], false),
    ] {
        let mut m = digits_model();
        let n = m.graph.layers[0].out_shape.numel();
        m.graph.layers[1].op = table_sum(a, b);
        m.graph.layers[1].out_shape = Shape(vec![1, n]);
        m.graph.layers[1].inputs = vec![1, 1];
        let why = refused(m);
        assert_eq!(why.contains("invalid table sum"), invalid, "{why}");
    }
}

/// The int8 autoencoder fixture as a sealed model file.
fn int8_model() -> ModelFile {
    use circuits::import::{import_model, Imported};
    let Imported::Int8(m) = import_model(&fixture("tflite/ad_ae128_int8.tflite")).unwrap() else {
        panic!("not int8")
    };
    let (q, report, plan) =
        circuits::quantize::compile_int8(m.graph, m.unproven_tail, Default::default()).unwrap();
    ModelFile {
        graph: q,
        shape: plan.shape,
        k: plan.k,
        report,
        ..digits_model()
    }
    .seal()
}

#[test]
fn int8_layers_that_cannot_be_proven_are_refused() {
    let m = int8_model();
    assert_eq!(ModelFile::from_bytes(&m.to_json(), "ae.zkm").unwrap(), m);
    let requant = m
        .graph
        .layers
        .iter()
        .position(|l| matches!(l.op, QOp::Requant(_)))
        .unwrap();
    let edit = |f: &dyn Fn(&mut circuits::qgraph::RequantStep)| {
        let mut m = int8_model();
        if let QOp::Requant(QRequant { steps, .. }) = &mut m.graph.layers[requant].op {
            steps.iter_mut().for_each(f);
        }
        refused(m)
    };
    // An output range wider than a limb (the clamp's split could not tell the sides apart).
    assert!(edit(&|s| s.span = 1 << 12).contains("invalid requantization"));
    assert!(edit(&|s| s.span = -1).contains("invalid requantization"));
    // A multiplier large enough to wrap the field.
    assert!(edit(&|s| s.mul = 1 << 110).contains("invalid requantization"));
    // Steps that do not cover the layer.
    let mut m = int8_model();
    if let QOp::Requant(QRequant { channel_len, .. }) = &mut m.graph.layers[requant].op {
        *channel_len = 7;
    }
    assert!(refused(m).contains("invalid requantization"));
    // Requant rows need the 12-bit table.
    let mut m = int8_model();
    m.graph.limb_bits = 8;
    assert!(!refused(m).is_empty());
    // An empty table.
    let mut m = int8_model();
    m.graph.layers[requant].op = QOp::Table(QTable {
        lo: -128,
        table: vec![],
    });
    assert!(refused(m).contains("invalid table"));
}
