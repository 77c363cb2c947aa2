//! Small float32 TFLite models from `fixtures/make_tflite_ops.py`, one op family each (MEAN, PAD,
//! CONCATENATION, constant operands, pools over padding, activations, RESHAPE before
//! FULLY_CONNECTED): imported, compared with LiteRT's reference kernels, proven by MockProver.

mod common;

fn check(name: &str) {
    common::check_single_op_model(
        &format!("tflite_ops/{name}.tflite"),
        &format!("tflite_ops/{name}.json"),
    );
}

#[test]
fn mean_pad_and_concatenation() {
    for name in ["mean", "pad", "concat"] {
        check(name);
    }
}

#[test]
fn constant_operands_and_activations() {
    check("const_add_mul");
    check("activations");
}

#[test]
fn pools_whose_windows_cover_padding() {
    check("avgpool_same");
    check("maxpool_same");
}

#[test]
fn a_reshape_reads_the_nhwc_order() {
    check("reshape_fc");
}
