//! MockProver tests of each chip on its own, honest and tampered.

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::{FailureLocation, MockProver, VerifyFailure},
    pasta::Fp,
    plonk::{Circuit, ConstraintSystem, Error},
};

use super::dot::DotConfig;
use super::rescale::{RescaleConfig, RescaleParams, RescaleWitness};
use super::table::RangeTable;
use crate::field::fp;

const L: u32 = 8;
const W: usize = 4;

// ---------- dot product rows ----------

#[derive(Clone)]
struct DotCircuit {
    xs: Vec<i64>,
    ws: Vec<i64>,
    bias: i64,
    /// Replace the accumulator of this row with this value.
    tamper_acc: Option<(usize, i64)>,
}

impl Circuit<Fp> for DotCircuit {
    type Config = DotConfig;
    type FloorPlanner = SimpleFloorPlanner;
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fp>) -> DotConfig {
        let x = (0..W).map(|_| meta.advice_column()).collect();
        let acc = meta.advice_column();
        let w = (0..W).map(|_| meta.fixed_column()).collect();
        let (bias, chain) = (meta.fixed_column(), meta.fixed_column());
        DotConfig::configure(meta, x, acc, w, bias, chain)
    }
    fn synthesize(&self, config: DotConfig, mut layouter: impl Layouter<Fp>) -> Result<(), Error> {
        layouter.assign_region(
            || "neuron",
            |mut region| {
                // Row 0 is a spacer so the first row's `acc[row - 1]` is a real, zero cell.
                region.assign_advice(|| "pad", config.acc, 0, || Value::known(Fp::zero()))?;
                let rows = DotConfig::rows_for(W, self.xs.len());
                let mut acc = self.bias;
                for r in 0..rows {
                    let lo = r * W;
                    let hi = ((r + 1) * W).min(self.xs.len());
                    acc += crate::quant::linear_acc(0, &self.ws[lo..hi], &self.xs[lo..hi]) as i64;
                    let a = match self.tamper_acc {
                        Some((row, v)) if row == r => v,
                        _ => acc,
                    };
                    let xs: Vec<_> = self.xs[lo..hi]
                        .iter()
                        .map(|v| Value::known(fp(*v)))
                        .collect();
                    let bias = if r == 0 { self.bias } else { 0 };
                    config.assign_row(
                        &mut region,
                        1 + r,
                        &xs,
                        &self.ws[lo..hi],
                        bias,
                        r > 0,
                        Value::known(fp(a)),
                    )?;
                }
                Ok(())
            },
        )
    }
}

fn dot_circuit() -> DotCircuit {
    DotCircuit {
        xs: vec![3, -1, 4, 1, -5, 9, 2, -6, 5, 3],
        ws: vec![2, 7, -1, 8, 2, -8, 1, 8, 2, -8],
        bias: -11,
        tamper_acc: None,
    }
}

#[test]
fn dot_rows_accept_the_honest_sum() {
    let prover = MockProver::run(5, &dot_circuit(), vec![]).unwrap();
    prover.assert_satisfied();
}

#[test]
fn dot_rows_reject_a_wrong_accumulator_in_any_row() {
    for row in 0..3 {
        let mut c = dot_circuit();
        c.tamper_acc = Some((row, 1234));
        let errs = MockProver::run(5, &c, vec![])
            .unwrap()
            .verify()
            .unwrap_err();
        assert!(
            errs.iter().any(|e| matches!(e, VerifyFailure::ConstraintNotSatisfied { location: FailureLocation::InRegion { offset, .. }, .. } if *offset == 1 + row)),
            "row {row}: {errs:?}"
        );
    }
}

// ---------- rescale + ReLU ----------

#[derive(Clone)]
struct RescaleCircuit {
    cases: Vec<(i64, RescaleParams, RescaleWitness)>,
}

impl Circuit<Fp> for RescaleCircuit {
    type Config = RescaleConfig;
    type FloorPlanner = SimpleFloorPlanner;
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fp>) -> RescaleConfig {
        let advice = [(); 6].map(|_| meta.advice_column());
        let fixed = [(); 3].map(|_| meta.fixed_column());
        let table = RangeTable::configure(meta, L);
        let config = RescaleConfig::configure(meta, advice, fixed, &table);
        TABLE.with(|t| *t.borrow_mut() = Some(table));
        config
    }
    fn synthesize(
        &self,
        config: RescaleConfig,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), Error> {
        let table = TABLE.with(|t| t.borrow().clone()).expect("configured");
        table.load(&mut layouter)?;
        layouter.assign_region(
            || "rescale",
            |mut region| {
                for (row, (acc, p, w)) in self.cases.iter().enumerate() {
                    config.assign_with(
                        &mut region,
                        row,
                        Value::known(*acc),
                        *p,
                        Value::known(*w),
                    )?;
                }
                Ok(())
            },
        )
    }
}

thread_local! {
    static TABLE: std::cell::RefCell<Option<RangeTable>> = const { std::cell::RefCell::new(None) };
}

fn honest(acc: i64, shift: u32, relu: bool) -> (i64, RescaleParams, RescaleWitness) {
    let p = RescaleParams { shift, relu };
    (acc, p, RescaleWitness::compute(acc, p, L))
}

fn run_rescale(cases: Vec<(i64, RescaleParams, RescaleWitness)>) -> Result<(), Vec<VerifyFailure>> {
    MockProver::run(10, &RescaleCircuit { cases }, vec![])
        .unwrap()
        .verify()
}

#[test]
fn rescale_accepts_honest_rows_across_signs_shifts_and_limbs() {
    let mut cases = Vec::new();
    for acc in [
        0, 1, -1, 127, 128, -128, 255, 256, 70_000, -70_000, 5_000_000, -8_000_000,
    ] {
        for shift in [0, 1, 5, 8] {
            for relu in [false, true] {
                let c = honest(acc, shift, relu);
                let q = crate::quant::rescale(acc, shift);
                let (min, max) = crate::quant::activation_range(L);
                if q >= min && q < max {
                    cases.push(c);
                }
            }
        }
    }
    assert!(cases.len() > 60);
    run_rescale(cases).unwrap();
}

#[test]
fn rescale_rejects_a_wrong_relu_output() {
    // q = -4: ReLU must give 0, not -4.
    let (acc, p, mut w) = honest(-1000, 8, true);
    assert_eq!(w.y, 0);
    w.y = -4;
    assert!(run_rescale(vec![(acc, p, w)]).is_err());
    // q = 3 positive: ReLU must pass it through.
    let (acc, p, mut w) = honest(800, 8, true);
    w.y = 0;
    assert!(run_rescale(vec![(acc, p, w)]).is_err());
    // A lying sign bit that zeroes a positive value.
    let (acc, p, mut w) = honest(800, 8, true);
    w.neg = 1;
    w.y = 0;
    assert!(run_rescale(vec![(acc, p, w)]).is_err());
}

#[test]
fn rescale_rejects_a_remainder_out_of_range() {
    // Off-by-one quotient with the remainder pushed out of [0, 2^L): both directions.
    for delta in [1i64, -1] {
        let (acc, p, mut w) = honest(1000, 4, false);
        let q = w.q_hi * 256 + w.q_lo + delta;
        w.q_lo = q.rem_euclid(256);
        w.q_hi = q.div_euclid(256);
        w.v -= delta * 256;
        w.y = q;
        let errs = run_rescale(vec![(acc, p, w)]).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| matches!(e, VerifyFailure::Lookup { .. })),
            "{errs:?}"
        );
    }
}

#[test]
fn rescale_rejects_an_out_of_range_limb() {
    // Same q, but the low limb carries 2^L too many.
    let (acc, p, mut w) = honest(100_000, 2, false);
    w.q_lo += 256;
    w.q_hi -= 1;
    let errs = run_rescale(vec![(acc, p, w)]).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| matches!(e, VerifyFailure::Lookup { .. })),
        "{errs:?}"
    );
}

#[test]
fn rescale_rejects_a_wrong_quotient_with_consistent_output() {
    let (acc, p, mut w) = honest(5000, 6, false);
    w.q_lo += 1;
    w.y += 1;
    assert!(run_rescale(vec![(acc, p, w)]).is_err());
}
