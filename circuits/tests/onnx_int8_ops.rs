//! int8 ONNX activations and uint8 weights as onnxruntime runs them (`fixtures/make_onnx_int8_ops.py`):
//! QLinearLeakyRelu and QLinearSigmoid (and their QDQ forms, which onnxruntime fuses into them),
//! built as onnxruntime builds their 256-entry tables; QLinearConv and QGemm with asymmetric uint8
//! weights. Bit-exact against onnxruntime's recorded tensors, and proven by MockProver.

mod common;

use circuits::plan::choose;
use circuits::qgraph::{QOp, QuantGraph};
use common::{fixture, floats, int8_case_outputs, ints, load_int8_onnx, proves_and_rejects_layer};
use serde_json::Value;

fn load(name: &str) -> (QuantGraph, Value) {
    load_int8_onnx("onnx_int8_ops", name)
}

/// Every case: the input quantized from float equals onnxruntime's, and the output bytes equal
/// onnxruntime's, element for element. Returns the number of outputs checked.
fn exact(name: &str) -> usize {
    let (q, data) = load(name);
    let mut total = 0;
    for (i, case) in data["cases"].as_array().unwrap().iter().enumerate() {
        let (got, want) = int8_case_outputs(&format!("{name} case {i}"), &q, case);
        assert_eq!(got, want, "{name} case {i}");
        total += got.len();
    }
    total
}

/// The sweeps feed each of the 256 input levels once, so their outputs are onnxruntime's whole
/// table: LeakyRelu at alpha 0.3 and at the default 0.01 (no attribute), Sigmoid over a wide and a
/// narrow input range (its tables need MLAS's fused multiply-adds: the unfused polynomial gives
/// other tables for some scales), int8 and uint8, QOperator and QDQ.
#[test]
fn activation_tables_equal_onnxruntime_s() {
    for name in [
        "leaky_a03_sweep_qop_s8",
        "leaky_a03_sweep_qop_u8",
        "leaky_default_sweep_qop_s8",
        "leaky_default_sweep_qop_u8",
        "leaky_default_sweep_qdq_s8",
        "sigmoid_wide_sweep_qop_s8",
        "sigmoid_wide_sweep_qop_u8",
        "sigmoid_wide_sweep_qdq_s8",
        "sigmoid_narrow_sweep_qop_s8",
        "sigmoid_narrow_sweep_qop_u8",
    ] {
        assert_eq!(exact(name), 256, "{name}");
    }
}

/// Clip between DequantizeLinear and QuantizeLinear stays a float Clip in onnxruntime (no QLinear
/// op replaces it): `QuantizeLinear(min(max(x, lo), hi))` on each level. The offset sweep (bounds
/// 1 and 5, the output's range from 0) is where the clamp changes levels that saturation alone
/// would not; quantize_static keeps a Clip only where its input has another reader, so these
/// sweeps were quantized with one and pruned (`fixtures/make_onnx_int8_ops.py`). In QOperator form
/// quantize_static drops the Clip: those files are a QuantizeLinear and a DequantizeLinear.
#[test]
fn clip_tables_equal_onnxruntime_s() {
    for sweep in ["clip_relu6", "clip_narrow", "clip_offset"] {
        for variant in ["qdq_s8", "qdq_u8", "qop_s8"] {
            let name = format!("{sweep}_sweep_{variant}");
            assert_eq!(exact(&name), 256, "{name}");
        }
        let (q, _) = load(&format!("{sweep}_sweep_qdq_s8"));
        assert!(q.layers.iter().any(|l| matches!(l.op, QOp::Table(_))));
    }
}

/// digits_cnn with ReLU6 (Clip 0..6): quantize_static folds the Clip into the convolution's output
/// range, so the clamp is the requantization's saturation.
#[test]
fn relu6_cnn_is_bit_exact() {
    for variant in ["qdq_s8", "qop_s8", "qdq_u8"] {
        let name = format!("relu6_cnn_{variant}");
        assert_eq!(exact(&name), 500, "{name}");
    }
}

#[test]
fn leaky_and_sigmoid_mlps_are_bit_exact() {
    for model in ["leaky_mlp", "sigmoid_mlp"] {
        for variant in ["qdq_s8", "qop_s8", "qdq_u8", "qop_u8"] {
            assert_eq!(
                exact(&format!("{model}_{variant}")),
                500,
                "{model}_{variant}"
            );
        }
    }
}

/// uint8 weights with their zero points (134 in the convolution, 142 in the dense layer):
/// onnxruntime multiplies `w - zero_point`.
#[test]
fn uint8_weights_are_bit_exact() {
    for name in ["digits_cnn_qop_u8w", "digits_cnn_qdq_u8w"] {
        assert_eq!(exact(name), 500, "{name}");
    }
}

/// Transpose, Unsqueeze, Squeeze and a constant Pad of int8 data (the QOperator Pad's constant is
/// the zero point; the QDQ Pad stays float in onnxruntime, its 0.0 quantized by the Q after it),
/// with the dense weights at the padded positions non-zero so that a wrong pad value shows.
#[test]
fn layout_ops_on_int8_data_are_bit_exact() {
    for name in [
        "layout_cnn_qop_s8",
        "layout_cnn_qop_u8",
        "layout_cnn_qdq_s8",
    ] {
        assert_eq!(exact(name), 500, "{name}");
    }
}

/// MockProver accepts case 0 and rejects a wrong output of the first layer of `kind` (carried
/// through the rest of the graph, so only that layer's rows are wrong).
fn proves(name: &str, kind: fn(&QOp) -> bool) {
    let (q, data) = load(name);
    let k = q.layers.iter().position(|l| kind(&l.op)).unwrap();
    proves_and_rejects_layer(name, &q, &floats(&data["cases"][0]["input"]), k);
}

#[test]
fn leaky_relu_table_proves() {
    proves("leaky_mlp_qop_s8", |op| matches!(op, QOp::Table(_)));
}

#[test]
fn sigmoid_table_proves() {
    proves("sigmoid_mlp_qdq_u8", |op| matches!(op, QOp::Table(_)));
}

#[test]
fn layout_ops_prove() {
    proves("layout_cnn_qdq_s8", |op| matches!(op, QOp::Threshold(_)));
}

#[test]
fn uint8_weight_convolution_proves() {
    proves("digits_cnn_qop_u8w", |op| matches!(op, QOp::Threshold(_)));
}

/// Twelve QLinearSigmoid quantizations (`sigmoid_fma_tables.json`) chosen so that MLAS's
/// polynomial gives another table when its multiply-adds are rounded twice: onnxruntime's tables
/// are the fused ones ([`mlas_logistic`]), and the unfused polynomial misses every one of them.
#[test]
fn sigmoid_tables_need_fused_multiply_adds() {
    use circuits::qgraph::requant::{mlas_logistic, ort_quantize_linear};
    let sets: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("onnx_int8_ops/sigmoid_fma_tables.json")).unwrap(),
    )
    .unwrap();
    let unfused = |x: f32| {
        let v = x.clamp(-18.0, 18.0);
        let v2 = v * v;
        // MLAS's constants as written there.
        #[allow(clippy::excessive_precision)]
        let a = [
            4.37031012579801e-11_f32,
            1.15627324459942e-07,
            6.08574864600143e-05,
            8.51377133304701e-03,
            2.48287947061529e-01,
        ];
        #[allow(clippy::excessive_precision)]
        let b = [
            6.10247389755681e-13_f32,
            5.76102136993427e-09,
            6.29106785017040e-06,
            1.70198817374094e-03,
            1.16817656904453e-01,
            9.93151921023180e-01,
        ];
        let p = a[1..].iter().fold(a[0], |acc, c| acc * v2 + c) * v;
        let q = b[1..].iter().fold(b[0], |acc, c| acc * v2 + c);
        (p / q + 0.5).max(0.0)
    };
    let sets = sets.as_array().unwrap();
    assert_eq!(sets.len(), 12);
    for set in sets {
        let (xs, xz) = (
            set["x_scale"].as_f64().unwrap() as f32,
            set["x_zero_point"].as_i64().unwrap(),
        );
        let (ys, yz) = (
            set["y_scale"].as_f64().unwrap() as f32,
            set["y_zero_point"].as_i64().unwrap(),
        );
        // The outputs of the inputs -128..127, in order.
        let table = |f: &dyn Fn(f32) -> f32| -> Vec<i64> {
            (-128..128)
                .map(|v: i64| ort_quantize_linear(f(xs * (v - xz) as f32), ys, yz, (-128, 127)))
                .collect()
        };
        let want = ints(&set["table"]);
        assert_eq!(table(&mlas_logistic), want, "{set}");
        assert_ne!(table(&unfused), want, "{set}");
    }
}

/// A graph whose every requantization is a threshold row (no max pool, clip or requant row) is
/// laid out without rescale rows and their three lookups, unless its input is range-checked
/// (private or hashed), which takes rescale rows; a max pool brings them back too.
#[test]
fn rescale_lookups_only_where_rescale_rows_are() {
    use circuits::plan::plan_for;
    use circuits::{Visibilities, Visibility};
    let (q, _) = load("leaky_mlp_qop_s8");
    let plan = choose(&q).unwrap();
    assert!(plan.shape.no_rescale, "{plan:?}");
    // The threshold rows' (seven with narrow limbs, three with chunked ones) and the function
    // table's.
    let threshold = plan.shape.threshold_limbs().lookups();
    assert_eq!(plan.shape.lookups(), threshold + 1);
    let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
    let private = Visibilities::new(
        Visibility::Private,
        Visibility::Public,
        Visibility::Public,
        false,
    )
    .unwrap();
    let plan = plan_for(&q, private, p, w).unwrap();
    let threshold = plan.shape.threshold_limbs().lookups();
    assert!(!plan.shape.no_rescale && plan.shape.lookups() == 3 + threshold + 1);
    let (pooled, _) = load("layout_cnn_qop_s8");
    let has_pool = pooled
        .layers
        .iter()
        .any(|l| matches!(l.op, QOp::MaxPool(_)));
    assert_eq!(choose(&pooled).unwrap().shape.no_rescale, !has_pool);
}

/// QLinearMul: SiLU's `x * sigmoid(x)` (same shapes) and a squeeze-and-excitation gate
/// (`[1, 8, 1, 1]` times `[1, 8, 8, 8]`, broadcast), QOperator and QDQ, int8 and uint8; and a Mul
/// by a constant, which quantize_static writes as a symmetric weight (QOperator int8) or an
/// asymmetric activation (the others).
#[test]
fn products_are_bit_exact() {
    for model in ["silu_mlp", "se_cnn"] {
        for variant in ["qdq_s8", "qop_s8", "qdq_u8", "qop_u8"] {
            let name = format!("{model}_{variant}");
            assert_eq!(exact(&name), 500, "{name}");
        }
    }
    for variant in ["qdq_s8", "qop_s8", "qdq_u8", "qop_u8"] {
        let name = format!("mul_const_sweep_{variant}");
        assert_eq!(exact(&name), 256, "{name}");
    }
}

/// Eight quantizations chosen so that candidate roundings of QLinearMul disagree on some of the
/// 65,536 input pairs (`qlinearmul_rounding_cases.json`): onnxruntime's kernel, int8 and uint8, is
/// [`mlas_qlinear_mul`] on every recorded pair (the uint8 run's zero points are the int8 ones plus
/// 128; shifting only the output's by 128 would miss some).
#[test]
fn qlinear_mul_rounds_as_mlas_does() {
    use circuits::qgraph::requant::mlas_qlinear_mul;
    let text =
        std::fs::read_to_string(fixture("onnx_int8_ops/qlinearmul_rounding_cases.json")).unwrap();
    let sets: Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for set in sets.as_array().unwrap() {
        let f = |k: &str| set[k].as_f64().unwrap() as f32;
        let z = |k: &str| set[k].as_i64().unwrap();
        let ratio = f("a_scale") * f("b_scale") / f("c_scale");
        for run in set["runs"].as_array().unwrap() {
            if run["op"] != "com.microsoft:QLinearMul" {
                continue;
            }
            let (shift, range) = match run["dtype"].as_str().unwrap() {
                "int8" => (0, (-128, 127)),
                _ => (128, (0, 255)),
            };
            for pair in run["pairs"].as_array().unwrap() {
                let [a, b, y] = ints(pair)[..] else {
                    panic!("{pair}")
                };
                let p = (a - z("a_zero_point") - shift) * (b - z("b_zero_point") - shift);
                let got = mlas_qlinear_mul(p, ratio, z("c_zero_point") + shift, range);
                assert_eq!(got, y, "{set}: ({a}, {b})");
                checked += 1;
            }
        }
    }
    assert!(checked >= 16, "{checked}");
}

/// The squeeze-and-excitation product proves, and a wrong requantized product is rejected (the
/// product itself is recomputed from its factors in the circuit, so the map's output is what a
/// prover could change).
#[test]
fn broadcast_product_proves() {
    let (q, data) = load("se_cnn_qop_s8");
    let k = (1..q.layers.len())
        .find(|&k| {
            matches!(q.layers[k].op, QOp::Threshold(_)) && matches!(q.layers[k - 1].op, QOp::Mul)
        })
        .expect("the product's map");
    proves_and_rejects_layer("se_cnn_qop_s8", &q, &floats(&data["cases"][0]["input"]), k);
}

/// Eight QLinearAdd quantizations chosen so that float32 renderings of the kernel disagree on one
/// or two of the 65,536 input pairs (`qlinearadd_rounding_cases.json`, int8 and uint8, operands of
/// one shape): the prover's pick ([`OrtAdd`], with the fixed part contracted as onnxruntime's
/// build does) is onnxruntime's output on every recorded pair, and the map allows it.
///
/// [`OrtAdd`]: circuits::qgraph::threshold::OrtAdd
#[test]
fn qlinear_add_picks_onnxruntime_s_rounding() {
    use circuits::qgraph::threshold::OrtAdd;
    let text =
        std::fs::read_to_string(fixture("onnx_int8_ops/qlinearadd_rounding_cases.json")).unwrap();
    let sets: Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for set in sets.as_array().unwrap() {
        let f = |k: &str| set[k].as_f64().unwrap() as f32;
        let z = |k: &str| set[k].as_i64().unwrap();
        let ratios = (f("a_scale") / f("c_scale"), f("b_scale") / f("c_scale"));
        let zps = (z("a_zero_point"), z("b_zero_point"), z("c_zero_point"));
        for run in set["runs"].as_array().unwrap() {
            if run["path"] != "elementwise" {
                continue;
            }
            // Held values: a uint8 run's bytes less 128 (its zero points are the int8 ones + 128).
            let (held, offset) = match run["dtype"].as_str().unwrap() {
                "int8" => (0, 0),
                _ => (128, 128),
            };
            let kernel = OrtAdd::new(ratios, zps, offset);
            for pair in run["pairs"].as_array().unwrap() {
                let [a, b, y] = ints(pair)[..] else {
                    panic!("{pair}")
                };
                let got = kernel.output(a - held, b - held) + held;
                assert_eq!(got, y, "{set}: ({a}, {b})");
                checked += 1;
            }
        }
    }
    assert!(checked >= 8, "{checked}");
}

/// QLinearAdd of a `[1, 8, 1, 1]` tensor and a `[1, 8, 8, 8]` one, in either order (numpy
/// broadcasting: the smaller operand remapped without rows).
#[test]
fn broadcast_sums_are_bit_exact() {
    for name in [
        "bcast_add_cnn_qdq_s8",
        "bcast_add_cnn_qop_s8",
        "bcast_add_cnn_qdq_u8",
        "bcast_add_cnn_qop_u8",
        "bcast_add_first_cnn_qop_s8",
    ] {
        assert_eq!(exact(name), 500, "{name}");
    }
}

/// A model that is one table on its input (no requantization at all) is laid out with the limbs
/// it was imported with, and proves; a wrong table output is rejected.
#[test]
fn a_lone_table_on_the_input_proves() {
    proves("clip_offset_sweep_qdq_s8", |op| matches!(op, QOp::Table(_)));
}
