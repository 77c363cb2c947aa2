//! Shared helpers for the integration tests: fixture paths and the compiled digits MLP.
#![allow(dead_code)]

use std::path::PathBuf;

use circuits::artifacts::input::parse_samples;
use circuits::disclosure::hashing::Packing;
use circuits::import::import;
use circuits::plan::Plan;
use circuits::qgraph::quantize;
use circuits::quantize::compile_graph;
use circuits::{QuantGraph, Trace};

pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

pub fn calibration() -> Vec<Vec<f32>> {
    let text = std::fs::read_to_string(fixture("digits/calibration.json")).unwrap();
    parse_samples(&text)
        .unwrap()
        .into_iter()
        .map(|s| s.into_iter().map(|v| v as f32).collect())
        .collect()
}

/// The digits model as `zkinfer compile` makes it (automatic layout and table size).
pub fn digits_compiled(model: &str) -> (QuantGraph, Plan) {
    let graph = import(&fixture(model)).unwrap();
    let (q, _, plan) = compile_graph(
        &graph,
        &calibration(),
        "calibration.json",
        Default::default(),
    )
    .unwrap();
    (q, plan)
}

pub fn digits_quant(model: &str) -> QuantGraph {
    digits_compiled(model).0
}

pub struct TestSplit {
    pub inputs: Vec<Vec<f64>>,
    pub labels: Vec<usize>,
    pub float_predictions: Vec<usize>,
    pub float_accuracy: f64,
}

pub fn test_split() -> TestSplit {
    test_split_of("digits/test_split.json")
}

pub fn test_split_of(rel: &str) -> TestSplit {
    let text = std::fs::read_to_string(fixture(rel)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let nums = |k: &str| -> Vec<usize> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    TestSplit {
        inputs: v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect()
            })
            .collect(),
        labels: nums("labels"),
        float_predictions: nums("float_predictions"),
        float_accuracy: v["float_accuracy"].as_f64().unwrap(),
    }
}

pub fn trace_for(q: &QuantGraph, input: &[f64]) -> Trace {
    let x: Vec<i64> = input.iter().map(|v| quantize(*v, q.input_scale)).collect();
    q.eval(&x).unwrap()
}

/// Whether MockProver accepts `t` (public: its input and output) at layout `(p, w)`.
pub fn satisfied(q: &QuantGraph, t: &Trace, p: usize, w: usize) -> bool {
    let plan = circuits::plan::plan_with(q, p, w).unwrap();
    mock_verify(q, t, &plan).is_ok()
}

/// MockProver's verdict on `t` (public: its input and output) in `plan`'s circuit.
pub fn mock_verify(
    q: &QuantGraph,
    t: &Trace,
    plan: &circuits::plan::Plan,
) -> Result<(), Vec<halo2_proofs::dev::VerifyFailure>> {
    let instance = circuits::public_inputs(&t.tensors[0], t.output());
    circuits::with_shape(plan.shape, || {
        let c = circuits::InferenceCircuit::new(q, Some(t));
        halo2_proofs::dev::MockProver::run(plan.k, &c, plan.shape.instance_of(&instance))
            .unwrap()
            .verify()
    })
}

/// The numbers of a JSON array.
pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The trace of `q` on the float input `input`, and its output dequantized.
pub fn run_float(q: &QuantGraph, input: &[f64]) -> (Trace, Vec<f64>) {
    let t = q.eval(&q.quantize_input(input).unwrap()).unwrap();
    let out = t
        .output()
        .iter()
        .map(|v| circuits::qgraph::dequantize(*v, q.output_scale()))
        .collect();
    (t, out)
}

/// The largest absolute difference between `a` and `b`, element by element.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

/// A Linear layer `n_in → n_out` with weights and biases made from `seed` (weight scale 4, output
/// scale 8).
pub fn linear_layer(name: &str, n_in: usize, n_out: usize, seed: i64) -> circuits::qgraph::QLayer {
    circuits::qgraph::QLayer {
        inputs: vec![],
        name: name.into(),
        op: circuits::qgraph::QOp::Linear(circuits::qgraph::QLinear {
            in_features: n_in,
            out_features: n_out,
            weight_scale: 4,
            weight: (0..n_in * n_out)
                .map(|i| ((i as i64 * 37 + seed) % 41) - 20)
                .collect(),
            bias: (0..n_out)
                .map(|i| (i as i64 * 13 + seed) % 50 - 25)
                .collect(),
        }),
        out_scale: 8,
        out_shape: circuits::ir::Shape(vec![1, n_out]),
    }
}

/// Compile the model `model` (ONNX or TFLite) on the calibration samples of the JSON file `data`
/// (`{"input", "output", "output_shape", "calibration": {"samples"}}`); its output on the test input
/// must have the expected shape and lie within 2% of the output range (plus twice the report's
/// error) of the runtime's, and MockProver must accept the proof.
pub fn check_single_op_model(model: &str, data: &str) {
    let graph = import(&fixture(model)).unwrap();
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(data)).unwrap()).unwrap();
    let calibration: Vec<Vec<f32>> = parse_samples(&data["calibration"].to_string())
        .unwrap()
        .into_iter()
        .map(|s| s.into_iter().map(|v| v as f32).collect())
        .collect();
    let (q, report, plan) =
        compile_graph(&graph, &calibration, "calibration", Default::default()).unwrap();
    let want = floats(&data["output"]);
    let shape: Vec<usize> = floats(&data["output_shape"])
        .iter()
        .map(|d| *d as usize)
        .collect();
    assert_eq!(q.output_shape().0, shape, "{model}: output shape");
    let (t, got) = run_float(&q, &floats(&data["input"]));
    let range = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let bound = 0.02 * range + 2.0 * report.output_max_abs_error + 1e-3;
    let err = max_abs_diff(&got, &want);
    assert!(err <= bound, "{model}: error {err} over {bound}");
    let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
    assert!(satisfied(&q, &t, p, w), "{model}: MockProver");
}

/// The integers of a JSON array.
pub fn ints(v: &serde_json::Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

/// MockProver accepts `q` on the float `input`, and rejects the trace with the first output of
/// layer `k` one off (carried through the rest of the graph, so only that layer's rows are wrong).
pub fn proves_and_rejects_layer(name: &str, q: &QuantGraph, input: &[f64], k: usize) {
    let t = q.eval(&q.quantize_input(input).unwrap()).unwrap();
    let plan = circuits::plan::choose(q).unwrap();
    let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
    assert!(satisfied(q, &t, p, w), "{name}: MockProver");
    let mut bad = t.clone();
    let v = &mut bad.tensors[k + 1][0];
    *v = if *v < 127 { *v + 1 } else { *v - 1 };
    q.eval_from(&mut bad, k + 1).unwrap();
    assert!(
        !satisfied(q, &bad, p, w),
        "{name}: a wrong output of layer {k} was accepted"
    );
}

/// An int8 ONNX fixture `<folder>/<name>.onnx` imported, and its `<name>.json`.
pub fn load_int8_onnx(folder: &str, name: &str) -> (QuantGraph, serde_json::Value) {
    use circuits::import::{import_model, Imported};
    let Imported::Int8(model) = import_model(&fixture(&format!("{folder}/{name}.onnx")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    else {
        panic!("{name}: not imported as int8");
    };
    let text = std::fs::read_to_string(fixture(&format!("{folder}/{name}.json"))).unwrap();
    (model.graph, serde_json::from_str(&text).unwrap())
}

/// The packings of `q`'s input and output hashes (as the circuit's [`Disclosure`] has them).
///
/// [`Disclosure`]: circuits::disclosure::Disclosure
pub fn packings(q: &QuantGraph) -> (Packing, Packing) {
    let d = circuits::disclosure::Disclosure::new(q, circuits::Visibilities::PUBLIC);
    (d.input_packing, d.output_packing)
}

/// One recorded int8 ONNX case (`input` floats, `input_q`, `output_q`, the model's own bytes):
/// asserts that the float input quantizes to onnxruntime's `input_q`, and returns the model's
/// output bytes and onnxruntime's `output_q`.
pub fn int8_case_outputs(
    name: &str,
    q: &QuantGraph,
    case: &serde_json::Value,
) -> (Vec<i64>, Vec<i64>) {
    let off = q.int8.as_ref().unwrap().byte_offset();
    let x = q.quantize_input(&floats(&case["input"])).unwrap();
    let want_x: Vec<i64> = ints(&case["input_q"]).iter().map(|v| v - off).collect();
    assert_eq!(x, want_x, "{name}: the quantized input");
    let t = q.eval(&x).unwrap();
    let got = t.output().iter().map(|v| v + off).collect();
    (got, ints(&case["output_q"]))
}
