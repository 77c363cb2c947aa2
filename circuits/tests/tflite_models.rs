//! Float32 TFLite models in the shape of the MLPerf Tiny references (`fixtures/make_tflite.py`):
//! imported from the flatbuffer, quantized on their test inputs, compared with LiteRT's reference
//! kernels, and proven by MockProver.

mod common;

use circuits::import::import;
use circuits::quantize::compile_graph;
use common::{fixture, floats, satisfied};
use serde_json::Value;

/// Softmax of `v` (the proven logits, when the model ends in a SOFTMAX left out of the proof).
fn softmax(v: &[f64]) -> Vec<f64> {
    let m = v.iter().fold(f64::MIN, |m, x| m.max(*x));
    let sum: f64 = v.iter().map(|x| (x - m).exp()).sum();
    v.iter().map(|x| (x - m).exp() / sum).collect()
}

fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |b, (i, x)| if *x > v[b] { i } else { b })
}

/// `tflite/NAME_f32.tflite` on every case of `tflite/NAME/float.json`: outputs within twice the
/// report's error (plus 0.02) of LiteRT's, the same top class for a classifier, and a MockProver
/// proof of case 0.
fn check(name: &str) {
    let graph = import(&fixture(&format!("tflite/{name}_f32.tflite"))).unwrap();
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("tflite/{name}/float.json"))).unwrap(),
    )
    .unwrap();
    let cases = data["cases"].as_array().unwrap();
    let inputs: Vec<Vec<f64>> = cases.iter().map(|c| floats(&c["input"])).collect();
    let calibration: Vec<Vec<f32>> = inputs
        .iter()
        .map(|x| x.iter().map(|v| *v as f32).collect())
        .collect();
    let (q, report, plan) =
        compile_graph(&graph, &calibration, "test cases", Default::default()).unwrap();
    let tail = graph.unproven_tail == ["Softmax"];
    let bound = 2.0 * report.output_max_abs_error + 0.02;
    for (i, (case, x)) in cases.iter().zip(&inputs).enumerate() {
        let want = floats(&case["output_ref"]);
        let (t, got) = common::run_float(&q, x);
        let got = if tail { softmax(&got) } else { got };
        let err = common::max_abs_diff(&got, &want);
        assert!(err <= bound, "{name} case {i}: error {err} over {bound}");
        if tail {
            assert_eq!(argmax(&got), argmax(&want), "{name} case {i}: top class");
        }
        if i == 0 {
            let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
            assert!(satisfied(&q, &t, p, w), "{name}: MockProver");
        }
    }
}

#[test]
fn the_dense_autoencoder_proves_as_litert_computes_it() {
    check("ad_ae128");
}

#[test]
fn the_ds_cnn_keyword_spotter_proves_as_litert_computes_it() {
    check("kws_dscnn16");
}

#[test]
fn the_mobilenet_visual_wake_words_model_proves_as_litert_computes_it() {
    check("vww_mbnet32");
}

#[test]
fn the_reduced_resnet_proves_as_litert_computes_it() {
    check("ic_resnet8_w8");
}

#[test]
fn the_float_importer_sends_an_int8_model_to_import_model() {
    let err = import(&fixture("tflite/kws_dscnn16_int8.tflite"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("int8") || err.contains("INT8"), "{err}");
}
