//! Full-integer TFLite models with uint8 tensors, held as int8 (`v - 128`):
//! - uint8 input and output around an int8 graph (`fixtures/make_tflite_uint8.py`: the converter's
//!   `inference_input_type = inference_output_type = tf.uint8`), the converter's QUANTIZE ops between
//!   them and the int8 graph costing no rows;
//! - legacy all-uint8 models (`fixtures/make_tflite_uint8_legacy.py`: TF1 quantization-aware
//!   graphs, uint8 weights with zero points, uint8 activations, no QUANTIZE op).
//!
//! On every test input the float input quantizes to the model's uint8 bytes, the output bytes equal
//! LiteRT's reference kernels', and the circuit is satisfied; a wrong output byte is rejected.

mod common;

use circuits::import::{import_model, Imported};
use circuits::plan::choose;
use circuits::qgraph::QOp;
use common::{fixture, floats, ints, satisfied};
use serde_json::Value;

fn check(name: &str) {
    check_in("tflite_uint8", name);
}

fn check_in(dir: &str, name: &str) {
    let path = fixture(&format!("{dir}/{name}.tflite"));
    let Imported::Int8(model) = import_model(&path).unwrap() else {
        panic!("{name}: not imported as int8");
    };
    let q = &model.graph;
    let io = q.int8.expect("an int8 model's quantization");
    assert!(io.unsigned, "{name}: read as uint8");
    assert_eq!(io.byte_offset(), 128);
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("{dir}/{name}.json"))).unwrap(),
    )
    .unwrap();
    // The file's uint8 zero point, held as int8.
    assert_eq!(
        io.input.zero_point + 128,
        data["input_zero_point"].as_i64().unwrap()
    );
    assert_eq!(
        io.output.zero_point + 128,
        data["output_zero_point"].as_i64().unwrap()
    );
    // The QUANTIZE ops at both ends are identities here: no table layer.
    assert!(
        !q.layers.iter().any(|l| matches!(l.op, QOp::Table(_))),
        "{name}: a QUANTIZE became a table"
    );
    for (i, case) in data["cases"].as_array().unwrap().iter().enumerate() {
        let bytes = ints(&case["input_uint8"]);
        let floats: Vec<f64> = floats(&case["input_float"]);
        let held: Vec<i64> = bytes.iter().map(|b| b - 128).collect();
        let quantized: Vec<i64> = floats.iter().map(|x| io.quantize(*x)).collect();
        assert_eq!(quantized, held, "{name} case {i}: input quantization");
        let t = q.eval(&held).unwrap();
        let out: Vec<i64> = t.output().iter().map(|v| v + 128).collect();
        assert_eq!(
            out,
            ints(&case["output_uint8_ref"]),
            "{name} case {i}: output bytes"
        );
        if i == 0 {
            let plan = choose(q).unwrap();
            let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
            assert!(satisfied(q, &t, p, w), "{name}: MockProver");
            // The honest trace, claiming another last output byte: rejected.
            let mut wrong = t.clone();
            let last = wrong.tensors.len() - 1;
            let y = wrong.tensors[last].last_mut().unwrap();
            *y += if *y < 127 { 1 } else { -1 };
            let instance = circuits::public_inputs(&t.tensors[0], wrong.output());
            let ok = circuits::with_shape(plan.shape, || {
                let c = circuits::InferenceCircuit::new(q, Some(&t));
                halo2_proofs::dev::MockProver::run(plan.k, &c, plan.shape.instance_of(&instance))
                    .unwrap()
                    .verify()
                    .is_ok()
            });
            assert!(!ok, "{name}: a wrong output byte accepted");
        }
    }
}

#[test]
fn uint8_io_cnn() {
    check("cnn_u8io");
}

#[test]
fn uint8_io_dense() {
    check("dense_u8io");
}

#[test]
fn legacy_all_uint8_cnn() {
    // CONV_2D (RELU6), DEPTHWISE_CONV_2D stride 2, AVERAGE_POOL_2D, FULLY_CONNECTED; uint8 weights
    // with zero points 94, 150 and 109.
    check_in("tflite_uint8_legacy", "legacy_cnn");
}

#[test]
fn legacy_all_uint8_dense() {
    check_in("tflite_uint8_legacy", "legacy_dense");
}

#[test]
fn legacy_uint8_requantization_rounds_as_litert_s_uint8_kernels() {
    // Sweeps whose outputs include ones where one rounding and two roundings differ (18 and 12 of
    // them, recorded by the script): FULLY_CONNECTED rounds once, CONV_2D twice, with the
    // multiplier of the float32 product of the scales.
    check_in("tflite_uint8_legacy", "legacy_fc_sweep");
    check_in("tflite_uint8_legacy", "legacy_conv_sweep");
}
