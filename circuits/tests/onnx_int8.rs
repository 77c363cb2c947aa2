//! int8 ONNX models as onnxruntime's `quantize_static` writes them (QDQ and QOperator, int8 and
//! uint8; `fixtures/make_onnx_int8.py`): imported with their own integers and evaluated against
//! onnxruntime's recorded int8 tensors, and proven by MockProver.

mod common;

use circuits::plan::choose;
use circuits::qgraph::{QAdd, QOp, QThreshold, QuantGraph};
use common::{floats, int8_case_outputs, ints, load_int8_onnx, proves_and_rejects_layer};
use serde_json::Value;

fn load(name: &str) -> (QuantGraph, Value) {
    load_int8_onnx("onnx_int8", name)
}

/// Elements of the output (as the model's own bytes) that differ from onnxruntime's, over the
/// cases (inputs quantized from float) and the more_cases (int8 inputs as recorded).
fn mismatches(name: &str) -> (usize, usize) {
    let (q, data) = load(name);
    let io = q.int8.unwrap();
    let off = io.byte_offset();
    let (mut bad, mut total) = (0, 0);
    for (i, case) in data["cases"].as_array().unwrap().iter().enumerate() {
        let (got, want) = int8_case_outputs(&format!("{name} case {i}"), &q, case);
        bad += got.iter().zip(&want).filter(|(a, b)| a != b).count();
        total += want.len();
    }
    for case in data["more_cases"].as_array().unwrap() {
        let x: Vec<i64> = ints(&case["input_q"]).iter().map(|v| v - off).collect();
        let t = q.eval(&x).unwrap();
        let got: Vec<i64> = t.output().iter().map(|v| v + off).collect();
        let want = ints(&case["output_q"]);
        bad += got.iter().zip(&want).filter(|(a, b)| a != b).count();
        total += want.len();
    }
    (bad, total)
}

/// The outputs agree with onnxruntime's byte for byte, on every case.
fn exact(name: &str) {
    let (bad, total) = mismatches(name);
    assert!(total > 500, "{name}: {total} outputs checked");
    assert_eq!(
        bad, 0,
        "{name}: {bad} of {total} outputs differ from onnxruntime's"
    );
}

#[test]
fn mlp_qdq_and_qoperator_int8_and_uint8_are_bit_exact() {
    for form in ["qdq", "qop"] {
        for ty in ["s8", "u8"] {
            exact(&format!("digits_mlp_{form}_{ty}"));
        }
    }
}

#[test]
fn cnn_and_resnet_are_bit_exact() {
    for name in [
        "digits_cnn_qop_s8",
        "digits_cnn_qop_u8",
        "resnet_small_qop_s8",
        "resnet_small_qop_u8",
        "resnet_small_qdq_s8",
        "resnet_small_qdq_u8",
        "concat_branches_qop_s8",
        "concat_branches_qdq_s8",
    ] {
        exact(name);
    }
}

/// The QDQ CNN keeps its pool's input scale for its output, so a 2x2 mean of int8 values is a tie
/// (a sum of 2 mod 4) on about a quarter of the windows, and onnxruntime's float32 additions
/// decide each tie (its default and unoptimized graphs disagree on 1,429 of 57,600 pool outputs
/// over the test split). The pool's map accepts either rounding there, and the prover picks
/// onnxruntime's: bit-exact too. The exact rounding alone misses 91 (int8) and 99 (uint8) of the
/// 1,050 logits.
#[test]
fn cnn_qdq_average_pool_ties_follow_onnxruntime() {
    exact("digits_cnn_qdq_s8");
    exact("digits_cnn_qdq_u8");
    let (q, _) = load("digits_cnn_qdq_s8");
    let pool = q
        .layers
        .iter()
        .find_map(|l| match &l.op {
            QOp::Threshold(QThreshold {
                maps, ort: Some(_), ..
            }) => Some(maps[0].clone()),
            _ => None,
        })
        .expect("a pool with onnxruntime's choices");
    assert!(pool.alternatives.len() > 100, "{}", pool.alternatives.len());
    for (acc, alt) in &pool.alternatives {
        let own = pool.apply(*acc).unwrap();
        assert_eq!((own - alt).abs(), 1, "a tie's two roundings at {acc}");
    }
}

/// MockProver accepts case 0, and rejects a requantized value one off carried through the rest of
/// the graph (the threshold row still holds onnxruntime's value, so the copy into the next layer
/// fails).
fn proves(name: &str) {
    let (q, data) = load(name);
    assert!(choose(&q).unwrap().shape.threshold, "{name}");
    let k = q
        .layers
        .iter()
        .position(|l| matches!(l.op, QOp::Threshold(_)))
        .unwrap();
    proves_and_rejects_layer(name, &q, &floats(&data["cases"][0]["input"]), k);
}

#[test]
fn mlp_uint8_proves() {
    proves("digits_mlp_qop_u8");
}

#[test]
fn cnn_qoperator_proves() {
    proves("digits_cnn_qop_s8");
}

#[test]
fn resnet_qdq_proves() {
    proves("resnet_small_qdq_s8");
}

#[test]
fn cnn_qdq_uint8_proves() {
    proves("digits_cnn_qdq_u8");
}

#[test]
fn a_model_s_own_integers_are_checked_against_its_type() {
    use circuits::artifacts::input::ModelInput;
    let (s8, _) = load("digits_mlp_qop_s8");
    let (u8, _) = load("digits_mlp_qop_u8");
    let n = s8.input_len();
    // uint8 bytes are taken as they are and held as int8; an int8 model refuses them.
    assert_eq!(
        u8.input_values(&ModelInput::Int8(vec![200; n])).unwrap(),
        vec![72; n]
    );
    assert!(s8.input_values(&ModelInput::Int8(vec![200; n])).is_err());
    assert!(u8.input_values(&ModelInput::Int8(vec![-1; n])).is_err());
    assert_eq!(
        s8.input_values(&ModelInput::Int8(vec![-1; n])).unwrap(),
        vec![-1; n]
    );
}

#[test]
fn concat_with_a_requantized_branch_proves() {
    proves("concat_branches_qop_s8");
}

/// QLinearAdd's map: the exact rounding, with the other rounding accepted only next to a tie, and
/// onnxruntime's AVX2 kernel (the prover's pick) allowed by the map on every pair of int8 inputs.
#[test]
fn add_accepts_the_other_rounding_only_at_ties() {
    use circuits::qgraph::threshold::OrtFloat;
    for name in ["resnet_small_qop_s8", "resnet_small_qdq_u8"] {
        let (q, _) = load(name);
        let mut adds = 0;
        for (i, l) in q.layers.iter().enumerate() {
            let QOp::Threshold(QThreshold {
                maps,
                ort: Some(OrtFloat::Add(kernel)),
                ..
            }) = &l.op
            else {
                continue;
            };
            adds += 1;
            let QOp::Add(QAdd { coeffs }) = &q.layers[i - 1].op else {
                panic!("{name}: an Add before the map");
            };
            let map = &maps[0];
            assert!(map.alternatives.len() < 256, "{}", map.alternatives.len());
            for (acc, alt) in &map.alternatives {
                assert_eq!((map.apply(*acc).unwrap() - alt).abs(), 1);
            }
            for a in -128..128 {
                for b in -128..128 {
                    let acc = coeffs[0] * a + coeffs[1] * b;
                    let y = kernel.output(a, b);
                    assert!(map.allows(acc, y), "{name}: ({a}, {b}) -> {y}");
                }
            }
        }
        assert_eq!(adds, 3, "{name}: three residual adds");
    }
}

/// The MLPerf Tiny look-alikes quantized by `quantize_static` (`fixtures/make_mlperf_onnx_int8.py`:
/// QDQ, per-channel weights, full size): on each model's first input, the evaluator's int8 output
/// is onnxruntime's. onnxruntime's dequantized floats are compared within a quarter of the output
/// step, so the integers are equal.
#[test]
fn mlperf_lookalikes_int8_match_onnxruntime() {
    use circuits::import::{import_model, Imported};
    for (model, input) in [
        ("mlperf_onnx/ad_full_int8", "mlperf_onnx/ad_full"),
        ("mlperf_onnx/kws_full_int8", "mlperf_onnx/kws_full"),
        ("mlperf_onnx/vww_full_int8", "mlperf_onnx/vww_full"),
        ("mlperf_onnx/resnet8_int8", "resnet8"),
    ] {
        let Imported::Int8(m) = import_model(&common::fixture(&format!("{model}.onnx")))
            .unwrap_or_else(|e| panic!("{model}: {e}"))
        else {
            panic!("{model}: not imported as int8");
        };
        let q = m.graph;
        let read = |path: String| -> Value {
            serde_json::from_str(&std::fs::read_to_string(common::fixture(&path)).unwrap()).unwrap()
        };
        let x = q
            .quantize_input(&floats(
                &read(format!("{input}/input_0.json"))["input_data"][0],
            ))
            .unwrap();
        let got: Vec<f64> = q
            .eval(&x)
            .unwrap()
            .output()
            .iter()
            .map(|v| q.dequantize_output(*v))
            .collect();
        let want = floats(&read(format!("{model}/expected_0.json"))["output_data"][0]);
        assert_eq!(got.len(), want.len(), "{model}");
        let step = q.int8.as_ref().unwrap().output.scale;
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() < step / 4.0,
                "{model} output {i}: {g} against onnxruntime's {w}"
            );
        }
    }
}
