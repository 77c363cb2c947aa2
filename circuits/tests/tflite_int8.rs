//! Full-integer int8 TFLite models in the shape of the MLPerf Tiny references
//! (`fixtures/make_tflite.py`): imported with their own integers and evaluated bit-exactly against
//! LiteRT's reference kernels (`fixtures/record_tflite_logits.py` recorded the int8 logits before
//! a final SOFTMAX, which stays outside the proof), and proven by MockProver.

mod common;

use circuits::import::{import_model, Imported};
use circuits::plan::choose;
use circuits::qgraph::QOp;
use circuits::{QuantGraph, Trace};
use common::{fixture, floats, ints, satisfied};
use serde_json::Value;

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(path)).unwrap()).unwrap()
}

/// `tflite/NAME_int8.tflite` on every case: the int8 input as LiteRT quantized it, the proven
/// int8 output byte for byte LiteRT's, and (with `prove`) a MockProver proof of case 0.
fn check(name: &str, prove: bool) {
    let Imported::Int8(model) =
        import_model(&fixture(&format!("tflite/{name}_int8.tflite"))).unwrap()
    else {
        panic!("{name}: not imported as int8");
    };
    let q = &model.graph;
    let data = json(&format!("tflite/{name}/int8.json"));
    let logits = json(&format!("tflite/{name}/int8_logits.json"));
    let io = q.int8.unwrap();
    assert_eq!(
        io.input.zero_point,
        data["input_zero_point"].as_i64().unwrap()
    );
    assert_eq!(
        io.output.zero_point,
        logits["logits_zero_point"].as_i64().unwrap()
    );
    let softmax = logits["final_op"].as_str() == Some("SOFTMAX");
    assert_eq!(model.unproven_tail.is_empty(), !softmax, "{name}: tail");
    // The same requantizations as threshold rows (what the planner picks where it proves faster).
    let thresholds = q.requants_as_thresholds().expect("int8 requantizations");
    let cases = data["cases"].as_array().unwrap();
    for (i, (case, want)) in cases
        .iter()
        .zip(logits["cases"].as_array().unwrap())
        .enumerate()
    {
        let x = ints(&case["input_int8"]);
        let floats: Vec<f64> = floats(&case["input_float"]);
        assert_eq!(
            q.quantize_input(&floats).unwrap(),
            x,
            "{name} case {i}: input"
        );
        let t = q.eval(&x).unwrap();
        assert_eq!(
            t.output(),
            ints(&want["logits_int8_ref"]).as_slice(),
            "{name} case {i}: output"
        );
        assert_eq!(
            thresholds.eval(&x).unwrap().output(),
            t.output(),
            "{name} case {i}: output with threshold rows"
        );
        if prove && i == 0 {
            let plan = choose(q).unwrap();
            assert!(plan.shape.requant && plan.k >= 13, "{name}: {plan:?}");
            let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
            assert!(satisfied(q, &t, p, w), "{name}: MockProver");
            // A requantized value one off (the rounding of one element), carried through the rest
            // of the graph: the requant row still holds the runtime's value, so the copy into the
            // next layer fails.
            let bad = one_off_after(q, &t, |op| matches!(op, QOp::Requant(_)));
            assert!(
                !satisfied(q, &bad, p, w),
                "{name}: a wrong requantization was accepted"
            );
        }
    }
}

#[test]
fn int8_autoencoder_is_bit_exact_and_proves() {
    check("ad_ae128", true);
}

#[test]
fn int8_autoencoder_proves_with_threshold_rows() {
    let Imported::Int8(model) = import_model(&fixture("tflite/ad_ae128_int8.tflite")).unwrap()
    else {
        panic!("not imported as int8");
    };
    let q = model.graph.requants_as_thresholds().unwrap();
    assert!(!q.has_requant());
    let data = json("tflite/ad_ae128/int8.json");
    let t = q.eval(&ints(&data["cases"][0]["input_int8"])).unwrap();
    let plan = choose(&q).unwrap();
    assert!(plan.shape.threshold && !plan.shape.requant, "{plan:?}");
    let (p, w) = (plan.shape.inputs_per_row, plan.shape.width);
    assert!(satisfied(&q, &t, p, w), "MockProver");
    // One output level off (the wrong interval of its map), carried through the rest of the graph.
    let bad = one_off_after(&q, &t, |op| matches!(op, QOp::Threshold(_)));
    assert!(!satisfied(&q, &bad, p, w), "a wrong level was accepted");
}

/// `t` with the first element of the first layer `is_layer` picks one off, and the layers after it
/// evaluated on that.
fn one_off_after(q: &QuantGraph, t: &Trace, is_layer: impl Fn(&QOp) -> bool) -> Trace {
    let k = q.layers.iter().position(|l| is_layer(&l.op)).unwrap();
    let mut bad = t.clone();
    let v = &mut bad.tensors[k + 1][0];
    *v = if *v < 127 { *v + 1 } else { *v - 1 };
    q.eval_from(&mut bad, k + 1).unwrap();
    bad
}

#[test]
fn int8_dscnn_is_bit_exact_and_proves() {
    check("kws_dscnn16", true);
}

#[test]
fn int8_mobilenet_is_bit_exact() {
    check("vww_mbnet32", false);
}

#[test]
fn int8_resnet8_is_bit_exact() {
    check("ic_resnet8_w8", false);
    check("ic_resnet8", false);
}

/// ResNet-8's residual ADDs as table sums: one row per element (both lookups, the sum and its
/// threshold) where the layout has the cells, function rows and a sum block otherwise; both prove,
/// and a wrong output of an ADD is rejected.
#[test]
fn int8_resnet8_adds_prove_in_table_sum_rows_and_without_them() {
    use circuits::lower::BlockLayout;
    let Imported::Int8(model) = import_model(&fixture("tflite/ic_resnet8_w8_int8.tflite")).unwrap()
    else {
        panic!("not imported as int8");
    };
    let q = model.graph.requants_as_thresholds().unwrap();
    let sums = q
        .layers
        .iter()
        .filter(|l| matches!(l.op, QOp::TableSum(_)))
        .count();
    assert_eq!(sums, 3, "ResNet-8 has three residual ADDs");
    let data = json("tflite/ic_resnet8_w8/int8.json");
    let t = q.eval(&ints(&data["cases"][0]["input_int8"])).unwrap();
    let (p, w) = (3, 11);
    let fused = circuits::plan::plan_with(&q, p, w).unwrap();
    let layout = BlockLayout {
        table_sums: false,
        ..BlockLayout::new(p, w)
    };
    let plain = circuits::plan::plan_layout(&q, Default::default(), layout).unwrap();
    assert!(fused.shape.table_sums && !plain.shape.table_sums);
    assert_eq!(fused.lookups, plain.lookups + 1, "one more lookup argument");
    let add_rows = |plan: &circuits::plan::Plan| -> usize {
        plan.layers
            .iter()
            .filter(|l| l.kind.starts_with("table-sum"))
            .map(|l| l.rows)
            .sum()
    };
    let elements: usize = q
        .layers
        .iter()
        .filter(|l| matches!(l.op, QOp::TableSum(_)))
        .map(|l| l.out_shape.numel())
        .sum();
    assert_eq!(add_rows(&fused), elements, "one row per element");
    assert!(add_rows(&plain) > 3 * elements, "{}", add_rows(&plain));
    assert!(satisfied(&q, &t, p, w), "MockProver, table-sum rows");
    // The fallback's function rows and sum blocks, on a layout too narrow for table-sum rows.
    assert!(!BlockLayout::new(3, 10).table_sums);
    assert!(satisfied(&q, &t, 3, 10), "MockProver, function rows");
    // The first ADD's output one level off, carried through the rest of the graph.
    let add = q
        .layers
        .iter()
        .position(|l| matches!(l.op, QOp::TableSum(_)))
        .unwrap();
    let mut bad = t.clone();
    let v = &mut bad.tensors[add + 2][0];
    *v = if *v < 127 { *v + 1 } else { *v - 1 };
    q.eval_from(&mut bad, add + 2).unwrap();
    assert!(
        !satisfied(&q, &bad, p, w),
        "a wrong ADD output was accepted"
    );
    // With requant rows (the imported form): the sums take function rows and a sum block.
    let requants = &model.graph;
    assert!(requants.has_requant() && !requants.has_threshold());
    let t = requants
        .eval(&ints(&data["cases"][0]["input_int8"]))
        .unwrap();
    let plan = circuits::plan::plan_with(requants, 3, 12).unwrap();
    assert!(
        plan.shape.requant && !plan.shape.table_sums,
        "{:?}",
        plan.shape
    );
    assert!(satisfied(requants, &t, 3, 12), "MockProver, requant rows");
}

/// A proof size limit on an int8 model: met by the alternative (threshold rows) whose proofs are
/// smaller, and when no layout of either meets it, the refusal names the smaller alternative's
/// smallest proof.
#[test]
fn a_proof_size_limit_on_an_int8_model_weighs_both_requantization_rows() {
    use circuits::plan::{choose_with, LayoutError, MIN_LIMB_BITS};
    use circuits::quantize::{compile_int8, LayoutRequest, PipelineError};
    let Imported::Int8(model) = import_model(&fixture("tflite/kws_dscnn16_int8.tflite")).unwrap()
    else {
        panic!("not int8");
    };
    let smallest = |g: &QuantGraph| match choose_with(
        g,
        Default::default(),
        MIN_LIMB_BITS,
        circuits::plan::PlanLimits::proof_bytes(Some(1)),
    ) {
        Err(LayoutError::ProofTooLarge { smallest, .. }) => smallest,
        other => panic!("{other:?}"),
    };
    let requant = smallest(&model.graph);
    let thresholds = smallest(&model.graph.requants_as_thresholds().unwrap());
    assert!(thresholds < requant, "{thresholds} vs {requant}");
    let request = |limit| LayoutRequest {
        max_proof_bytes: Some(limit),
        ..Default::default()
    };
    match compile_int8(model.graph.clone(), vec![], request(thresholds - 1)) {
        Err(PipelineError::Layout(LayoutError::ProofTooLarge { smallest, .. })) => {
            assert_eq!(smallest, thresholds)
        }
        other => panic!("{:?}", other.map(|(_, _, p)| p.estimate)),
    }
    let (_, _, plan) = compile_int8(model.graph, vec![], request(requant - 1)).unwrap();
    assert!(plan.shape.threshold && plan.estimate.proof_bytes < requant);
}
