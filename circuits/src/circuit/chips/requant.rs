//! int8 requantization rows: the exact form of [`crate::qgraph::requant`], one row per element.
//!
//! A requant row is a link row whose target `acc` lands in `a_0`. With `B = 2^L` (`L = 12`):
//!
//! ```text
//! acc = a_hi B^2 + a_mid B + a_lo                          a_lo, a_mid ∈ [0, B), (a_hi, b) signed: b = [acc < 0]
//! mul acc + add - b neg_add = (q_min + q_hi (span + 1) + q_lo) B^5 + Σ v_i B^i      v_i ∈ [0, B)
//! q_lo ∈ [0, span]                                         (q_lo and span - q_lo in [0, B))
//! (q_hi, s) signed: s = [q_hi < 0];  z = 1 - q_hi inv,  q_hi z = 0   (z = [q_hi = 0])
//! y = out_min + z q_lo + (1 - s - z) span
//! ```
//!
//! The first line bounds `acc` and gives its sign; the second is `q = floor(N / B^5)` with `N` the
//! numerator (no wrap-around: every term is far below the field's size, and the limbs make `q` and
//! the remainder unique); the `q_hi`/`q_lo` split of `q - q_min` tells below (`q_hi < 0`: `y = out_min`),
//! inside (`q_hi = 0`) and above (`y = out_min + span`) the output range: the clamp. `mul`, `add`,
//! `neg_add`, `q_min`, `span` and `out_min` are fixed cells of the row. The limbs of `acc` use the
//! rescale rows' three lookups (columns `a_1`, `a_3`, and `a_2` with `a_4`), which are enabled on
//! requant rows too; the other eight lookups are the chip's own.

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector},
    poly::Rotation,
};

use super::table::RangeTable;
use super::FpCell;
use crate::circuit::failure::{fail, SynthesisFailure};
use crate::field::{fp, pow2};
use crate::qgraph::requant::{RequantStep, REQUANT_LIMB_BITS, REQUANT_SHIFT};

/// Remainder limbs: `B^5` is the divisor.
const LIMBS: usize = 5;
const _: () = assert!(LIMBS as u32 * REQUANT_LIMB_BITS == REQUANT_SHIFT);

/// The columns and gates of requant rows.
#[derive(Clone, Debug)]
pub struct RequantConfig {
    /// The accumulator (`a_0`, the link's target).
    pub acc: Column<Advice>,
    /// `acc`'s limbs: low, middle (unsigned) and high (signed), and its sign `b`.
    pub acc_limbs: [Column<Advice>; 4],
    /// The remainder's limbs, low first.
    pub v: [Column<Advice>; LIMBS],
    /// `q - q_min = q_hi (span + 1) + q_lo`.
    pub q_lo: Column<Advice>,
    /// See `q_lo`; signed.
    pub q_hi: Column<Advice>,
    /// `[q_hi < 0]`.
    pub s: Column<Advice>,
    /// The inverse of `q_hi` (anything when it is 0).
    pub inv: Column<Advice>,
    /// The output (the equality-enabled `x_0`).
    pub y: Column<Advice>,
    /// Fixed cells: mul, add, neg_add, q_min, span, out_min.
    pub fixed: [Column<Fixed>; 6],
    /// Enables the gates and lookups on requant rows.
    pub selector: Selector,
}

/// The private values of one requant row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantWitness {
    /// `acc`'s limbs (low, middle, high) and sign.
    pub acc_limbs: [i64; 4],
    /// The remainder's limbs.
    pub v: [i64; LIMBS],
    /// Low part of `q - q_min`.
    pub q_lo: i64,
    /// High part of `q - q_min`.
    pub q_hi: i64,
    /// `[q_hi < 0]`.
    pub s: i64,
    /// The output.
    pub y: i64,
}

impl RequantWitness {
    /// The honest witness for `acc` (the reference evaluator's arithmetic); `None` when `acc` or `q`
    /// leaves the ranges the limbs hold.
    pub fn compute(acc: i64, p: &RequantStep) -> Option<Self> {
        let base = 1i64 << REQUANT_LIMB_BITS;
        let y = p.apply(acc).ok()?;
        let a_lo = acc.rem_euclid(base);
        let a_mid = acc.div_euclid(base).rem_euclid(base);
        let a_hi = acc.div_euclid(base * base);
        let q = p.quotient(acc);
        let mut r = p.numerator(acc) - (q << REQUANT_SHIFT);
        let mut v = [0i64; LIMBS];
        for limb in &mut v {
            *limb = (r % base as i128) as i64;
            r /= base as i128;
        }
        let t = (q - p.q_min as i128) as i64;
        let q_hi = t.div_euclid(p.span + 1);
        Some(RequantWitness {
            acc_limbs: [a_lo, a_mid, a_hi, (acc < 0) as i64],
            v,
            q_lo: t.rem_euclid(p.span + 1),
            q_hi,
            s: (q_hi < 0) as i64,
            y,
        })
    }
}

/// A field element of a 128-bit integer.
fn fp128(v: i128) -> Fr {
    let m = v.unsigned_abs();
    let mag = Fr::from((m >> 64) as u64) * pow2(32) * pow2(32) + Fr::from(m as u64);
    if v < 0 {
        -mag
    } else {
        mag
    }
}

impl RequantConfig {
    /// `acc` is `a_0` and `acc_limbs` the rescale rows' `a_1, a_3, a_2, a_4` (low, middle, high,
    /// sign; their lookups are the rescale's, enabled by [`Self::selector`] too); `cells` hold the
    /// remainder limbs, `q_lo`, `q_hi`, `s` and `inv`; `y` is the equality-enabled `x_0`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        selector: Selector,
        (acc, acc_limbs, y): (Column<Advice>, [Column<Advice>; 4], Column<Advice>),
        cells: [Column<Advice>; LIMBS + 4],
        fixed: [Column<Fixed>; 6],
        table: &RangeTable,
    ) -> Self {
        assert_eq!(
            table.limb_bits, REQUANT_LIMB_BITS,
            "requant rows need 12-bit limbs"
        );
        let v: [Column<Advice>; LIMBS] = cells[..LIMBS].try_into().expect("five limbs");
        let [q_lo, q_hi, s_col, inv] = cells[LIMBS..].try_into().expect("four cells");
        let base = pow2(REQUANT_LIMB_BITS);
        meta.create_gate("requant", |c| {
            let r = c.query_selector(selector);
            let fx: Vec<Expression<Fr>> = fixed
                .iter()
                .map(|col| c.query_fixed(*col, Rotation::cur()))
                .collect();
            let mut a = |col| c.query_advice(col, Rotation::cur());
            let [lo, mid, hi, b] = acc_limbs.map(&mut a);
            let acc = a(acc);
            let one = Expression::Constant(Fr::one());
            let b_l = Expression::Constant(base);
            let limbs_sum = lo + mid * b_l.clone() + hi * Expression::Constant(base * base);
            let [mul, add, neg_add, q_min, span, out_min]: [Expression<Fr>; 6] =
                fx.try_into().expect("six fixed columns");
            let (q_lo, q_hi, s, inv, y) = (a(q_lo), a(q_hi), a(s_col), a(inv), a(y));
            let q = q_min + q_hi.clone() * (span.clone() + one.clone()) + q_lo.clone();
            let mut rem = Expression::Constant(Fr::zero());
            for col in v.iter().rev() {
                rem = rem * b_l.clone() + a(*col);
            }
            let shift = Expression::Constant(pow2(REQUANT_SHIFT));
            let z = one.clone() - q_hi.clone() * inv;
            vec![
                r.clone() * (acc.clone() - limbs_sum),
                r.clone() * (mul * acc + add - b * neg_add - q * shift - rem),
                r.clone() * (q_hi * z.clone()),
                r * (y - out_min - z.clone() * q_lo - (one - s - z) * span),
            ]
        });
        let off = Expression::Constant(fp(table.offset()));
        let names = [
            "requant remainder 0",
            "requant remainder 1",
            "requant remainder 2",
            "requant remainder 3",
            "requant remainder 4",
            "requant q_lo",
        ];
        for (name, col) in names.into_iter().zip(v.into_iter().chain([q_lo])) {
            let off = off.clone();
            meta.lookup(name, |c| {
                let r = c.query_selector(selector);
                let x = c.query_advice(col, Rotation::cur());
                vec![(r.clone() * (x + off), table.value), (r, table.nonneg)]
            });
        }
        let off2 = off.clone();
        meta.lookup("requant span - q_lo", |c| {
            let r = c.query_selector(selector);
            let x =
                c.query_fixed(fixed[4], Rotation::cur()) - c.query_advice(q_lo, Rotation::cur());
            vec![(r.clone() * (x + off2), table.value), (r, table.nonneg)]
        });
        meta.lookup("requant q_hi", |c| {
            let r = c.query_selector(selector);
            let hi = c.query_advice(q_hi, Rotation::cur());
            let s = c.query_advice(s_col, Rotation::cur());
            let one = Expression::Constant(Fr::one());
            vec![
                (r.clone() * (hi + off.clone()), table.value),
                (r * (one - s), table.nonneg),
            ]
        });
        RequantConfig {
            acc,
            acc_limbs,
            v,
            q_lo,
            q_hi,
            s: s_col,
            inv,
            y,
            fixed,
            selector,
        }
    }

    /// Lookup arguments the chip adds (beside the rescale's three it shares).
    pub const LOOKUPS: usize = LIMBS + 3;

    /// Assign one requant row with the given witness; returns (acc cell, y cell). The caller enables
    /// the row's link.
    pub fn assign_with(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        acc: Value<i64>,
        p: &RequantStep,
        w: Value<RequantWitness>,
    ) -> Result<(FpCell, FpCell), Error> {
        self.selector.enable(region, row)?;
        let fixed = [
            fp128(p.mul),
            fp128(p.add),
            fp128(p.neg_add),
            fp(p.q_min),
            fp(p.span),
            fp(p.out_min),
        ];
        for (col, v) in self.fixed.iter().zip(fixed) {
            region.assign_fixed(*col, row, v);
        }
        let acc_cell = FpCell::assign(region, self.acc, row, acc.map(fp));
        for (k, col) in self.acc_limbs.iter().enumerate() {
            FpCell::assign(region, *col, row, w.map(|w| fp(w.acc_limbs[k])));
        }
        for (k, col) in self.v.iter().enumerate() {
            FpCell::assign(region, *col, row, w.map(|w| fp(w.v[k])));
        }
        FpCell::assign(region, self.q_lo, row, w.map(|w| fp(w.q_lo)));
        FpCell::assign(region, self.q_hi, row, w.map(|w| fp(w.q_hi)));
        FpCell::assign(region, self.s, row, w.map(|w| fp(w.s)));
        let inv = w.map(|w| Option::from(fp(w.q_hi).invert()).unwrap_or(Fr::zero()));
        FpCell::assign(region, self.inv, row, inv);
        let y = FpCell::assign(region, self.y, row, w.map(|w| fp(w.y)));
        Ok((acc_cell, y))
    }

    /// Assign one requant row with the honest witness (a witness error when `acc` leaves the ranges).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        acc: Option<i64>,
        p: &RequantStep,
    ) -> Result<(FpCell, FpCell), Error> {
        let w = match acc {
            Some(a) => Value::known(
                RequantWitness::compute(a, p).ok_or_else(|| fail(SynthesisFailure::Requant(a)))?,
            ),
            None => Value::unknown(),
        };
        let acc_v = acc.map(Value::known).unwrap_or(Value::unknown());
        self.assign_with(region, row, acc_v, p, w)
    }
}
