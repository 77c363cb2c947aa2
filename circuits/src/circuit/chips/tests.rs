//! MockProver tests of each chip on its own, honest and tampered.

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::{FailureLocation, MockProver, VerifyFailure},
    halo2curves::bn256::Fr,
    plonk::{Circuit, ConstraintSystem, Error},
};

use super::link::LinkConfig;
use super::mac::MacConfig;
use super::rescale::{RescaleConfig, RescaleParams, RescaleWitness};
use super::table::RangeTable;
use super::FpCell;
use crate::field::fp;

const L: u32 = 8;

// ---------- multiply-accumulate rows and link rows ----------

const P: usize = 2;
const W: usize = 5;

#[derive(Clone)]
struct BlockCircuit {
    xs: Vec<i64>,
    /// weights[j][i]
    weights: Vec<Vec<i64>>,
    bias: Vec<i64>,
    /// Replace accumulator `j` of MAC row `r` with this value.
    tamper_acc: Option<(usize, usize, i64)>,
    /// Add this to the output of link row `j`.
    tamper_out: Option<(usize, i64)>,
    /// Swap the outputs of link rows 0 and 1.
    swap_outputs: bool,
}

#[derive(Clone, Debug)]
struct BlockConfig {
    mac: MacConfig,
    link: LinkConfig,
}

impl Circuit<Fr> for BlockCircuit {
    type Config = BlockConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> BlockConfig {
        let x: Vec<_> = (0..P).map(|_| meta.advice_column()).collect();
        let acc: Vec<_> = (0..W).map(|_| meta.advice_column()).collect();
        let f: Vec<_> = (0..W * P).map(|_| meta.fixed_column()).collect();
        let chain = meta.fixed_column();
        let mac = MacConfig::configure(meta, x.clone(), acc.clone(), f.clone(), chain, 4, None);
        let link = LinkConfig::configure(meta, acc, x[0], f[3], f[4], 8, None);
        BlockConfig { mac, link }
    }
    fn synthesize(
        &self,
        config: BlockConfig,
        mut layouter: impl Layouter<Fr>,
    ) -> Result<(), Error> {
        layouter.assign_region(
            || "block",
            |mut region| {
                for col in &config.mac.acc {
                    FpCell::assign(&mut region, *col, 0, Value::known(Fr::zero()));
                }
                let rows = MacConfig::rows_for(P, self.xs.len());
                let mut acc = vec![0i64; self.weights.len()];
                for r in 0..rows {
                    let (lo, hi) = (r * P, ((r + 1) * P).min(self.xs.len()));
                    let ws: Vec<Vec<i64>> =
                        self.weights.iter().map(|w| w[lo..hi].to_vec()).collect();
                    for (a, w) in acc.iter_mut().zip(&ws) {
                        *a += crate::qgraph::linear_acc(0, w, &self.xs[lo..hi]) as i64;
                    }
                    // Every accumulator column, the unused ones (here j >= 3) holding 0.
                    let accs: Vec<_> = (0..W)
                        .map(|j| match self.tamper_acc {
                            Some((tr, tj, v)) if tr == r && tj == j => Value::known(fp(v)),
                            _ => Value::known(fp(acc.get(j).copied().unwrap_or(0))),
                        })
                        .collect();
                    let xs: Vec<_> = self.xs[lo..hi]
                        .iter()
                        .map(|v| Value::known(fp(*v)))
                        .collect();
                    config
                        .mac
                        .assign_row(&mut region, 1 + r, &xs, &ws, r > 0, &accs)?;
                }
                let mut outs: Vec<i64> = acc.iter().zip(&self.bias).map(|(a, b)| a + b).collect();
                if self.swap_outputs {
                    outs.swap(0, 1);
                }
                for (j, out) in outs.iter().enumerate() {
                    let delta = match self.tamper_out {
                        Some((tj, d)) if tj == j => d,
                        _ => 0,
                    };
                    let v = Value::known(fp(out + delta));
                    config
                        .link
                        .assign_pass(&mut region, 1 + rows + j, j, self.bias[j], v)?;
                }
                Ok(())
            },
        )
    }
}

fn block_circuit() -> BlockCircuit {
    BlockCircuit {
        xs: vec![3, -1, 4, 1, -5],
        weights: vec![
            vec![2, 7, -1, 8, 2],
            vec![-8, 1, 8, 2, -8],
            vec![1, 1, 1, 1, 1],
        ],
        bias: vec![-11, 200, 0],
        tamper_acc: None,
        tamper_out: None,
        swap_outputs: false,
    }
}

fn run_block(c: &BlockCircuit) -> Result<(), Vec<VerifyFailure>> {
    MockProver::run(6, c, vec![]).unwrap().verify()
}

#[test]
fn mac_and_link_rows_accept_the_honest_block() {
    run_block(&block_circuit()).unwrap();
}

#[test]
fn mac_rows_reject_a_wrong_accumulator_in_any_row_and_column() {
    for (r, j) in [(0, 0), (1, 1), (2, 2), (2, 4)] {
        let mut c = block_circuit();
        c.tamper_acc = Some((r, j, 1234));
        let errs = run_block(&c).unwrap_err();
        // halo2-axiom's MockProver counts a region's offsets from its first fixed cell: the first
        // multiply-accumulate row (row 1, after the spacer), so row `1 + r` is offset `r`.
        assert!(
            errs.iter().any(|e| matches!(e, VerifyFailure::ConstraintNotSatisfied { location: FailureLocation::InRegion { offset, .. }, .. } if *offset == r)),
            "row {r}, acc {j}: {errs:?}"
        );
    }
}

#[test]
fn link_rows_reject_a_wrong_or_swapped_output() {
    for j in 0..3 {
        let mut c = block_circuit();
        c.tamper_out = Some((j, 1));
        assert!(run_block(&c).is_err(), "output {j}");
    }
    let mut c = block_circuit();
    c.swap_outputs = true;
    assert!(run_block(&c).is_err());
}

// ---------- rescale + ReLU ----------

#[derive(Clone)]
struct RescaleCircuit {
    cases: Vec<(i64, RescaleParams, RescaleWitness)>,
}

impl Circuit<Fr> for RescaleCircuit {
    type Config = RescaleConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> RescaleConfig {
        let advice = [(); 6].map(|_| meta.advice_column());
        let fixed = [(); 4].map(|_| meta.fixed_column());
        let table = RangeTable::configure(meta, L);
        let config = RescaleConfig::configure(meta, advice, fixed, &table, None);
        TABLE.with(|t| *t.borrow_mut() = Some(table));
        config
    }
    fn synthesize(
        &self,
        config: RescaleConfig,
        mut layouter: impl Layouter<Fr>,
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
    let p = if relu {
        RescaleParams::relu(shift)
    } else {
        RescaleParams::identity(shift)
    };
    with_params(acc, p)
}

fn with_params(acc: i64, p: RescaleParams) -> (i64, RescaleParams, RescaleWitness) {
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
                let q = crate::qgraph::rescale(acc, shift);
                let (min, max) = crate::qgraph::activation_range(L);
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

#[test]
fn rescale_proves_leaky_slopes_and_rejects_a_wrong_leaky_output() {
    // Slope 26/256 on the negative side, output scaled by 2^8.
    let leaky = RescaleParams {
        shift: 4,
        pos: 256,
        cut: 256 - 26,
    };
    let cases: Vec<_> = [-5000, -17, 0, 17, 5000]
        .iter()
        .map(|a| with_params(*a, leaky))
        .collect();
    for (acc, _, w) in &cases {
        let q = crate::qgraph::rescale(*acc, 4);
        assert_eq!(w.y, if q >= 0 { q * 256 } else { q * 26 });
    }
    run_rescale(cases).unwrap();
    // A negative q passed through as if the slope were 1, or zeroed as by a ReLU.
    for wrong in [|q: i64| q * 256, |_q: i64| 0] {
        let (acc, p, mut w) = with_params(-5000, leaky);
        w.y = wrong(crate::qgraph::rescale(acc, 4));
        assert!(run_rescale(vec![(acc, p, w)]).is_err());
    }
}
