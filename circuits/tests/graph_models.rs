//! Real graph models (residual Add, Concat, SiLU, `x * x + x`) from `fixtures/make_graphs.py`:
//! imported, quantized with their calibration sets, evaluated against onnxruntime's outputs, and
//! proven by MockProver.

mod common;

use circuits::artifacts::input::parse_samples;
use circuits::import::import;
use circuits::quantize::compile_graph;
use common::{fixture, satisfied};

fn samples(rel: &str) -> Vec<Vec<f64>> {
    parse_samples(&std::fs::read_to_string(fixture(rel)).unwrap()).unwrap()
}

fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |b, (i, x)| if *x > v[b] { i } else { b })
}

/// Compile `NAME.onnx` with `NAME/calibration.json`; check every test input's output against
/// onnxruntime's (top class equal, values within twice the report's output error plus 0.05), and
/// MockProver on input 0.
fn check(name: &str, inputs: usize, ops: &[&str]) {
    let graph = import(&fixture(&format!("{name}.onnx"))).unwrap();
    for op in ops {
        assert!(
            graph.nodes.iter().any(|n| n.op_type == *op),
            "{name} has a {op} node"
        );
    }
    let calibration: Vec<Vec<f32>> = samples(&format!("{name}/calibration.json"))
        .into_iter()
        .map(|s| s.into_iter().map(|v| v as f32).collect())
        .collect();
    let (q, report, plan) =
        compile_graph(&graph, &calibration, "calibration.json", Default::default()).unwrap();
    let bound = 2.0 * report.output_max_abs_error + 0.05;
    for i in 0..inputs {
        let input = &samples(&format!("{name}/input_{i}.json"))[0];
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("{name}/expected_{i}.json"))).unwrap(),
        )
        .unwrap();
        let want = common::floats(&expected["output_data"][0]);
        let (t, got) = common::run_float(&q, input);
        let err = common::max_abs_diff(&got, &want);
        assert!(err <= bound, "{name} input {i}: error {err} over {bound}");
        assert_eq!(argmax(&got), argmax(&want), "{name} input {i}: top class");
        if i == 0 {
            let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
            assert!(satisfied(&q, &t, p, w), "{name}: MockProver");
        }
    }
}

#[test]
fn a_two_branch_concat_model_proves_with_onnxruntime_s_top_class() {
    check("concat_branches", 3, &["Concat"]);
}

#[test]
fn a_silu_mlp_proves_with_onnxruntime_s_top_class() {
    check("silu_mlp", 3, &["Mul", "Sigmoid"]);
}

#[test]
fn a_square_activation_cnn_proves_with_onnxruntime_s_top_class() {
    check("square_cnn", 3, &["Mul", "Add"]);
}

#[test]
fn a_reduced_resnet_proves_with_onnxruntime_s_top_class() {
    check("resnet_small", 3, &["Add", "Conv"]);
}
