//! Packing range-checked values into field elements for hashing (see [`crate::disclosure::hashing`]).
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
        let packing = Packing::Packed { limb_bits };
        let selector = meta.selector();
        meta.create_gate("pack", |m| {
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
}
