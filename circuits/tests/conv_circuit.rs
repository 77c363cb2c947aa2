//! Convolutions in the circuit: synthetic graphs (stride, padding, dilation, groups, 1-D), checked with
//! MockProver against the reference evaluator, honest and tampered.

mod common;

use common::satisfied;

use circuits::ir::geom::ConvGeom;
use circuits::ir::Shape;
use circuits::plan::plan_with;
use circuits::qgraph::{QConv, QLayer, QLinear, QMaxPool, QOp, QRescale, QuantGraph};
use circuits::{public_inputs, with_shape, InferenceCircuit, Trace};
use halo2_proofs::dev::MockProver;

/// input → conv → rescale+ReLU → dense(→3); weights from a fixed pseudo-random sequence.
fn graph(g: ConvGeom) -> QuantGraph {
    let mut seed = 7u64;
    let mut rnd = |m: i64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as i64 % (2 * m + 1)) - m
    };
    let weight: Vec<i64> = (0..g.weight_len()).map(|_| rnd(20)).collect();
    let bias: Vec<i64> = (0..g.out_c).map(|_| rnd(500)).collect();
    let n = g.out_len_total();
    let dense_w: Vec<i64> = (0..3 * n).map(|_| rnd(15)).collect();
    QuantGraph {
        input_shape: Shape(vec![1, g.in_c, g.in_h, g.in_w]),
        input_scale: 4,
        limb_bits: 8,
        int8: None,
        layers: vec![
            QLayer {
                inputs: vec![],
                name: "conv".into(),
                op: QOp::Conv(QConv {
                    geom: g,
                    weight_scale: 4,
                    weight: weight.into(),
                    bias,
                }),
                out_scale: 8,
                out_shape: Shape(vec![1, g.out_c, g.out_h, g.out_w]),
            },
            QLayer {
                inputs: vec![],
                name: "relu".into(),
                op: QOp::Rescale(QRescale {
                    shift: 4,
                    relu: true,
                }),
                out_scale: 4,
                out_shape: Shape(vec![1, g.out_c, g.out_h, g.out_w]),
            },
            QLayer {
                inputs: vec![],
                name: "fc".into(),
                op: QOp::Linear(QLinear {
                    in_features: n,
                    out_features: 3,
                    weight_scale: 4,
                    weight: dense_w.into(),
                    bias: vec![1, 2, 3],
                }),
                out_scale: 8,
                out_shape: Shape(vec![1, 3]),
            },
        ],
    }
}

fn trace(q: &QuantGraph) -> Trace {
    let x: Vec<i64> = (0..q.input_len())
        .map(|i| (i as i64 * 7) % 23 - 5)
        .collect();
    q.eval(&x).unwrap()
}

fn cases() -> Vec<(&'static str, ConvGeom)> {
    vec![
        (
            "3x3 pad 1",
            ConvGeom::square(2, [5, 5], 3, [3, 3], 1, [1, 1, 1, 1], 1, 1).unwrap(),
        ),
        (
            "stride 2, asymmetric pad",
            ConvGeom::square(2, [6, 5], 4, [3, 2], 2, [1, 0, 0, 1], 1, 1).unwrap(),
        ),
        (
            "dilation 2",
            ConvGeom::square(1, [7, 7], 2, [3, 3], 1, [0; 4], 2, 1).unwrap(),
        ),
        (
            "groups 2",
            ConvGeom::square(4, [4, 4], 6, [3, 3], 1, [1, 1, 1, 1], 1, 2).unwrap(),
        ),
        (
            "depthwise",
            ConvGeom::square(3, [4, 4], 3, [2, 2], 2, [0; 4], 1, 3).unwrap(),
        ),
        // Several output positions per block (window tiles).
        (
            "depthwise 3x3 same",
            ConvGeom::square(3, [5, 6], 3, [3, 3], 1, [1; 4], 1, 3).unwrap(),
        ),
        (
            "depthwise multiplier 2, stride 2",
            ConvGeom::square(2, [7, 7], 4, [3, 3], 2, [1; 4], 1, 2).unwrap(),
        ),
        (
            "1-D",
            ConvGeom::square(2, [1, 9], 3, [1, 3], 1, [0, 1, 0, 1], 1, 1).unwrap(),
        ),
        ("input dilation 2 (ConvTranspose)", {
            // 3x3 input with a zero between neighbours (5x5), padded by the kernel's span: the
            // convolution a stride-2 ConvTranspose lowers to.
            let mut g = ConvGeom::square(2, [5, 5], 3, [3, 3], 1, [1, 1, 1, 1], 1, 1).unwrap();
            (g.in_h, g.in_w, g.input_dilation, g.pads) = (3, 3, [2, 2], [2, 1, 2, 2]);
            (g.out_h, g.out_w) = (7, 6);
            g.validate().unwrap();
            g
        }),
    ]
}

#[test]
fn convolutions_prove_the_reference_outputs_for_every_geometry() {
    for (name, g) in cases() {
        let q = graph(g);
        let t = trace(&q);
        for (p, w) in [(1, 6), (3, 12)] {
            assert!(satisfied(&q, &t, p, w), "{name}, P = {p}, W = {w}");
        }
    }
}

#[test]
fn a_wrong_convolution_output_is_rejected() {
    for (name, g) in cases() {
        let q = graph(g);
        let honest = trace(&q);
        // The ReLU'd conv output feeds the dense layer: claim another value for one of them (and
        // recompute the dense layer from it, so only the convolution's result is a lie).
        let mut t = honest.clone();
        let i = t.tensors[2].iter().position(|v| *v > 0).unwrap_or(0);
        t.tensors[2][i] += 3;
        let dense = QuantGraph {
            input_shape: q.layers[1].out_shape.clone(),
            input_scale: q.layers[1].out_scale,
            limb_bits: q.limb_bits,
            int8: None,
            layers: q.layers[2..].to_vec(),
        };
        t.tensors[3] = dense.eval(&t.tensors[2]).unwrap().output().to_vec();
        assert!(!satisfied(&q, &t, 3, 12), "{name}");
        // And the honest trace with a wrong public output.
        let mut out = honest.output().to_vec();
        out[1] -= 1;
        let plan = plan_with(&q, 3, 12).unwrap();
        let instance = public_inputs(&honest.tensors[0], &out);
        let ok = with_shape(plan.shape, || {
            let c = InferenceCircuit::new(&q, Some(&honest));
            MockProver::run(plan.k, &c, plan.shape.instance_of(&instance))
                .unwrap()
                .verify()
                .is_ok()
        });
        assert!(!ok, "{name}");
    }
}

/// input → conv(3x3, pad 1) → ReLU → maxpool(window, stride) → dense.
fn maxpool_graph(window: usize, stride: usize, pads: [usize; 4]) -> QuantGraph {
    let mut q = graph(ConvGeom::square(2, [6, 6], 3, [3, 3], 1, [1, 1, 1, 1], 1, 1).unwrap());
    let conv_out = q.layers[1].out_shape.clone();
    let pool = ConvGeom::square(3, [6, 6], 3, [window, window], stride, pads, 1, 3).unwrap();
    let n = pool.out_len_total();
    let fc = q.layers.pop().unwrap();
    let QOp::Linear(QLinear { weight, .. }) = fc.op else {
        unreachable!()
    };
    q.layers.push(QLayer {
        inputs: vec![],
        name: "pool".into(),
        op: QOp::MaxPool(QMaxPool { geom: pool }),
        out_scale: 4,
        out_shape: Shape(vec![1, 3, pool.out_h, pool.out_w]),
    });
    q.layers.push(QLayer {
        inputs: vec![],
        name: "fc".into(),
        op: QOp::Linear(QLinear {
            in_features: n,
            out_features: 3,
            weight_scale: 4,
            weight: weight[..3 * n].to_vec().into(),
            bias: vec![1, 2, 3],
        }),
        out_scale: 8,
        out_shape: Shape(vec![1, 3]),
    });
    assert_eq!(conv_out.numel(), pool.in_len());
    q
}

#[test]
fn max_pooling_proves_the_window_maximum_and_rejects_another_value() {
    for (window, stride, pads) in [(2, 2, [0; 4]), (3, 2, [1, 1, 1, 1]), (3, 1, [0; 4])] {
        let q = maxpool_graph(window, stride, pads);
        let t = trace(&q);
        assert!(satisfied(&q, &t, 3, 12), "window {window}, stride {stride}");
        assert!(satisfied(&q, &t, 2, 5), "window {window}, stride {stride}");
        // Claim a different maximum for one window (the dense layer recomputed from the lie).
        let mut bad = t.clone();
        let i = bad.tensors[3].iter().position(|v| *v > 0).unwrap_or(0);
        bad.tensors[3][i] -= 1;
        let fc = QuantGraph {
            input_shape: q.layers[2].out_shape.clone(),
            input_scale: 4,
            limb_bits: q.limb_bits,
            int8: None,
            layers: q.layers[3..].to_vec(),
        };
        bad.tensors[4] = fc.eval(&bad.tensors[3]).unwrap().output().to_vec();
        assert!(
            !satisfied(&q, &bad, 3, 12),
            "window {window}, stride {stride}"
        );
    }
}
