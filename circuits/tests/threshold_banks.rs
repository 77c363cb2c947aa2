//! A threshold table split into banks on real int8 models: the planner splits a table that would
//! set k alone (MLPerf's autoencoder quantized per channel by onnxruntime, 1,672 maps), and
//! MockProver accepts a banked circuit and rejects a wrong requantized value.

mod common;

use circuits::circuit::chips::threshold::{table_len, TableBanks, ThresholdLimbs};
use circuits::circuit::CircuitShape;
use circuits::import::{import_model, Imported};
use circuits::plan::{choose, plan_of_shape};
use circuits::qgraph::QOp;
use circuits::Visibilities;
use common::{fixture, floats, load_int8_onnx, mock_verify};

#[test]
fn the_planner_splits_a_threshold_table_that_sets_k() {
    let Imported::Int8(model) = import_model(&fixture("mlperf_onnx/ad_full_int8.onnx")).unwrap()
    else {
        panic!("not imported as int8");
    };
    let q = model.graph;
    let plan = choose(&q).unwrap();
    let banks = plan.shape.threshold_banks;
    assert!(banks > 1, "{:?}", plan.shape);
    let one = CircuitShape {
        threshold_banks: 1,
        ..plan.shape
    };
    let unsplit = plan_of_shape(&q, Visibilities::PUBLIC, &one).unwrap();
    // In one table its rows set k three above what the circuit's rows need.
    assert!(unsplit.k > plan.k, "{} vs {}", unsplit.k, plan.k);
    assert!(unsplit.k >= unsplit.k_for_rows() + 2);
    assert_eq!(plan.lookups, unsplit.lookups + banks - 1);
    let limbs = plan.shape.threshold_limbs();
    let split = TableBanks::of_graph(&q, limbs, banks).unwrap();
    assert_eq!(split.rows.len(), banks);
    assert_eq!(
        split.rows.iter().sum::<usize>(),
        table_len(&q, limbs).unwrap()
    );
    // Each bank holds its rows and the zero row within the usable rows; the plan counts the largest.
    assert!(split.largest() < plan.usable_rows);
    assert_eq!(plan.table_rows, split.largest() + 1);
}

/// MockProver on digits_cnn_qdq_u8's chosen layout with its threshold table in `banks` banks: case
/// 0 verifies, and a threshold layer's output one off (carried through the graph) does not.
#[test]
fn a_banked_circuit_proves_and_rejects_a_wrong_output() {
    let (q, data) = load_int8_onnx("onnx_int8", "digits_cnn_qdq_u8");
    let t = q
        .eval(
            &q.quantize_input(&floats(&data["cases"][0]["input"]))
                .unwrap(),
        )
        .unwrap();
    let chosen = choose(&q).unwrap().shape;
    assert_eq!(chosen.threshold_banks, 1, "a small table stays whole");
    let layer = q
        .layers
        .iter()
        .position(|l| matches!(l.op, QOp::Threshold(_)))
        .unwrap();
    for (limbs, banks) in [(ThresholdLimbs::Chunked, 2), (ThresholdLimbs::Fitted, 3)] {
        let shape = CircuitShape {
            threshold_banks: banks,
            ..chosen.with_threshold_limbs(limbs)
        };
        let plan = plan_of_shape(&q, Visibilities::PUBLIC, &shape).unwrap();
        assert_eq!(plan.shape.threshold_banks, banks);
        let split = TableBanks::of_graph(&q, limbs, banks).unwrap();
        assert!(split.rows.iter().all(|r| *r > 0), "{:?}", split.rows);
        mock_verify(&q, &t, &plan).unwrap_or_else(|f| panic!("{banks} banks: {f:?}"));
        let mut bad = t.clone();
        let v = &mut bad.tensors[layer + 1][0];
        *v = if *v < 127 { *v + 1 } else { *v - 1 };
        q.eval_from(&mut bad, layer + 1).unwrap();
        assert!(
            mock_verify(&q, &bad, &plan).is_err(),
            "{banks} banks: a wrong output was accepted"
        );
    }
}
