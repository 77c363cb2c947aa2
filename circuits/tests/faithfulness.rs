//! The quantized digits MLP (the circuit's semantics) against float, on the whole test split.

mod common;

use circuits::quantize::calibrate::argmax_i;
use common::*;

/// Top-1 accuracy of the model as compiled (the circuit's semantics) over a whole test split.
fn accuracy_within_half_a_point(model: &str, split: &str) {
    let q = digits_quant(model);
    let split = test_split_of(split);
    let mut correct = 0;
    let mut agree = 0;
    for ((x, label), fpred) in split
        .inputs
        .iter()
        .zip(&split.labels)
        .zip(&split.float_predictions)
    {
        let pred = argmax_i(trace_for(&q, x).output());
        correct += (pred == *label) as usize;
        agree += (pred == *fpred) as usize;
    }
    let n = split.labels.len();
    assert_eq!(n, 450);
    let acc = correct as f64 / n as f64;
    eprintln!(
        "{model}: quantized accuracy {:.4} vs float {:.4}; top-1 agreement {agree}/{n}",
        acc, split.float_accuracy
    );
    assert!(
        (acc - split.float_accuracy).abs() <= 0.005,
        "quantized {acc} vs float {}",
        split.float_accuracy
    );
}

#[test]
fn digits_mlp_top1_accuracy_is_within_half_a_point_of_float() {
    accuracy_within_half_a_point("digits_mlp.onnx", "digits/test_split.json");
}

#[test]
fn digits_cnn_top1_accuracy_is_within_half_a_point_of_float() {
    accuracy_within_half_a_point("digits_cnn.onnx", "digits_cnn/test_split.json");
}

#[test]
fn matmul_export_of_the_same_weights_quantizes_identically() {
    let a = digits_quant("digits_mlp.onnx");
    let b = digits_quant("digits_mlp_matmul.onnx");
    let split = test_split();
    for x in split.inputs.iter().take(50) {
        assert_eq!(trace_for(&a, x).output(), trace_for(&b, x).output());
    }
}
