//! MockProver tests of requant rows: TFLite's requantization and average, honest and tampered
//! (a wrong rounding bit, a skipped saturation, a wrong zero point, a wrong sign).

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::{FailureLocation, MockProver, VerifyFailure},
    halo2curves::bn256::Fr,
    plonk::{Circuit, ConstraintSystem, Error},
};

use super::requant::{RequantConfig, RequantWitness};
use super::rescale::RescaleConfig;
use super::table::RangeTable;
use super::FpCell;
use crate::qgraph::requant::{RequantStep, REQUANT_LIMB_BITS};

/// A change to an honest witness.
type Tamper = fn(&mut RequantWitness);

/// One requant row per case at row `1 + i` (row 0 is a spacer).
#[derive(Clone)]
struct RequantCircuit {
    cases: Vec<(i64, RequantStep)>,
    /// Change the honest witness of case `i`.
    tamper: Option<(usize, Tamper)>,
    /// Prove case `i` with these fixed cells, the witness computed with the case's own step.
    other_step: Option<(usize, RequantStep)>,
}

#[derive(Clone, Debug)]
struct Config {
    requant: RequantConfig,
    table: RangeTable,
}

impl Circuit<Fr> for RequantCircuit {
    type Config = Config;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> Config {
        let a: Vec<_> = (0..14).map(|_| meta.advice_column()).collect();
        let y = meta.advice_column();
        meta.enable_equality(y);
        let f: Vec<_> = (0..10).map(|_| meta.fixed_column()).collect();
        let table = RangeTable::configure(meta, REQUANT_LIMB_BITS);
        let sel = meta.complex_selector();
        RescaleConfig::configure(
            meta,
            [a[0], a[1], a[2], a[3], a[4], y],
            [f[0], f[1], f[2], f[3]],
            &table,
            Some(sel),
        );
        let requant = RequantConfig::configure(
            meta,
            sel,
            (a[0], [a[1], a[3], a[2], a[4]], y),
            a[5..14].try_into().unwrap(),
            [f[4], f[5], f[6], f[7], f[8], f[9]],
            &table,
        );
        Config { requant, table }
    }
    fn synthesize(&self, config: Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        config.table.load(&mut layouter)?;
        layouter.assign_region(
            || "requant",
            |mut region| {
                region.assign_fixed(config.requant.fixed[0], 0, Fr::zero());
                FpCell::assign(&mut region, config.requant.y, 0, Value::known(Fr::zero()));
                for (i, (acc, step)) in self.cases.iter().enumerate() {
                    let mut w = RequantWitness::compute(*acc, step).expect("in range");
                    if let Some((t, f)) = self.tamper {
                        if t == i {
                            f(&mut w);
                        }
                    }
                    let fixed = match self.other_step {
                        Some((t, s)) if t == i => s,
                        _ => *step,
                    };
                    config.requant.assign_with(
                        &mut region,
                        1 + i,
                        Value::known(*acc),
                        &fixed,
                        Value::known(w),
                    )?;
                }
                Ok(())
            },
        )
    }
}

/// Conv-like steps (TFLite multipliers, a ReLU range, no activation) and averages.
fn steps() -> [RequantStep; 4] {
    [
        RequantStep::tflite(1_618_033_988, -9, -5, -128, 127).unwrap(),
        RequantStep::tflite(1 << 30, -3, -128, -128, 127).unwrap(),
        RequantStep::tflite(1_234_567_890, 1, 3, 3, 127).unwrap(),
        RequantStep::average(25, -128, 127).unwrap(),
    ]
}

fn honest() -> RequantCircuit {
    let [a, b, c, avg] = steps();
    let cases = vec![
        (1000, a),
        (-1000, a),
        (1 << 20, a),    // saturates high
        (-(1 << 20), a), // saturates low
        (0, a),
        (-4, b), // a tie of the second rounding: -0.5 rounds away from zero
        (4, b),
        (-1, b),
        (37, c),
        (-37, c), // below the ReLU: out_min
        (-1234, avg),
        (1234, avg),
        (-3188, avg), // -127.52: ties and negatives of the average
        (-12, avg),   // -0.48 rounds to 0
        (-13, avg),   // -0.52 rounds to -1
    ];
    RequantCircuit {
        cases,
        tamper: None,
        other_step: None,
    }
}

fn run(c: &RequantCircuit) -> Result<(), Vec<VerifyFailure>> {
    MockProver::run(13, c, vec![]).unwrap().verify()
}

fn row_of(location: &FailureLocation) -> usize {
    match location {
        FailureLocation::InRegion { offset, .. } => *offset,
        FailureLocation::OutsideRegion { row } => *row,
    }
}

/// Whether `errs` holds a failure of gate or lookup `name` at row `row`.
fn fails_at(errs: &[VerifyFailure], name: &str, row: usize) -> bool {
    errs.iter().any(|e| match e {
        VerifyFailure::ConstraintNotSatisfied {
            constraint,
            location,
            ..
        } => row_of(location) == row && format!("{constraint}").contains(name),
        VerifyFailure::Lookup {
            name: lookup,
            location,
            ..
        } => row_of(location) == row && lookup.contains(name),
        _ => false,
    })
}

#[test]
fn requant_rows_accept_the_runtime_values() {
    let c = honest();
    for (acc, step) in &c.cases {
        assert!(RequantWitness::compute(*acc, step).is_some());
    }
    // The outputs are TFLite's (spot checks of the evaluator the witness uses).
    assert_eq!(c.cases[13].1.apply(-12), Ok(0));
    assert_eq!(c.cases[14].1.apply(-13), Ok(-1));
    run(&c).unwrap();
}

#[test]
fn a_wrong_rounding_bit_fails_the_remainder_check() {
    // q one higher, everything else recomputed consistently: the remainder goes negative.
    let mut c = honest();
    c.tamper = Some((0, |w| {
        w.q_lo += 1;
        w.y += 1;
        // The remainder's top limb absorbs -2^60 (as a field element): not in [0, 2^12).
        w.v[4] -= 1 << REQUANT_LIMB_BITS;
    }));
    let errs = run(&c).unwrap_err();
    assert!(fails_at(&errs, "requant remainder 4", 1), "{errs:?}");
    // The tie -0.5 rounded toward zero instead of away from it.
    let mut c = honest();
    c.tamper = Some((5, |w| {
        w.q_lo += 1;
        w.y += 1;
        w.v[4] -= 1 << REQUANT_LIMB_BITS;
    }));
    let errs = run(&c).unwrap_err();
    assert!(fails_at(&errs, "requant remainder", 6), "{errs:?}");
}

#[test]
fn a_skipped_saturation_fails() {
    // The high clamp skipped: y = out_min + q - q_min with q_hi = 0 (q_lo beyond span).
    let mut c = honest();
    let [a, ..] = steps();
    let q = a.quotient(1 << 20) as i64;
    assert!(q - a.q_min > a.span);
    c.tamper = Some((2, |w| {
        let t = w.q_hi * 256 + w.q_lo;
        w.q_hi = 0;
        w.q_lo = t;
        w.y = -128 + t;
    }));
    let errs = run(&c).unwrap_err();
    assert!(fails_at(&errs, "requant span - q_lo", 3), "{errs:?}");
    // Or only the output left unclamped: the output gate fails.
    let mut c = honest();
    c.tamper = Some((2, |w| w.y += 1));
    let errs = run(&c).unwrap_err();
    assert!(fails_at(&errs, "requant", 3), "{errs:?}");
}

#[test]
fn a_wrong_zero_point_fails_the_output_gate() {
    let mut c = honest();
    let other = RequantStep::tflite(1_618_033_988, -9, -4, -128, 127).unwrap();
    c.other_step = Some((0, other));
    let errs = run(&c).unwrap_err();
    assert!(fails_at(&errs, "requant", 1), "{errs:?}");
}

#[test]
fn a_wrong_sign_fails_the_limb_check() {
    // A negative accumulator claimed non-negative (rounding as for a positive value).
    let mut c = honest();
    c.tamper = Some((1, |w| w.acc_limbs[3] = 0));
    let errs = run(&c).unwrap_err();
    assert!(fails_at(&errs, "rescale high limb", 2), "{errs:?}");
    // q_hi's zero test: a non-zero q_hi whose inverse is withheld.
    let mut c = honest();
    c.tamper = Some((2, |w| {
        w.q_hi = 0;
        w.y = -128 + w.q_lo;
    }));
    assert!(run(&c).is_err());
}
