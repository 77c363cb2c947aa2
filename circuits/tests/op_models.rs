//! Single-op ONNX models from `fixtures/make_ops.py` (HardSwish, Slice, Gather, Split, ReduceMean, a
//! broadcast gate, Sub of two activations, Concat on a spatial axis, a batch of two, and trivial
//! models): imported, quantized on their calibration samples, evaluated against onnxruntime and
//! proven by MockProver.

mod common;

use circuits::import::import;
use circuits::quantize::compile_graph;
use common::{fixture, floats, satisfied};
use serde_json::Value;

/// Check `ops/NAME.onnx` against onnxruntime (see [`common::check_single_op_model`]).
fn check(name: &str) {
    common::check_single_op_model(&format!("ops/{name}.onnx"), &format!("ops/{name}.json"));
}

#[test]
fn hardswish_as_one_op_and_as_pytorch_exports_it() {
    check("hardswish");
    check("hardswish_opset13");
}

#[test]
fn slice_gather_split_and_concat_move_elements() {
    for name in ["slice", "gather", "split", "concat_axis2"] {
        check(name);
    }
}

#[test]
fn reductions_gates_and_differences_of_activations() {
    for name in ["reducemean", "broadcast_mul", "sub_residual"] {
        check(name);
    }
}

#[test]
fn a_batch_of_two_is_one_proof() {
    check("batch2_conv");
}

#[test]
fn trivial_models_prove_by_binding_output_to_input() {
    check("identity");
    check("lone_sigmoid");
}

/// `onnx`'s `test_operator_concat2`: two inputs `[2, 3]` concatenated on axis 1 (a batch of two).
#[test]
fn two_inputs_of_a_batch_of_two_are_one_concatenated_input() {
    let dir = "conformance/test_operator_concat2";
    let graph = import(&fixture(&format!("{dir}/model.onnx"))).unwrap();
    assert_eq!(graph.input_parts.len(), 2);
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{dir}/{f}"))).unwrap())
            .unwrap()
    };
    let x: Vec<f64> = read("inputs.json")["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| floats(&t["data"]))
        .collect();
    let want = floats(&read("expected.json")["outputs"][0]["data"]);
    let calibration = vec![x.iter().map(|v| *v as f32).collect::<Vec<f32>>()];
    let (q, _, plan) = compile_graph(&graph, &calibration, "inputs", Default::default()).unwrap();
    assert_eq!(q.output_shape().0, vec![2, 6]);
    let (t, got) = common::run_float(&q, &x);
    // Within the input scale's rounding (the calibrated range sets it).
    let step = 1.0 / (1u64 << q.input_scale) as f64;
    assert!(common::max_abs_diff(&got, &want) <= step, "{got:?}");
    let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
    assert!(satisfied(&q, &t, p, w));
}
