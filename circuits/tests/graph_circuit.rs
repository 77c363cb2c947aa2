//! The model circuit on graphs that are not chains: a residual Add, a product of two activations
//! and a Concat, proven by MockProver, and rejected when any of their results is changed.

mod common;

use circuits::ir::Shape;
use circuits::qgraph::{QAdd, QLayer, QOp, QPick, QRemap, QRescale};
use circuits::{QuantGraph, Trace};
use common::satisfied;

fn layer(name: &str, op: QOp, scale: u32, len: usize, inputs: Vec<usize>) -> QLayer {
    QLayer {
        name: name.into(),
        op,
        out_scale: scale,
        out_shape: Shape(vec![1, len]),
        inputs,
    }
}

fn linear(n_in: usize, n_out: usize, seed: i64) -> QOp {
    common::linear_layer("", n_in, n_out, seed).op
}

/// input(6) → fc1 → rescale+relu (t2) → t2 + input → rescale+relu (t4) → t4 * t2 → rescale (t6)
/// → concat(t6, t4) reversed → fc2 (3 outputs).
fn graph() -> QuantGraph {
    let n = 6;
    let concat = QOp::Remap(QRemap::new((0..2 * n).rev().map(QPick::Input).collect()));
    QuantGraph {
        input_shape: Shape(vec![1, n]),
        input_scale: 4,
        limb_bits: 8,
        int8: None,
        layers: vec![
            layer("fc1", linear(n, n, 3), 8, n, vec![]),
            layer(
                "fc1.rescale",
                QOp::Rescale(QRescale {
                    shift: 4,
                    relu: true,
                }),
                4,
                n,
                vec![],
            ),
            layer(
                "add",
                QOp::Add(QAdd { coeffs: vec![1, 2] }),
                4,
                n,
                vec![2, 0],
            ),
            layer(
                "relu",
                QOp::Rescale(QRescale {
                    shift: 1,
                    relu: true,
                }),
                3,
                n,
                vec![],
            ),
            layer("mul", QOp::Mul, 7, n, vec![4, 2]),
            layer(
                "mul.rescale",
                QOp::Rescale(QRescale {
                    shift: 3,
                    relu: false,
                }),
                4,
                n,
                vec![],
            ),
            layer("concat", concat, 4, 2 * n, vec![6, 4]),
            layer("fc2", linear(2 * n, 3, 5), 8, 3, vec![]),
        ],
    }
}

fn honest() -> (QuantGraph, Trace) {
    let q = graph();
    let t = q.eval(&[5, -40, 17, 0, 33, -8]).unwrap();
    (q, t)
}

#[test]
fn the_graph_evaluates_as_its_definition() {
    let (_, t) = honest();
    for (e, x) in t.tensors[0].iter().enumerate() {
        assert_eq!(t.tensors[3][e], t.tensors[2][e] + 2 * x, "aligned sum");
        assert_eq!(
            t.tensors[5][e],
            t.tensors[4][e] * t.tensors[2][e],
            "product"
        );
        assert_eq!(t.tensors[7][e], t.tensors[4][5 - e], "concat, reversed");
        assert_eq!(t.tensors[7][6 + e], t.tensors[6][5 - e], "concat, reversed");
    }
    assert!(
        t.tensors[5].iter().any(|v| *v != 0),
        "the products are not all zero"
    );
}

#[test]
fn residual_product_and_concat_prove() {
    let (q, t) = honest();
    for (p, w) in [(2, 5), (3, 6), (4, 8)] {
        assert!(satisfied(&q, &t, p, w), "P = {p}, W = {w}");
    }
    // A product needs two input columns.
    assert!(circuits::plan::plan_with(&q, 1, 6).is_err());
    let plan = circuits::plan::choose(&q).unwrap();
    assert!(plan.shape.products && plan.shape.inputs_per_row >= 2);
}

/// Change tensor `t` at element `e` by `delta`, and everything after it as the graph would.
fn tampered(q: &QuantGraph, honest: &Trace, t: usize, e: usize, delta: i64) -> Trace {
    let mut bad = honest.clone();
    bad.tensors[t][e] += delta;
    q.eval_from(&mut bad, t).unwrap();
    assert_ne!(
        bad.output(),
        honest.output(),
        "the change reaches the output"
    );
    bad
}

#[test]
fn a_wrong_aligned_sum_is_rejected() {
    let (q, t) = honest();
    let e = t.tensors[4].iter().position(|v| *v > 0).unwrap();
    assert!(!satisfied(&q, &tampered(&q, &t, 4, e, 1), 2, 5));
}

#[test]
fn a_wrong_product_is_rejected() {
    let (q, t) = honest();
    let e = t.tensors[6].iter().position(|v| *v != 0).unwrap();
    assert!(!satisfied(&q, &tampered(&q, &t, 6, e, 1), 2, 5));
}

#[test]
fn a_concat_picking_the_wrong_element_is_rejected() {
    let (q, t) = honest();
    let mut bad = t.clone();
    // Element 0 of the concat should be t4[5]; claim t4[4] (they differ).
    let (a, b) = (t.tensors[4][5], t.tensors[4][4]);
    assert_ne!(a, b);
    bad.tensors[7][0] = b;
    q.eval_from(&mut bad, 7).unwrap();
    assert_ne!(bad.output(), t.output());
    assert!(!satisfied(&q, &bad, 2, 5));
}

#[test]
fn a_witness_that_does_not_fit_names_its_reason() {
    use circuits::circuit::failure::{take, SynthesisFailure};
    let (q, t) = honest();
    let plan = circuits::plan::plan_with(&q, 2, 5).unwrap();
    // The circuit's table configured for other limbs than the model's.
    let shape = circuits::CircuitShape {
        limb_bits: q.limb_bits + 1,
        ..plan.shape
    };
    let instance = circuits::public_inputs(&t.tensors[0], t.output());
    let run = circuits::with_shape(shape, || {
        let c = circuits::InferenceCircuit::new(&q, Some(&t));
        halo2_proofs::dev::MockProver::run(plan.k, &c, plan.shape.instance_of(&instance))
    });
    assert!(run.is_err());
    assert_eq!(
        take(),
        Some(SynthesisFailure::LimbBits {
            table: q.limb_bits + 1,
            model: q.limb_bits
        })
    );
}
