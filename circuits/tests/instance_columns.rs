//! Public values spread over several instance columns (value `r` in column `r % C`, row `r / C`):
//! the circuit binds each input and output cell to its own column and row, a wrong value in any
//! column is rejected, and a real KZG proof made with `C` columns verifies against the logical
//! instance vector and fails on a changed output.

mod common;

use circuits::disclosure::instance::{instance_position, spread};
use circuits::proof::{self, ProofParams};
use circuits::setup::srs::dev_params;
use circuits::{CircuitShape, InferenceCircuit, Visibilities};
use common::{digits_compiled, test_split, trace_for};
use halo2_proofs::dev::{FailureLocation, MockProver, VerifyFailure};
use halo2_proofs::halo2curves::bn256::Fr;

fn with_columns(shape: CircuitShape, columns: usize) -> CircuitShape {
    CircuitShape {
        instance_columns: columns,
        ..shape
    }
}

#[test]
fn every_public_value_is_bound_in_its_own_column_and_row() {
    let (q, plan) = digits_compiled("digits_mlp.onnx");
    let t = trace_for(&q, &test_split().inputs[0]);
    let instance = circuits::public_inputs(&t.tensors[0], t.output());
    let n_in = t.tensors[0].len();
    for columns in [2, 3, 7] {
        let shape = with_columns(plan.shape, columns);
        let run = |values: &[Fr]| {
            circuits::with_shape(shape, || {
                let c = InferenceCircuit::new(&q, Some(&t));
                MockProver::run(plan.k, &c, spread(values, columns))
                    .unwrap()
                    .verify()
            })
        };
        assert_eq!(run(&instance), Ok(()), "{columns} columns");
        // One input pixel and one output score changed, each in the column it lives in.
        for r in [n_in - 1, n_in + 3] {
            let mut wrong = instance.clone();
            wrong[r] += Fr::one();
            let failures = run(&wrong).expect_err("a changed public value");
            let (c, row) = instance_position(r, columns);
            assert!(
                failures.iter().any(|f| matches!(f,
                    VerifyFailure::Permutation { column, location: FailureLocation::OutsideRegion { row: at } }
                        if column.column_type() == halo2_proofs::plonk::Any::Instance
                            && column.index() == c
                            && *at == row)),
                "value {r} ({columns} columns): {failures:?}"
            );
        }
        // The values laid out in one column (the old layout) do not satisfy a C-column circuit.
        let one_column: Vec<Vec<Fr>> = {
            let mut v = vec![instance.clone()];
            v.extend((1..columns).map(|_| Vec::new()));
            v
        };
        let c = InferenceCircuit::new(&q, Some(&t));
        let wrong_layout = circuits::with_shape(shape, || {
            MockProver::run(plan.k, &c, one_column).unwrap().verify()
        });
        assert!(wrong_layout.is_err(), "{columns} columns");
    }
}

#[test]
fn a_proof_over_three_instance_columns_verifies_and_binds_its_outputs() {
    let (q, plan) = digits_compiled("digits_mlp.onnx");
    let shape = with_columns(plan.shape, 3);
    let vis = Visibilities::default();
    let params = ProofParams::Kzg(dev_params(plan.k));
    let vk = circuits::keys::make_vk(&params, &q, vis, shape).unwrap();
    assert_eq!(vk.cs().num_instance_columns(), 3);
    let pk = circuits::keys::make_pk(&params, vk.clone(), &q, vis, shape).unwrap();
    let t = trace_for(&q, &test_split().inputs[2]);
    let instance = circuits::public_inputs(&t.tensors[0], t.output());
    let c = InferenceCircuit::new(&q, Some(&t));
    let bytes = proof::prove(&params, &pk, c, shape, &instance).unwrap();
    proof::verify(&params, &vk, &instance, &bytes).expect("honest proof");
    assert!(proof::verify_all(
        &params,
        &vk,
        &[(&instance[..], &bytes[..])]
    ));
    let mut wrong = instance.clone();
    *wrong.last_mut().unwrap() += Fr::one();
    assert!(proof::verify(&params, &vk, &wrong, &bytes).is_err());
    assert!(!proof::verify_all(
        &params,
        &vk,
        &[(&wrong[..], &bytes[..])]
    ));
}

#[test]
fn the_planner_spreads_only_large_public_values() {
    use circuits::plan::{instance_columns_for, INSTANCE_ROWS_PER_COLUMN, INSTANCE_ROWS_SPREAD};
    // Beside 6 equality columns (6 inputs per row), products of 3 columns: a seventh column
    // starts a product, the eighth and ninth are free.
    let spread = |rows| instance_columns_for(rows, 6, 3);
    assert_eq!(spread(0), 1);
    assert_eq!(spread(INSTANCE_ROWS_SPREAD), 1);
    assert_eq!(spread(INSTANCE_ROWS_SPREAD + 1), 2);
    assert_eq!(spread(INSTANCE_ROWS_PER_COLUMN), 3);
    assert_eq!(spread(INSTANCE_ROWS_PER_COLUMN + 1), 3);
    // ResNet-8's 3,072 inputs and 10 scores: 3 columns of at most 1,028 rows, not 4.
    assert_eq!(spread(3_082), 3);
    // Beside 5: the sixth column fills the second product.
    assert_eq!(instance_columns_for(3_082, 5, 3), 1);
    // halo2's products of 5 columns (degree 7) bound it too: 6 + 1 fill 2 of 5, the cost model's
    // 3 of 3.
    assert_eq!(instance_columns_for(3_082, 6, 5), 3);
    assert_eq!(instance_columns_for(3_082, 7, 5), 2);
    // MobileNetV1-0.25's 96x96x3 input and two scores beside 4 inputs: 7 columns of at most
    // 3,950 rows are needed; an eighth is free.
    assert_eq!(instance_columns_for(27_650, 4, 3), 8);
    assert_eq!(instance_columns_for(27_650, 5, 3), 7);
    assert_eq!(
        instance_columns_for(usize::MAX / 2, 6, 3),
        circuits::circuit::MAX_INSTANCE_COLUMNS
    );
    // The digits models keep one column (their model files and keys are unchanged).
    let (_, plan) = digits_compiled("digits_mlp.onnx");
    assert_eq!(plan.shape.instance_columns, 1);
}
