//! Single int8 TFLite ops (`fixtures/make_tflite_ops_int8.py`: PAD with the zero point, MAX_POOL_2D,
//! CONCATENATION, ADD of differently quantized inputs with a fused RELU, MEAN, AVERAGE_POOL_2D over
//! SAME padding, a strided depthwise convolution with depth multiplier 2 and RELU6, RESHAPE and
//! FULLY_CONNECTED, SUB and MUL, standalone RELU and RELU6, an int8-to-int8 QUANTIZE, LOGISTIC and
//! TANH, constant and broadcast operands of MUL and ADD), each on its test inputs: LiteRT's
//! reference kernels' output bytes exactly, and proven.

mod common;

use circuits::import::{import_model, Imported};
use circuits::plan::choose;
use common::{fixture, ints, satisfied};
use serde_json::Value;

fn check(name: &str) {
    let path = fixture(&format!("tflite_ops_int8/{name}.tflite"));
    let Imported::Int8(model) = import_model(&path).unwrap() else {
        panic!("{name}: not imported as int8");
    };
    let q = &model.graph;
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("tflite_ops_int8/{name}.json"))).unwrap(),
    )
    .unwrap();
    for (i, case) in data["cases"].as_array().unwrap().iter().enumerate() {
        let x = ints(&case["input_int8"]);
        let t = q.eval(&x).unwrap();
        assert_eq!(
            t.output(),
            ints(&case["output_int8_ref"]).as_slice(),
            "{name} case {i}"
        );
        if i == 0 {
            let plan = choose(q).unwrap();
            let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
            assert!(satisfied(q, &t, p, w), "{name}: MockProver");
        }
    }
}

#[test]
fn pad_and_max_pool() {
    check("pad_maxpool");
}

#[test]
fn concatenation_of_branches() {
    check("concat_branches");
}

#[test]
fn residual_add_with_relu() {
    check("residual_add");
}

#[test]
fn mean_over_the_spatial_axes() {
    check("global_pool");
}

#[test]
fn average_pool_over_same_padding() {
    check("avgpool_same");
}

#[test]
fn strided_depthwise_with_multiplier_and_relu6() {
    check("dw_strided_relu6");
}

#[test]
fn reshape_and_fully_connected() {
    check("dense_flatten");
}

#[test]
fn sub_and_mul_of_differently_quantized_inputs() {
    check("sub_mul");
}

#[test]
fn standalone_relu_and_relu6() {
    check("standalone_relu");
}

#[test]
fn int8_to_int8_quantize() {
    check("requantize");
}

#[test]
fn logistic_and_tanh_tables() {
    check("logistic_tanh");
}

#[test]
fn constant_scalar_operands_of_a_rescaling_layer() {
    check("rescaling_const");
}

#[test]
fn squeeze_and_excitation_broadcast_product() {
    check("se_block");
}

#[test]
fn hard_swish_after_a_convolution() {
    check("hard_swish");
}

#[test]
fn hard_swish_requantizing_a_wide_input() {
    check("hard_swish_standalone");
}

/// ADD (with a fused RELU, of a broadcast constant, beside function rows), SUB and MUL (of two
/// branches, and squeeze-and-excitation's broadcast product) in table-sum rows: the threshold form
/// on a layout that has them.
#[test]
fn add_sub_and_mul_prove_in_table_sum_rows() {
    for name in [
        "residual_add",
        "sub_mul",
        "standalone_relu",
        "rescaling_const",
        "se_block",
    ] {
        let path = fixture(&format!("tflite_ops_int8/{name}.tflite"));
        let Imported::Int8(model) = import_model(&path).unwrap() else {
            panic!("{name}: not imported as int8");
        };
        let q = model.graph.requants_as_thresholds().unwrap();
        let data: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("tflite_ops_int8/{name}.json"))).unwrap(),
        )
        .unwrap();
        let case = &data["cases"][0];
        let t = q.eval(&ints(&case["input_int8"])).unwrap();
        assert_eq!(t.output(), ints(&case["output_int8_ref"]).as_slice());
        let plan = circuits::plan::plan_with(&q, 3, 11).unwrap();
        assert!(plan.shape.table_sums, "{name}: {:?}", plan.shape);
        assert!(satisfied(&q, &t, 3, 11), "{name}: MockProver");
    }
}
