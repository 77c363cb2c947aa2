//! MockProver tests of table pack rows (a public int8 input packed into instance cells): honest
//! rows verify; a claimed value that differs, a value outside the range table (a carry moved
//! between neighbours, which keeps the packed element), and a forged running sum are rejected.

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::{FailureLocation, MockProver, VerifyFailure},
    halo2curves::bn256::Fr,
    plonk::{Circuit, Column, ConstraintSystem, Error, Instance},
};

use super::pack::TablePackConfig;
use super::table::RangeTable;
use super::FpCell;
use crate::disclosure::hashing::Packing;
use crate::field::fp;
use crate::qgraph::requant::REQUANT_LIMB_BITS;

const PACKING: Packing = Packing::Table {
    limb_bits: REQUANT_LIMB_BITS,
};

/// Pack rows from row 1 (row 0 is a spacer) for `values`, their packed elements equal to the
/// instance column's rows; `sums` replaces the running sums (a forgery).
#[derive(Clone, Default)]
struct PackCircuit {
    values: Vec<i64>,
    sums: Option<Vec<Fr>>,
}

#[derive(Clone, Debug)]
struct Config {
    pack: TablePackConfig,
    range: RangeTable,
    instance: Column<Instance>,
}

impl Circuit<Fr> for PackCircuit {
    type Config = Config;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> Config {
        let (v, z) = (meta.advice_column(), meta.advice_column());
        meta.enable_equality(v);
        meta.enable_equality(z);
        let chain = meta.fixed_column();
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let range = RangeTable::configure(meta, REQUANT_LIMB_BITS);
        let pack = TablePackConfig::configure(meta, v, z, chain, &range);
        Config {
            pack,
            range,
            instance,
        }
    }
    fn synthesize(&self, config: Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        config.range.load(&mut layouter)?;
        let packed = layouter.assign_region(
            || "pack",
            |mut region| {
                FpCell::assign(&mut region, config.pack.rows.z, 0, Value::known(Fr::zero()));
                let honest = PACKING.running_sums(&self.values);
                let sums = self.sums.as_deref().unwrap_or(&honest);
                let n = self.values.len();
                let (_, packed) =
                    config
                        .pack
                        .assign_sums(&mut region, 1, n, Some(&self.values), Some(sums))?;
                Ok(packed)
            },
        )?;
        for (row, cell) in packed.iter().enumerate() {
            layouter.constrain_instance(cell.cell(), config.instance, row);
        }
        Ok(())
    }
}

const K: u32 = 13;

/// 50 int8 values (three elements: 21 + 21 + 8), the extremes included.
fn values() -> Vec<i64> {
    let mut x: Vec<i64> = (0..50).map(|i| ((i * 37) % 256) - 128).collect();
    (x[1], x[48]) = (-128, 127);
    x
}

fn run(c: &PackCircuit, claimed: &[i64]) -> Result<(), Vec<VerifyFailure>> {
    let instance = PACKING.elements_of(claimed).expect("in range");
    MockProver::run(K, c, vec![instance]).unwrap().verify()
}

fn row_of(location: &FailureLocation) -> usize {
    match location {
        FailureLocation::InRegion { offset, .. } => *offset,
        FailureLocation::OutsideRegion { row } => *row,
    }
}

#[test]
fn honest_rows_verify_and_pack_21_values_per_cell() {
    let x = values();
    assert!(x.contains(&-128) && x.contains(&127));
    assert_eq!(PACKING.elements(x.len()), 3);
    let c = PackCircuit {
        values: x.clone(),
        sums: None,
    };
    run(&c, &x).unwrap();
    // The range's extremes pass too.
    let edges = vec![-2048, 2047, 0, -1];
    let c = PackCircuit {
        values: edges.clone(),
        sums: None,
    };
    run(&c, &edges).unwrap();
}

#[test]
fn a_claimed_value_that_differs_fails_the_copy_into_the_instance() {
    let x = values();
    let mut claimed = x.clone();
    claimed[30] += 1; // in the second element
    let c = PackCircuit {
        values: x,
        sums: None,
    };
    let f = run(&c, &claimed).unwrap_err();
    assert!(
        f.iter()
            .any(|f| matches!(f, VerifyFailure::Permutation { .. })),
        "{f:?}"
    );
    assert!(
        !f.iter()
            .any(|f| matches!(f, VerifyFailure::ConstraintNotSatisfied { .. })),
        "only the copy fails: {f:?}"
    );
}

#[test]
fn a_carry_between_neighbours_keeps_the_element_but_fails_the_range_lookup() {
    // [3, 5] and [4, 5 - 2^L] pack to the same element: the second value's u lies below 0.
    let honest = vec![3, 5];
    let forged = vec![4, 5 - (1 << REQUANT_LIMB_BITS)];
    let sums = PACKING.running_sums(&forged);
    assert_eq!(sums[1], PACKING.running_sums(&honest)[1]);
    let c = PackCircuit {
        values: forged,
        sums: Some(sums),
    };
    let f = run(&c, &honest).unwrap_err();
    assert!(
        f.iter()
            .any(|f| matches!(f, VerifyFailure::Lookup { name, location, .. }
            if name == "table pack range" && row_of(location) == 2)),
        "{f:?}"
    );
    assert_eq!(f.len(), 1, "the lookup alone fails: {f:?}");
}

#[test]
fn a_value_outside_the_range_fails_the_lookup() {
    let mut x = values();
    x[7] = 2048;
    let c = PackCircuit {
        values: x.clone(),
        sums: None,
    };
    let claimed = PACKING.running_sums(&x);
    // The instance holds the forged sums' elements (what the prover would claim).
    let instance: Vec<Fr> = claimed
        .chunks(PACKING.per_element())
        .map(|c| *c.last().unwrap())
        .collect();
    let f = MockProver::run(K, &c, vec![instance])
        .unwrap()
        .verify()
        .unwrap_err();
    assert!(
        f.iter()
            .any(|f| matches!(f, VerifyFailure::Lookup { name, location, .. }
            if name == "table pack range" && row_of(location) == 8)),
        "{f:?}"
    );
}

#[test]
fn a_forged_running_sum_fails_the_gate() {
    let x = values();
    let mut sums = PACKING.running_sums(&x);
    sums[10] += fp(1);
    let c = PackCircuit {
        values: x.clone(),
        sums: Some(sums),
    };
    let f = run(&c, &x).unwrap_err();
    assert!(
        f.iter().any(
            |f| matches!(f, VerifyFailure::ConstraintNotSatisfied { constraint, location, .. }
            if format!("{constraint}").contains("table pack") && row_of(location) == 11)
        ),
        "{f:?}"
    );
}
