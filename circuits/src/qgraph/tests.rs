//! The reference evaluator's semantics, pinned value by value.

use super::*;

#[test]
fn rescale_rounds_half_up_for_both_signs() {
    assert_eq!(rescale(5, 1), 3); // 2.5 -> 3
    assert_eq!(rescale(-5, 1), -2); // -2.5 -> -2
    assert_eq!(rescale(-6, 2), -1); // -1.5 -> -1
    assert_eq!(rescale(7, 0), 7);
    assert_eq!(rescale(1023, 8), 4); // 3.996 -> 4
}

/// A two-layer graph (dense, then rescale with ReLU), for tests of other modules too.
pub(crate) fn tiny() -> QuantGraph {
    QuantGraph {
        input_shape: Shape(vec![1, 2]),
        input_scale: 4,
        limb_bits: 4,
        int8: None,
        layers: vec![
            QLayer {
                inputs: vec![],
                name: "fc".into(),
                op: QOp::Linear(QLinear {
                    in_features: 2,
                    out_features: 2,
                    weight_scale: 2,
                    weight: vec![1, 2, -3, 4].into(),
                    bias: vec![0, -100],
                }),
                out_scale: 6,
                out_shape: Shape(vec![1, 2]),
            },
            QLayer {
                inputs: vec![],
                name: "relu".into(),
                op: QOp::Rescale(QRescale {
                    shift: 2,
                    relu: true,
                }),
                out_scale: 4,
                out_shape: Shape(vec![1, 2]),
            },
        ],
    }
}

#[test]
fn eval_follows_the_integer_semantics() {
    let t = tiny().eval(&[3, 5]).unwrap();
    assert_eq!(t.tensors[1], vec![13, -89]);
    assert_eq!(t.output(), &[3, 0]); // 13/4 = 3.25 -> 3; -89/4 = -22.25 -> -22 -> relu 0
}

#[test]
fn eval_rejects_out_of_range_activations_and_bad_lengths() {
    let g = tiny();
    // limb_bits 4 -> q must be < 256
    let err = g.eval(&[1000, 1000]).unwrap_err();
    assert!(
        matches!(err, EvalError::OutOfRange { index: 0, .. }),
        "{err}"
    );
    assert!(matches!(g.eval(&[1]), Err(EvalError::InputLength { .. })));
}
