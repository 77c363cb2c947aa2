//! MockProver tests of table-sum rows (with their threshold row, and a plain function row sharing
//! the first lane's lookup argument): honest, and tampered (a table value off by one in either
//! lane, a sum that is not the two values', an output of another level, an input outside the table,
//! a plain function row's wrong output).

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::{MockProver, VerifyFailure},
    halo2curves::bn256::Fr,
    plonk::{Advice, Circuit, Column, ConstraintSystem, Error},
};

use super::function::{FunctionConfig, FunctionTable};
use super::table::RangeTable;
use super::table_sum::TableSumConfig;
use super::tests_threshold::{is_lookup, row_of};
use super::threshold::{ThresholdConfig, ThresholdLimbs, ThresholdWitness};
use super::FpCell;
use crate::field::fp;
use crate::qgraph::requant::{ort_requantize, REQUANT_LIMB_BITS};
use crate::qgraph::threshold::{ThresholdMap, THRESHOLD_DOMAIN};

/// The whole accumulator domain (narrow limbs ignore the domain).
const WHOLE: (i64, i64) = (THRESHOLD_DOMAIN.0, THRESHOLD_DOMAIN.1 - 1);

const P: usize = 3;
const W: usize = 11;

/// What to change in one case's row.
#[derive(Clone, Copy, Debug, Default)]
struct Tamper {
    /// Added to the first lane's table value (and to the sum, so the gate holds).
    u: i64,
    /// Added to the second lane's table value (and to the sum).
    v: i64,
    /// Added to the sum only.
    sum: i64,
    /// Added to the output (the threshold witness of that level's interval).
    y: i64,
    /// The first input replaced (its "table value" then the honest one of the original input).
    a: Option<i64>,
}

fn table_a(v: i64) -> i64 {
    // A TFLite ADD input's rescale: (v - zp) << 20 times a ratio below one, rounded.
    (((v + 5) << 20) as f64 * 0.3711).round() as i64
}

fn table_b(v: i64) -> i64 {
    -((((v - 17) << 20) as f64 * 0.5).round() as i64)
}

fn function(v: i64) -> i64 {
    v * v - 3
}

/// MUL's tables: each input less its zero point.
fn centred_a(v: i64) -> i64 {
    v - 3
}

fn centred_b(v: i64) -> i64 {
    v + 7
}

fn product_map() -> ThresholdMap {
    ThresholdMap::from_fn(
        &|acc| ort_requantize(acc, 0.01, -5, (-128, 127)),
        (-128, 127),
    )
}

fn map() -> ThresholdMap {
    ThresholdMap::from_fn(
        &|acc| ort_requantize(acc, 0.000_002_7, 4, (-128, 127)),
        (-128, 127),
    )
}

/// Table-sum rows at rows `0..cases` (a product row where the case says so: tables 4 and 5, map
/// 2), then one function row (tag 3) of input `f`.
#[derive(Clone)]
struct TableSumCircuit {
    cases: Vec<(i64, i64, bool)>,
    tamper: Option<(usize, Tamper)>,
    function_input: i64,
    function_off: i64,
}

#[derive(Clone, Debug)]
struct Config {
    table_sum: TableSumConfig,
    function: FunctionConfig,
    threshold: ThresholdConfig,
    range: RangeTable,
    columns: Vec<Column<Advice>>,
}

impl Circuit<Fr> for TableSumCircuit {
    type Config = Config;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> Config {
        let x: Vec<_> = (0..P).map(|_| meta.advice_column()).collect();
        for c in &x {
            meta.enable_equality(*c);
        }
        let acc: Vec<_> = (0..W).map(|_| meta.advice_column()).collect();
        let f: Vec<_> = (0..6).map(|_| meta.fixed_column()).collect();
        let range = RangeTable::configure(meta, REQUANT_LIMB_BITS);
        let limbs = ThresholdLimbs::Narrow;
        assert!(TableSumConfig::fits(P, W, limbs));
        assert!(!TableSumConfig::fits(P, W - 1, limbs));
        let spare: Vec<_> = acc[1..].iter().chain(&x[1..]).copied().collect();
        let threshold = ThresholdConfig::configure(
            meta,
            (acc[0], x[0]),
            &spare[..limbs.cells()],
            (f[2], &range),
            (limbs, 1),
        );
        let table_sum = TableSumConfig::configure(meta, (&x, &acc, &f), limbs.cells());
        let function = FunctionConfig::configure(meta, acc[0], x[0], f[2], Some(table_sum.lanes()));
        Config {
            table_sum,
            function,
            threshold,
            range,
            columns: x.iter().chain(&acc).copied().collect(),
        }
    }
    fn synthesize(&self, config: Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        config.range.load(&mut layouter)?;
        let tables: FunctionTable = (-128..128)
            .map(|v| (1, v, table_a(v)))
            .chain((-128..128).map(|v| (2, v, table_b(v))))
            .chain((-128..128).map(|v| (3, v, function(v))))
            .chain((-128..128).map(|v| (4, v, centred_a(v))))
            .chain((-128..128).map(|v| (5, v, centred_b(v))))
            .collect();
        config.function.load(&mut layouter, &tables)?;
        let maps = [map(), product_map()];
        let rows = (0..2)
            .flat_map(|m| {
                maps[m]
                    .table_rows()
                    .into_iter()
                    .map(move |(y, lo, hi)| (m as i64 + 1, y, lo, hi))
            })
            .collect();
        config.threshold.load(&mut layouter, &[rows])?;
        layouter.assign_region(
            || "table sums",
            |mut region| {
                let n = self.cases.len();
                for row in 0..=n {
                    for col in &config.columns {
                        FpCell::assign(&mut region, *col, row, Value::known(Fr::zero()));
                    }
                }
                for (row, (a, b, product)) in self.cases.iter().enumerate() {
                    let t = match self.tamper {
                        Some((c, t)) if c == row => t,
                        _ => Tamper::default(),
                    };
                    let (tags, u, v, m) = match product {
                        false => ([1, 2], table_a(*a), table_b(*b), 0),
                        true => ([4, 5], centred_a(*a), centred_b(*b), 1),
                    };
                    let map = &maps[m];
                    let (u, v) = (u + t.u, v + t.v);
                    let a = t.a.unwrap_or(*a);
                    config.table_sum.assign(
                        &mut region,
                        row,
                        (tags, *product),
                        [Some(a), Some(*b)],
                        [Some(u), Some(v)],
                    )?;
                    let sum = if *product { u * v } else { u + v } + t.sum;
                    let honest =
                        ThresholdWitness::compute(sum, (map, WHOLE), ThresholdLimbs::Narrow)
                            .expect("in the domain");
                    let w = match t.y {
                        0 => honest,
                        dy => interval_of(map, honest.y + dy, sum),
                    };
                    config.threshold.assign_with(
                        &mut region,
                        row,
                        Value::known(sum),
                        (m as i64 + 1, 0),
                        Value::known(w),
                    )?;
                }
                // A plain function row: (3, x, f(x)) in (a_0, x_0).
                let x = self.function_input;
                FpCell::assign(&mut region, config.function.x, n, Value::known(fp(x)));
                let y = Value::known(fp(function(x) + self.function_off));
                config.function.assign(&mut region, n, 3, y)?;
                Ok(())
            },
        )
    }
}

/// The witness claiming level `y` with that level's own interval, its limbs whatever makes the
/// gate hold: the top limb's lookup catches it.
fn interval_of(map: &ThresholdMap, y: i64, acc: i64) -> ThresholdWitness {
    let (_, lo, hi) = map
        .table_rows()
        .into_iter()
        .find(|(level, _, _)| *level == y)
        .expect("a level of the map");
    // Two limbs in range, the rest (negative for a difference below zero) in the top one: the
    // gate holds.
    let split = |mut v: i64| {
        let mut out = [0; 3];
        for l in &mut out[..2] {
            *l = v.rem_euclid(1 << REQUANT_LIMB_BITS);
            v = v.div_euclid(1 << REQUANT_LIMB_BITS);
        }
        out[2] = v;
        out
    };
    ThresholdWitness {
        y,
        ends: [lo, hi],
        d: split(acc - lo),
        e: split(hi - 1 - acc),
    }
}

fn honest() -> TableSumCircuit {
    TableSumCircuit {
        cases: vec![
            (0, 0, false),
            (-128, 127, false),
            (127, -128, false),
            (3, -7, false),
            (-60, 90, false),
            (100, 100, false),
            (-128, -128, true),
            (127, -128, true),
            (20, -30, true),
        ],
        tamper: None,
        function_input: -9,
        function_off: 0,
    }
}

const K: u32 = 13;

fn failures(c: &TableSumCircuit) -> Vec<VerifyFailure> {
    MockProver::run(K, c, vec![]).unwrap().verify().unwrap_err()
}

fn tampered(case: usize, t: Tamper) -> Vec<VerifyFailure> {
    let mut c = honest();
    c.tamper = Some((case, t));
    failures(&c)
}

fn is_gate(f: &VerifyFailure, gate: &str, row: usize) -> bool {
    matches!(f, VerifyFailure::ConstraintNotSatisfied { constraint, location, .. }
        if format!("{constraint}").contains(gate) && row_of(location) == row)
}

#[test]
fn honest_rows_verify_and_their_outputs_are_the_requantized_sums() {
    let c = honest();
    MockProver::run(K, &c, vec![]).unwrap().assert_satisfied();
    // The sums span both saturations and the levels between.
    let ys: Vec<i64> = c
        .cases
        .iter()
        .map(|(a, b, product)| match product {
            false => map().apply(table_a(*a) + table_b(*b)).unwrap(),
            true => product_map().apply(centred_a(*a) * centred_b(*b)).unwrap(),
        })
        .collect();
    for ys in [&ys[..6], &ys[6..]] {
        assert!(ys.contains(&-128) && ys.contains(&127), "{ys:?}");
        assert!(ys.iter().any(|y| (-127..127).contains(y)), "{ys:?}");
    }
}

#[test]
fn a_wrong_first_table_value_fails_the_shared_lookup() {
    let f = tampered(
        3,
        Tamper {
            u: 1,
            ..Default::default()
        },
    );
    assert!(f.iter().any(|f| is_lookup(f, "function table", 3)), "{f:?}");
    assert!(!f.iter().any(|f| is_gate(f, "table sum", 3)), "{f:?}");
}

#[test]
fn a_wrong_second_table_value_fails_the_second_lane() {
    let f = tampered(
        4,
        Tamper {
            v: -1,
            ..Default::default()
        },
    );
    assert!(
        f.iter()
            .any(|f| is_lookup(f, "function table, second lane", 4)),
        "{f:?}"
    );
    assert!(
        !f.iter().any(|f| is_lookup(f, "function table", 4)),
        "{f:?}"
    );
}

#[test]
fn a_sum_other_than_the_values_fails_the_gate() {
    let f = tampered(
        1,
        Tamper {
            sum: 1 << 20,
            ..Default::default()
        },
    );
    assert!(f.iter().any(|f| is_gate(f, "table sum", 1)), "{f:?}");
}

#[test]
fn a_product_row_rejects_the_sum_and_a_wrong_product() {
    // Row 8: (20 - 3) (-30 + 7); claiming u + v, or the product plus one, fails the gate.
    let (u, v) = (centred_a(20), centred_b(-30));
    let f = tampered(
        8,
        Tamper {
            sum: u + v - u * v,
            ..Default::default()
        },
    );
    assert!(f.iter().any(|f| is_gate(f, "table sum", 8)), "{f:?}");
    let f = tampered(
        8,
        Tamper {
            sum: 1,
            ..Default::default()
        },
    );
    assert!(f.iter().any(|f| is_gate(f, "table sum", 8)), "{f:?}");
    // A wrong factor (the result its product, so the gate holds) fails the lookup.
    let f = tampered(
        7,
        Tamper {
            v: 1,
            ..Default::default()
        },
    );
    assert!(
        f.iter()
            .any(|f| is_lookup(f, "function table, second lane", 7)),
        "{f:?}"
    );
    assert!(!f.iter().any(|f| is_gate(f, "table sum", 7)), "{f:?}");
}

#[test]
fn an_output_one_level_off_fails_the_threshold() {
    let f = tampered(
        3,
        Tamper {
            y: 1,
            ..Default::default()
        },
    );
    assert!(
        f.iter().any(|f| is_lookup(f, "threshold acc - lo 2", 3)),
        "{f:?}"
    );
    assert!(!f.iter().any(|f| is_gate(f, "threshold", 3)), "{f:?}");
}

#[test]
fn an_input_outside_the_table_fails_the_lookup() {
    // 128 is not an int8 value: no table row, whatever the value claimed.
    let f = tampered(
        0,
        Tamper {
            a: Some(128),
            ..Default::default()
        },
    );
    assert!(f.iter().any(|f| is_lookup(f, "function table", 0)), "{f:?}");
}

#[test]
fn a_plain_function_row_still_checks_its_output() {
    let mut c = honest();
    c.function_off = 1;
    let row = c.cases.len();
    let f = failures(&c);
    assert!(
        f.iter().any(|f| is_lookup(f, "function table", row)),
        "{f:?}"
    );
    assert_eq!(f.len(), 1, "only the function row fails: {f:?}");
}
