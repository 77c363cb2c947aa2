//! Packing range-checked values into field elements (see [`crate::disclosure::hashing`]): for
//! hashing ([`PackConfig`]), or into instance cells ([`TablePackConfig`]).
//!
//! Pack rows are rescale rows with shift 0 and no activation, so `y` (in `x_0`) is the value itself,
//! proven to lie in the activation range by the rescale's limbs. Beside it, in the equality-enabled
//! `x_1`, a running Horner sum:
//!
//! ```text
//! z[row] = chain * 2^B * z[row - 1] + (y[row] + 2^(2L-1))
//! ```
//!
//! with `chain` (the multiply-accumulate rows' fixed column) 0 on the first value of a chunk. The `z`
//! of a chunk's last value is the packed element that the hash chain absorbs.

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector},
    poly::Rotation,
};

use super::table::RangeTable;
use super::FpCell;
use crate::disclosure::hashing::Packing;
use crate::field::{fp, pow2};

/// The columns and gate of pack rows.
#[derive(Clone, Debug)]
pub struct PackConfig {
    /// The value packed (the rescale's output column `x_0`).
    pub y: Column<Advice>,
    /// The running Horner sum (the equality-enabled `x_1`).
    pub z: Column<Advice>,
    /// 0 on a chunk's first value, 1 on the others (the multiply-accumulate rows' chain column).
    pub chain: Column<Fixed>,
    /// Enables the gate on pack rows.
    pub selector: Selector,
    /// How values are packed: `2L + 1` bits each, offset by `2^(2L-1)` to be non-negative.
    pub packing: Packing,
}

impl PackConfig {
    /// Create the pack gate for values of `2 * limb_bits` bits (the activation range).
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        y: Column<Advice>,
        z: Column<Advice>,
        chain: Column<Fixed>,
        limb_bits: u32,
    ) -> Self {
        let selector = meta.selector();
        let packing = Packing::Packed { limb_bits };
        Self::with_gate(meta, "pack", (y, z, chain), selector, packing)
    }

    /// The Horner gate `z = chain * 2^B * z_prev + (y + offset)` of `packing` on `selector`'s rows.
    fn with_gate(
        meta: &mut ConstraintSystem<Fr>,
        name: &'static str,
        (y, z, chain): (Column<Advice>, Column<Advice>, Column<Fixed>),
        selector: Selector,
        packing: Packing,
    ) -> Self {
        meta.create_gate(name, |m| {
            let s = m.query_selector(selector);
            let chain = m.query_fixed(chain, Rotation::cur());
            let y = m.query_advice(y, Rotation::cur());
            let z_cur = m.query_advice(z, Rotation::cur());
            let z_prev = m.query_advice(z, Rotation::prev());
            let base = Expression::Constant(pow2(packing.value_bits()));
            let off = Expression::Constant(fp(packing.offset()));
            vec![s * (z_cur - chain * base * z_prev - (y + off))]
        });
        PackConfig {
            y,
            z,
            chain,
            selector,
            packing,
        }
    }

    /// Enable the pack gate on `row`: `first` starts a chunk; `z` is the running sum after this value.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        first: bool,
        z: Value<Fr>,
    ) -> Result<FpCell, Error> {
        self.selector.enable(region, row)?;
        region.assign_fixed(self.chain, row, fp(!first as i64));
        Ok(FpCell::assign(region, self.z, row, z))
    }

    /// [`Self::assign`] for value `i` of `n` (chunks of `packing.per_element()` values); returns
    /// the running sum's cell when it closes a chunk (the chunk's packed element).
    pub fn assign_value(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        (i, n): (usize, usize),
        z: Value<Fr>,
    ) -> Result<Option<FpCell>, Error> {
        let per = self.packing.per_element();
        let z = self.assign(region, row, i % per == 0, z)?;
        Ok((i % per == per - 1 || i == n - 1).then_some(z))
    }
}

/// Table pack rows: a public value `v` (in `x_0`, where its uses copy it from) range-checked by one
/// lookup of the range table, and beside it (in `x_1`) the running Horner sum of
/// `u = v + 2^(L-1)`:
///
/// ```text
/// z[row] = chain * 2^L * z[row - 1] + u[row],    (u[row] + 2^(L-1), 1) in the range table
/// ```
///
/// The lookup proves `u ∈ [0, 2^L)`, so a chunk of `⌊253 / L⌋` values packs injectively (it stays
/// below the field's modulus): the `z` of a chunk's last value, equal to an instance cell, says
/// exactly which values the chunk holds. No rescale row is needed (a graph of threshold rows has
/// none).
#[derive(Clone, Debug)]
pub struct TablePackConfig {
    /// The pack rows (`y` the value, `z` the running sum) with `Packing::Table` of the range
    /// table's limb bits, on a complex selector that also enables the lookup.
    pub rows: PackConfig,
}

impl TablePackConfig {
    /// Lookup arguments of table pack rows.
    pub const LOOKUPS: usize = 1;

    /// Create the gate and the lookup, `v` and `z` in columns of their own on these rows.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        v: Column<Advice>,
        z: Column<Advice>,
        chain: Column<Fixed>,
        range: &RangeTable,
    ) -> Self {
        let packing = Packing::Table {
            limb_bits: range.limb_bits,
        };
        let selector = meta.complex_selector();
        let rows = PackConfig::with_gate(meta, "table pack", (v, z, chain), selector, packing);
        let off = Expression::Constant(fp(packing.offset() + range.offset()));
        meta.lookup("table pack range", |m| {
            let s = m.query_selector(selector);
            let v = m.query_advice(v, Rotation::cur());
            vec![(s.clone() * (v + off), range.value), (s, range.nonneg)]
        });
        TablePackConfig { rows }
    }

    /// One row per value from `start`: each value's cell and, per chunk, the cell of its packed
    /// element. `values` is `None` for key generation.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        start: usize,
        n: usize,
        values: Option<&[i64]>,
    ) -> Result<(Vec<FpCell>, Vec<FpCell>), Error> {
        let sums = values.map(|v| self.rows.packing.running_sums(v));
        self.assign_sums(region, start, n, values, sums.as_deref())
    }

    /// [`Self::assign`] with the running sums given (tests forge them).
    pub(crate) fn assign_sums(
        &self,
        region: &mut Region<'_, Fr>,
        start: usize,
        n: usize,
        values: Option<&[i64]>,
        sums: Option<&[Fr]>,
    ) -> Result<(Vec<FpCell>, Vec<FpCell>), Error> {
        let (mut cells, mut packed) = (Vec::with_capacity(n), Vec::new());
        for i in 0..n {
            let row = start + i;
            let v = values.map_or(Value::unknown(), |v| Value::known(fp(v[i])));
            cells.push(FpCell::assign(region, self.rows.y, row, v));
            let z = sums.map_or(Value::unknown(), |s| Value::known(s[i]));
            packed.extend(self.rows.assign_value(region, row, (i, n), z)?);
        }
        Ok((cells, packed))
    }
}
