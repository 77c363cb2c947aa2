//! Threshold rows: a non-decreasing map of the accumulator ([`crate::qgraph::threshold`]), one row per
//! element.
//!
//! A threshold row is a link row whose target `acc` lands in `a_0`; `y` is the equality-enabled
//! `x_0`, and the row's `tag` (a fixed cell) names the map. With `B = 2^L` (`L = 12`):
//!
//! ```text
//! (tag, y, lo, hi) is a row of the threshold table
//! acc - lo     = d_0 + d_1 B + d_2 B^2        d_i ∈ [0, B)
//! hi - 1 - acc = e_0 + e_1 B + e_2 B^2        e_i ∈ [0, B)
//! ```
//!
//! The table holds, for each map, one row per non-empty interval `[lo, hi)` of accumulators with
//! output `y`; the intervals of a map are disjoint, so `lo <= acc < hi` (both differences are
//! below `2^(3L)`, far below the field's size, so no wrap-around can fake them) picks exactly one
//! `y`. The table also holds `(0, 0, 0, 0)`, what a disabled lookup reads. Its rows come from the model
//! file, so every prover and verifier builds the same table.

use halo2_proofs::{
    circuit::{Layouter, Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, TableColumn},
    poly::Rotation,
};

use super::table::RangeTable;
use super::FpCell;
use crate::circuit::failure::{fail, SynthesisFailure};
use crate::field::{fp, pow2};
use crate::qgraph::requant::REQUANT_LIMB_BITS;
use crate::qgraph::threshold::{ThresholdMap, THRESHOLD_DOMAIN};

/// Limbs of each difference.
const LIMBS: usize = 3;
const _: () = assert!(
    (THRESHOLD_DOMAIN.1 - THRESHOLD_DOMAIN.0) <= 1i64 << (LIMBS as u32 * REQUANT_LIMB_BITS),
    "a difference inside the domain fits the limbs"
);

/// The threshold table: `(tag, y, lo, hi)` rows.
pub type ThresholdTable = Vec<(i64, i64, i64, i64)>;

/// The columns, gate and lookups of threshold rows.
#[derive(Clone, Debug)]
pub struct ThresholdConfig {
    /// The accumulator (`a_0`, the link's target).
    pub acc: Column<Advice>,
    /// The output (the equality-enabled `x_0`).
    pub y: Column<Advice>,
    /// The interval's ends `lo` and `hi`.
    pub ends: [Column<Advice>; 2],
    /// Limbs of `acc - lo`, low first.
    pub d: [Column<Advice>; LIMBS],
    /// Limbs of `hi - 1 - acc`, low first.
    pub e: [Column<Advice>; LIMBS],
    /// The map's tag on each threshold row.
    pub tag: Column<Fixed>,
    /// Enables the gate and lookups.
    pub selector: Selector,
    /// The table's `(tag, y, lo, hi)` columns.
    pub table: [TableColumn; 4],
}

/// The private values of one threshold row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThresholdWitness {
    /// The output.
    pub y: i64,
    /// The interval `[lo, hi)` holding the accumulator.
    pub ends: [i64; 2],
    /// Limbs of `acc - lo`.
    pub d: [i64; LIMBS],
    /// Limbs of `hi - 1 - acc`.
    pub e: [i64; LIMBS],
}

fn limbs(mut v: i64) -> [i64; LIMBS] {
    let base = 1i64 << REQUANT_LIMB_BITS;
    let mut out = [0; LIMBS];
    for l in &mut out {
        *l = v.rem_euclid(base);
        v = v.div_euclid(base);
    }
    out
}

impl ThresholdWitness {
    /// The witness for output `y` at `acc`: the map's interval, or the alternative's single
    /// accumulator; `None` when the map does not allow `y`.
    pub fn for_output(acc: i64, map: &ThresholdMap, y: i64) -> Option<Self> {
        if map.apply(acc) == Some(y) {
            return Self::compute(acc, map);
        }
        map.alternatives.binary_search(&(acc, y)).ok()?;
        Some(ThresholdWitness {
            y,
            ends: [acc, acc + 1],
            d: limbs(0),
            e: limbs(0),
        })
    }

    /// The honest witness for `acc` (the map's own output); `None` outside the map's domain.
    pub fn compute(acc: i64, map: &ThresholdMap) -> Option<Self> {
        let y = map.apply(acc)?;
        let i = (y - map.out_min) as usize;
        let lo = match i {
            0 => THRESHOLD_DOMAIN.0,
            _ => map.thresholds[i - 1],
        };
        let hi = map.thresholds.get(i).copied().unwrap_or(THRESHOLD_DOMAIN.1);
        Some(ThresholdWitness {
            y,
            ends: [lo, hi],
            d: limbs(acc - lo),
            e: limbs(hi - 1 - acc),
        })
    }
}

impl ThresholdConfig {
    /// `acc` is `a_0`, `y` the equality-enabled `x_0`; `cells` hold
    /// `[lo, hi, d_0, d_1, d_2, e_0, e_1, e_2]`; `tag` is a fixed column of the chip's own.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        (acc, y): (Column<Advice>, Column<Advice>),
        cells: [Column<Advice>; 2 + 2 * LIMBS],
        tag: Column<Fixed>,
        range: &RangeTable,
    ) -> Self {
        assert_eq!(
            range.limb_bits, REQUANT_LIMB_BITS,
            "threshold rows need 12-bit limbs"
        );
        let selector = meta.complex_selector();
        let ends = [cells[0], cells[1]];
        let d: [Column<Advice>; LIMBS] = cells[2..2 + LIMBS].try_into().expect("limbs");
        let e: [Column<Advice>; LIMBS] = cells[2 + LIMBS..].try_into().expect("limbs");
        let table = [(); 4].map(|_| meta.lookup_table_column());
        let base = pow2(REQUANT_LIMB_BITS);
        meta.create_gate("threshold", |c| {
            let s = c.query_selector(selector);
            let mut a = |col| c.query_advice(col, Rotation::cur());
            let sum = |ls: [Expression<Fr>; LIMBS]| {
                ls.into_iter()
                    .rev()
                    .fold(Expression::Constant(Fr::zero()), |acc, l| {
                        acc * Expression::Constant(base) + l
                    })
            };
            let (accv, lo, hi) = (a(acc), a(ends[0]), a(ends[1]));
            let dv = sum(d.map(&mut a));
            let ev = sum(e.map(&mut a));
            let one = Expression::Constant(Fr::one());
            vec![
                s.clone() * (accv.clone() - lo - dv),
                s * (hi - one - accv - ev),
            ]
        });
        meta.lookup("threshold table", |c| {
            let s = c.query_selector(selector);
            let t = c.query_fixed(tag, Rotation::cur());
            let cols = [
                t,
                c.query_advice(y, Rotation::cur()),
                c.query_advice(ends[0], Rotation::cur()),
                c.query_advice(ends[1], Rotation::cur()),
            ];
            cols.into_iter()
                .zip(table)
                .map(|(v, col)| (s.clone() * v, col))
                .collect()
        });
        let off = Expression::Constant(fp(range.offset()));
        let names = [
            "threshold acc - lo 0",
            "threshold acc - lo 1",
            "threshold acc - lo 2",
            "threshold hi - acc 0",
            "threshold hi - acc 1",
            "threshold hi - acc 2",
        ];
        for (name, col) in names.into_iter().zip(d.into_iter().chain(e)) {
            let off = off.clone();
            meta.lookup(name, |c| {
                let s = c.query_selector(selector);
                let x = c.query_advice(col, Rotation::cur());
                vec![(s.clone() * (x + off), range.value), (s, range.nonneg)]
            });
        }
        ThresholdConfig {
            acc,
            y,
            ends,
            d,
            e,
            tag,
            selector,
            table,
        }
    }

    /// Lookup arguments the chip adds.
    pub const LOOKUPS: usize = 1 + 2 * LIMBS;

    /// Fill the threshold table: `(0, 0, 0, 0)`, then `rows`.
    pub fn load(
        &self,
        layouter: &mut impl Layouter<Fr>,
        rows: &ThresholdTable,
    ) -> Result<(), Error> {
        layouter.assign_table(
            || "threshold table",
            |mut t| {
                for (i, (tag, y, lo, hi)) in std::iter::once(&(0, 0, 0, 0)).chain(rows).enumerate()
                {
                    for (col, v) in self.table.iter().zip([tag, y, lo, hi]) {
                        t.assign_cell(|| "threshold", *col, i, || Value::known(fp(*v)))?;
                    }
                }
                Ok(())
            },
        )
    }

    /// Assign one threshold row with the given witness; returns (acc cell, y cell). The caller
    /// enables the row's link.
    pub fn assign_with(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        acc: Value<i64>,
        tag: i64,
        w: Value<ThresholdWitness>,
    ) -> Result<(FpCell, FpCell), Error> {
        self.selector.enable(region, row)?;
        region.assign_fixed(self.tag, row, fp(tag));
        let acc_cell = FpCell::assign(region, self.acc, row, acc.map(fp));
        for (k, col) in self.ends.iter().enumerate() {
            FpCell::assign(region, *col, row, w.map(|w| fp(w.ends[k])));
        }
        for (k, col) in self.d.iter().enumerate() {
            FpCell::assign(region, *col, row, w.map(|w| fp(w.d[k])));
        }
        for (k, col) in self.e.iter().enumerate() {
            FpCell::assign(region, *col, row, w.map(|w| fp(w.e[k])));
        }
        let y = FpCell::assign(region, self.y, row, w.map(|w| fp(w.y)));
        Ok((acc_cell, y))
    }

    /// Assign one threshold row with the honest witness: output `y` (the trace's, which may be an
    /// alternative) or the map's own (a witness error outside the domain or for a `y` not allowed).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        (acc, y): (Option<i64>, Option<i64>),
        (tag, map): (i64, &ThresholdMap),
    ) -> Result<(FpCell, FpCell), Error> {
        let w = match acc {
            Some(a) => {
                let w = match y {
                    Some(y) => ThresholdWitness::for_output(a, map, y),
                    None => ThresholdWitness::compute(a, map),
                };
                Value::known(w.ok_or_else(|| fail(SynthesisFailure::Requant(a)))?)
            }
            None => Value::unknown(),
        };
        let acc_v = acc.map(Value::known).unwrap_or(Value::unknown());
        self.assign_with(region, row, acc_v, tag, w)
    }
}
