//! Clip (ReLU6, HardSigmoid's clamp) on the existing chips: honest witnesses pass, a wrong clipped
//! value fails.

mod common;

use common::satisfied;

use circuits::ir::{Func, Shape};
use circuits::qgraph::{QClip, QFunction, QLayer, QOp, QRescale, QuantGraph};

fn linear(name: &str, n_in: usize, n_out: usize, seed: i64) -> QLayer {
    common::linear_layer(name, n_in, n_out, seed)
}

fn graph(lo: Option<i64>, hi: Option<i64>) -> QuantGraph {
    QuantGraph {
        input_shape: Shape(vec![1, 6]),
        input_scale: 4,
        limb_bits: 8,
        int8: None,
        layers: vec![
            linear("fc1", 6, 14, 3),
            QLayer {
                inputs: vec![],
                name: "rescale".into(),
                op: QOp::Rescale(QRescale {
                    shift: 4,
                    relu: false,
                }),
                out_scale: 4,
                out_shape: Shape(vec![1, 14]),
            },
            QLayer {
                inputs: vec![],
                name: "clip".into(),
                op: QOp::Clip(QClip { lo, hi }),
                out_scale: 4,
                out_shape: Shape(vec![1, 14]),
            },
            linear("fc2", 14, 3, 7),
        ],
    }
}

#[test]
fn clip_proves_the_clamped_values_and_rejects_others() {
    let x = [5, -40, 17, 0, 33, -8];
    for (lo, hi) in [
        (Some(-30), Some(40)),
        (Some(0), None),
        (None, Some(10)),
        (Some(0), Some(96)),
    ] {
        let q = graph(lo, hi);
        let t = q.eval(&x).unwrap();
        let clipped = &t.tensors[3];
        assert!(
            clipped.iter().any(|v| Some(*v) == lo || Some(*v) == hi),
            "the case clips something"
        );
        for (p, w) in [(1, 6), (3, 12)] {
            assert!(satisfied(&q, &t, p, w), "{lo:?}..{hi:?}, P = {p}, W = {w}");
        }
        // Claim an unclipped (or otherwise wrong) value for a clipped element.
        let mut bad = t.clone();
        let i = clipped
            .iter()
            .position(|v| Some(*v) == lo || Some(*v) == hi)
            .unwrap();
        bad.tensors[3][i] = t.tensors[2][i];
        if bad.tensors[3][i] == t.tensors[3][i] {
            bad.tensors[3][i] += 1;
        }
        let fc2 = QuantGraph {
            input_shape: Shape(vec![1, 14]),
            input_scale: 4,
            limb_bits: 8,
            int8: None,
            layers: q.layers[3..].to_vec(),
        };
        bad.tensors[4] = fc2.eval(&bad.tensors[3]).unwrap().output().to_vec();
        assert!(!satisfied(&q, &bad, 3, 12), "{lo:?}..{hi:?}");
    }
}

/// fc1 → rescale → a table function `f` (domain ±d, input scale 2, output scale 10) → fc2.
fn function_graph(f: Func) -> QuantGraph {
    let d = 24i64;
    let table: Vec<i64> = (-d..d)
        .map(|x| (f.apply(x as f64 / 4.0) * 1024.0).round() as i64)
        .collect();
    let mut q = graph(None, None);
    q.layers[2] = QLayer {
        inputs: vec![],
        name: f.name().into(),
        op: QOp::Function(QFunction {
            func: f.name().into(),
            domain: d,
            in_scale: 2,
            out_scale: 10,
            table,
        }),
        out_scale: 10,
        out_shape: Shape(vec![1, 14]),
    };
    if let QOp::Rescale(QRescale { shift, .. }) = &mut q.layers[1].op {
        *shift = 4;
    }
    q
}

#[test]
fn table_functions_prove_the_table_value_and_reject_others() {
    for f in [Func::Sigmoid, Func::Elu { alpha: 1.0 }, Func::Softplus] {
        check_table_function(function_graph(f));
    }
}

fn check_table_function(q: QuantGraph) {
    let x = [5, -40, 17, 0, 33, -8];
    let t = q.eval(&x).unwrap();
    // Some inputs saturate (clamped into the domain), some do not.
    let pre = &t.tensors[2];
    assert!(
        pre.iter().any(|v| v.abs() >= 24) && pre.iter().any(|v| v.abs() < 24),
        "{pre:?}"
    );
    for (p, w) in [(1, 6), (3, 12)] {
        assert!(satisfied(&q, &t, p, w), "P = {p}, W = {w}");
    }
    for i in [0, 5] {
        let mut bad = t.clone();
        bad.tensors[3][i] += 1;
        let fc2 = QuantGraph {
            input_shape: Shape(vec![1, 14]),
            input_scale: 10,
            limb_bits: 8,
            int8: None,
            layers: q.layers[3..].to_vec(),
        };
        bad.tensors[4] = fc2.eval(&bad.tensors[3]).unwrap().output().to_vec();
        assert!(!satisfied(&q, &bad, 3, 12), "element {i}");
    }
}
