//! Threshold rows with chunked and fitted limbs on real int8 models: every accumulator the models
//! meet on their recorded inputs lies in its map's bounded domain, and MockProver accepts the
//! circuit and rejects a wrong requantized value.

mod common;

use circuits::circuit::chips::threshold::{
    map_domains, table_len, table_of, ThresholdLimbs, MAX_CHUNKED_ROWS,
};
use circuits::import::{import_model, Imported};
use circuits::plan::{choose, plan_of_shape};
use circuits::qgraph::QOp;
use circuits::{QuantGraph, Trace, Visibilities};
use common::{fixture, floats, ints, load_int8_onnx, mock_verify};

/// Every threshold layer's input values in `t` lie in their maps' domains.
fn accumulators_in_domains(name: &str, q: &QuantGraph, t: &Trace) {
    let domains = q.threshold_domains().expect("bounded accumulators");
    let mut first = 0;
    for (i, layer) in q.layers.iter().enumerate() {
        let QOp::Threshold(th) = &layer.op else {
            continue;
        };
        let input = &t.tensors[q.layer_inputs(i)[0]];
        for (e, acc) in input.iter().enumerate() {
            let (lo, hi) = domains[first + th.map_index(e)];
            assert!(
                (lo..=hi).contains(acc),
                "{name} layer {i} element {e}: {acc} outside [{lo}, {hi}]"
            );
        }
        first += th.maps.len();
    }
    assert_eq!(first, domains.len());
}

/// MockProver on `q`'s chosen layout with threshold rows of chunked or fitted `limbs`: `t`
/// verifies, and a threshold layer's output one off (carried through the rest of the graph) does
/// not.
fn proves_chunked(name: &str, q: &QuantGraph, t: &Trace, limbs: ThresholdLimbs) {
    let shape = choose(q).unwrap().shape;
    assert!(shape.threshold, "{name}: threshold rows");
    assert!(limbs.is_chunked());
    let shape = shape.with_threshold_limbs(limbs);
    assert_eq!(shape.threshold_limbs(), limbs);
    let plan = plan_of_shape(q, Visibilities::PUBLIC, &shape).unwrap();
    for (tag, _, lo, hi) in table_of(q, limbs).unwrap() {
        let piece = 1 << limbs.bits();
        assert!(
            lo < hi && hi - lo <= piece,
            "{name} map {tag}: [{lo}, {hi})"
        );
        let power_of_two = (hi - lo).count_ones() == 1;
        assert!(!limbs.is_fitted() || power_of_two, "{name}: [{lo}, {hi})");
    }
    assert_eq!(
        map_domains(q, limbs).unwrap().len(),
        q.threshold_maps().len()
    );
    let run = |t: &Trace| mock_verify(q, t, &plan);
    run(t).unwrap_or_else(|f| panic!("{name}: {f:?}"));
    let k = q
        .layers
        .iter()
        .position(|l| matches!(l.op, QOp::Threshold(_)))
        .unwrap();
    let mut bad = t.clone();
    let v = &mut bad.tensors[k + 1][0];
    *v = if *v < 127 { *v + 1 } else { *v - 1 };
    q.eval_from(&mut bad, k + 1).unwrap();
    assert!(run(&bad).is_err(), "{name}: a wrong output was accepted");
}

#[test]
fn onnx_int8_accumulators_stay_in_their_domains_and_chunked_rows_prove() {
    for name in [
        "digits_mlp_qop_u8",
        "digits_cnn_qdq_u8",
        "resnet_small_qdq_s8",
    ] {
        let (q, data) = load_int8_onnx("onnx_int8", name);
        let cases = data["cases"].as_array().unwrap();
        for case in cases {
            let t = q
                .eval(&q.quantize_input(&floats(&case["input"])).unwrap())
                .unwrap();
            accumulators_in_domains(name, &q, &t);
        }
        let pieces = table_len(&q, ThresholdLimbs::Chunked).unwrap();
        eprintln!("{name}: {pieces} pieces");
        if name == "resnet_small_qdq_s8" {
            // Its QLinearAdd sums scaled inputs: millions of pieces, so the planner keeps narrow
            // limbs for it.
            assert!(pieces > MAX_CHUNKED_ROWS, "{name}: {pieces} pieces");
            assert!(table_of(&q, ThresholdLimbs::Chunked).is_none(), "not made");
            continue;
        }
        let t = q
            .eval(&q.quantize_input(&floats(&cases[0]["input"])).unwrap())
            .unwrap();
        proves_chunked(name, &q, &t, ThresholdLimbs::Chunked);
        proves_chunked(name, &q, &t, ThresholdLimbs::Fitted);
        if name == "digits_cnn_qdq_u8" {
            proves_chunked(name, &q, &t, ThresholdLimbs::ChunkedWide);
        }
    }
}

#[test]
fn tflite_int8_accumulators_stay_in_their_domains_and_chunked_rows_prove() {
    for name in [
        "ic_resnet8_w8",
        "kws_dscnn16",
        "ad_ae128",
        "vww_mbnet32",
        "ic_resnet8",
    ] {
        let Imported::Int8(model) =
            import_model(&fixture(&format!("tflite/{name}_int8.tflite"))).unwrap()
        else {
            panic!("{name}: not imported as int8");
        };
        let q = model.graph.requants_as_thresholds().unwrap();
        let text = std::fs::read_to_string(fixture(&format!("tflite/{name}/int8.json"))).unwrap();
        let data: serde_json::Value = serde_json::from_str(&text).unwrap();
        let cases = data["cases"].as_array().unwrap();
        for case in cases {
            let t = q.eval(&ints(&case["input_int8"])).unwrap();
            accumulators_in_domains(name, &q, &t);
        }
        let pieces = table_len(&q, ThresholdLimbs::Chunked).unwrap();
        let wide = table_len(&q, ThresholdLimbs::ChunkedWide).unwrap();
        let fitted = table_len(&q, ThresholdLimbs::Fitted).unwrap();
        for limbs in [ThresholdLimbs::ChunkedWide, ThresholdLimbs::Fitted] {
            let n = table_len(&q, limbs).unwrap();
            assert_eq!(table_of(&q, limbs).unwrap().len(), n, "{name} {limbs:?}");
        }
        let narrow = table_of(&q, ThresholdLimbs::Narrow).unwrap().len();
        eprintln!(
            "{name}: {pieces} pieces, {wide} wide pieces, {fitted} fitted pieces, {narrow} intervals"
        );
        assert!(wide <= pieces, "{name}");
        // Fitted pieces: the chunked ones, plus at most one per interval shorter than a piece.
        assert!(pieces <= fitted && fitted <= pieces + narrow, "{name}");
        if name == "ic_resnet8_w8" {
            // Table-sum rows (the residual Adds) hold threshold cells too.
            let t = q.eval(&ints(&cases[0]["input_int8"])).unwrap();
            proves_chunked(name, &q, &t, ThresholdLimbs::Chunked);
            proves_chunked(name, &q, &t, ThresholdLimbs::Fitted);
        }
    }
}

/// Every int8 ONNX fixture whose accumulators the graph bounds: the recorded cases' accumulators
/// lie in their maps' domains (a domain too tight would make an honest proof fail).
#[test]
fn every_onnx_int8_fixtures_accumulators_stay_in_their_domains() {
    let mut checked = 0;
    for folder in ["onnx_int8", "onnx_int8_ops"] {
        let mut names: Vec<String> = std::fs::read_dir(fixture(folder))
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                let stem = name.strip_suffix(".onnx")?;
                (stem.contains("_qdq_") || stem.contains("_qop_")).then(|| stem.to_string())
            })
            .collect();
        names.sort();
        for name in names {
            let (q, data) = load_int8_onnx(folder, &name);
            if q.threshold_domains().is_none() {
                continue;
            }
            for case in data["cases"].as_array().into_iter().flatten() {
                let Some(x) = case.get("input") else { continue };
                let t = q.eval(&q.quantize_input(&floats(x)).unwrap()).unwrap();
                accumulators_in_domains(&name, &q, &t);
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} cases");
}
