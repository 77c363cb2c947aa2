//! Fixed-point rescale with a fused activation, checked with the range table.
//!
//! For an accumulator `acc`, shift `s ≤ L`, `m = 2^(L-s)` and `mh = m * 2^(s-1)` (0 when `s = 0`):
//!
//! ```text
//! m * acc + mh = (q_hi * 2^L + q_lo) * 2^L + v      v, q_lo ∈ [0, 2^L),  q_hi ∈ [-2^(L-1), 2^L)
//! y = q * (pos - cut * neg)                         (q_hi, neg) in the table: neg = [q < 0]
//! ```
//!
//! The first line is `q = floor((acc + 2^(s-1)) / 2^s)` multiplied through by `m`, so the remainder
//! `v = m * r` needs only the `[0, 2^L)` check, and `q` is bounded by its limbs: no wrap-around, one
//! solution. `m`, `mh`, `pos` and `cut` are fixed cells of the row: ReLU is `(1, 1)`, no activation
//! `(1, 0)`, and a leaky slope `a / 2^t` is `(2^t, 2^t - a)` (the output gains `t` fractional bits).

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector},
    poly::Rotation,
};

use super::table::RangeTable;
use super::FpCell;
use crate::field::{fp, pow2};
use crate::qgraph::rescale;

/// The columns and gate of rescale rows.
#[derive(Clone, Debug)]
pub struct RescaleConfig {
    /// The accumulator rescaled (`a_0`).
    pub acc: Column<Advice>,
    /// Low limb of `q`, in `[0, 2^L)`.
    pub q_lo: Column<Advice>,
    /// High limb of `q`, in `[-2^(L-1), 2^L)`.
    pub q_hi: Column<Advice>,
    /// The remainder times `m`, in `[0, 2^L)`.
    pub v: Column<Advice>,
    /// 1 when `q < 0` (the high limb's sign from the table).
    pub neg: Column<Advice>,
    /// The activation's output (the equality-enabled `x_0`).
    pub y: Column<Advice>,
    /// `m = 2^(L - shift)`.
    pub m: Column<Fixed>,
    /// `mh = 2^(L-1)` for a shift of at least 1, else 0 (rounds half up).
    pub mh: Column<Fixed>,
    /// Multiplier of a non-negative `q`.
    pub pos: Column<Fixed>,
    /// `pos` minus the multiplier of a negative `q`.
    pub cut: Column<Fixed>,
    /// Enables the gate and lookups on rescale rows.
    pub selector: Selector,
    /// `L`: bits per limb of the range table.
    pub limb_bits: u32,
}

/// The private values of one rescale row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RescaleWitness {
    /// Low limb of `q`: `q mod 2^L`.
    pub q_lo: i64,
    /// High limb of `q`: `floor(q / 2^L)`.
    pub q_hi: i64,
    /// The remainder `m * acc + mh - q * 2^L`, in `[0, 2^L)`.
    pub v: i64,
    /// 1 when `q < 0`, else 0.
    pub neg: i64,
    /// The activation's output.
    pub y: i64,
}

/// The fixed values of one rescale row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RescaleParams {
    /// Bits dropped: `q = floor((acc + 2^(shift-1)) / 2^shift)`.
    pub shift: u32,
    /// Multiplier of a non-negative `q`.
    pub pos: i64,
    /// `pos` minus the multiplier of a negative `q`.
    pub cut: i64,
}

impl RescaleParams {
    /// A rescale followed by ReLU (`pos = 1`, `cut = 1`).
    pub fn relu(shift: u32) -> Self {
        RescaleParams {
            shift,
            pos: 1,
            cut: 1,
        }
    }

    /// A rescale without activation (`pos = 1`, `cut = 0`).
    pub fn identity(shift: u32) -> Self {
        RescaleParams {
            shift,
            pos: 1,
            cut: 0,
        }
    }

    /// `y` for a rescaled `q`.
    pub fn activate(&self, q: i64) -> i64 {
        if q >= 0 {
            q * self.pos
        } else {
            q * (self.pos - self.cut)
        }
    }

    fn m(&self, limb_bits: u32) -> i64 {
        1i64 << (limb_bits - self.shift)
    }
    fn mh(&self, limb_bits: u32) -> i64 {
        if self.shift == 0 {
            0
        } else {
            1i64 << (limb_bits - 1)
        }
    }
}

impl RescaleWitness {
    /// The honest witness for `acc` (the reference evaluator's rounding).
    pub fn compute(acc: i64, p: RescaleParams, limb_bits: u32) -> Self {
        let q = rescale(acc, p.shift);
        let base = 1i64 << limb_bits;
        let v = p.m(limb_bits) as i128 * acc as i128 + p.mh(limb_bits) as i128
            - q as i128 * base as i128;
        let y = p.activate(q);
        RescaleWitness {
            q_lo: q.rem_euclid(base),
            q_hi: q.div_euclid(base),
            v: v as i64,
            neg: (q < 0) as i64,
            y,
        }
    }
}

impl RescaleConfig {
    /// `advice`: acc, q_lo, q_hi, v, neg, y; `fixed`: m, mh, pos, cut (may be shared with other chips).
    /// `shared`: another chip's selector that enables the three lookups too (on its own rows), so
    /// that chip can range-check limbs in these columns without lookups of its own.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        advice: [Column<Advice>; 6],
        fixed: [Column<Fixed>; 4],
        table: &RangeTable,
        shared: Option<Selector>,
    ) -> Self {
        let [acc, q_lo, q_hi, v, neg, y] = advice;
        let [m, mh, pos, cut] = fixed;
        let limb_bits = table.limb_bits;
        let selector = meta.complex_selector();
        meta.create_gate("rescale", |c| {
            let s = c.query_selector(selector);
            let acc = c.query_advice(acc, Rotation::cur());
            let q_lo = c.query_advice(q_lo, Rotation::cur());
            let q_hi = c.query_advice(q_hi, Rotation::cur());
            let v = c.query_advice(v, Rotation::cur());
            let neg = c.query_advice(neg, Rotation::cur());
            let y = c.query_advice(y, Rotation::cur());
            let m = c.query_fixed(m, Rotation::cur());
            let mh = c.query_fixed(mh, Rotation::cur());
            let pos = c.query_fixed(pos, Rotation::cur());
            let cut = c.query_fixed(cut, Rotation::cur());
            let base = Expression::Constant(pow2(limb_bits));
            let q = q_hi * base.clone() + q_lo;
            vec![
                s.clone() * (m * acc + mh - q.clone() * base - v),
                s * (y - q * (pos - cut * neg)),
            ]
        });
        // Lookups (see the table): low limb and remainder in [0, 2^L), high limb with its sign.
        let off = Expression::Constant(fp(table.offset()));
        let enabled = |c: &mut halo2_proofs::plonk::VirtualCells<'_, Fr>| {
            let s = c.query_selector(selector);
            match shared {
                Some(other) => s + c.query_selector(other),
                None => s,
            }
        };
        for (name, col) in [("rescale low limb", q_lo), ("rescale remainder", v)] {
            let off = off.clone();
            meta.lookup(name, |c| {
                let s = enabled(c);
                let x = c.query_advice(col, Rotation::cur());
                vec![(s.clone() * (x + off), table.value), (s, table.nonneg)]
            });
        }
        meta.lookup("rescale high limb", |c| {
            let s = enabled(c);
            let hi = c.query_advice(q_hi, Rotation::cur());
            let neg = c.query_advice(neg, Rotation::cur());
            let one = Expression::Constant(Fr::one());
            vec![
                (s.clone() * (hi + off), table.value),
                (s * (one - neg), table.nonneg),
            ]
        });
        RescaleConfig {
            acc,
            q_lo,
            q_hi,
            v,
            neg,
            y,
            m,
            mh,
            pos,
            cut,
            selector,
            limb_bits,
        }
    }

    /// Assign one rescale row with the given witness; returns (acc cell, y cell).
    pub fn assign_with(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        acc: Value<i64>,
        p: RescaleParams,
        w: Value<RescaleWitness>,
    ) -> Result<(FpCell, FpCell), Error> {
        self.selector.enable(region, row)?;
        let l = self.limb_bits;
        region.assign_fixed(self.m, row, fp(p.m(l)));
        region.assign_fixed(self.mh, row, fp(p.mh(l)));
        region.assign_fixed(self.pos, row, fp(p.pos));
        region.assign_fixed(self.cut, row, fp(p.cut));
        let acc_cell = FpCell::assign(region, self.acc, row, acc.map(fp));
        let cols = [
            (self.q_lo, w.map(|w| w.q_lo)),
            (self.q_hi, w.map(|w| w.q_hi)),
            (self.v, w.map(|w| w.v)),
            (self.neg, w.map(|w| w.neg)),
        ];
        for (col, val) in cols {
            FpCell::assign(region, col, row, val.map(fp));
        }
        let y = FpCell::assign(region, self.y, row, w.map(|w| fp(w.y)));
        Ok((acc_cell, y))
    }

    /// Assign one rescale row with the honest witness.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        acc: Option<i64>,
        p: RescaleParams,
    ) -> Result<(FpCell, FpCell), Error> {
        let acc_v = acc.map(Value::known).unwrap_or(Value::unknown());
        let w = acc_v.map(|a| RescaleWitness::compute(a, p, self.limb_bits));
        self.assign_with(region, row, acc_v, p, w)
    }
}
