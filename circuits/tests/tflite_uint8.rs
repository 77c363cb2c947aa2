//! Full-integer TFLite models with uint8 input and output (`fixtures/make_tflite_uint8.py`: the
//! converter's `inference_input_type = inference_output_type = tf.uint8`): read with the uint8
//! tensors held as int8, the converter's QUANTIZE ops between them and the int8 graph costing no
//! rows; on every test input the float input quantizes to the model's uint8 bytes, the output bytes
//! equal LiteRT's reference kernels', and the circuit is satisfied.

mod common;

use circuits::import::{import_model, Imported};
use circuits::plan::choose;
use circuits::qgraph::QOp;
use common::{fixture, floats, ints, satisfied};
use serde_json::Value;

fn check(name: &str) {
    let path = fixture(&format!("tflite_uint8/{name}.tflite"));
    let Imported::Int8(model) = import_model(&path).unwrap() else {
        panic!("{name}: not imported as int8");
    };
    let q = &model.graph;
    let io = q.int8.expect("an int8 model's quantization");
    assert!(io.unsigned, "{name}: read as uint8");
    assert_eq!(io.byte_offset(), 128);
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("tflite_uint8/{name}.json"))).unwrap(),
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
