//! The range table shared by every lookup: rows `(v, [v < 0])` for `v` in `[-2^(L-1), 2^L)`.
//!
//! Looking up `(x, 0)` proves `x ∈ [0, 2^L)`; looking up `(x, n)` proves `x ∈ [-2^(L-1), 2^L)` and that
//! `n` is its sign bit. The table holds `3 * 2^(L-1)` rows (384 for L = 8), so it never sets k for a
//! model that needs more rows than that.

use halo2_proofs::{
    circuit::{Layouter, Value},
    pasta::Fp,
    plonk::{ConstraintSystem, Error, TableColumn},
};

use crate::field::fp;

#[derive(Clone, Debug)]
pub struct RangeTable {
    pub value: TableColumn,
    pub negative: TableColumn,
    pub limb_bits: u32,
}

impl RangeTable {
    pub fn configure(meta: &mut ConstraintSystem<Fp>, limb_bits: u32) -> Self {
        assert!((2..=15).contains(&limb_bits), "limb bits out of range");
        RangeTable {
            value: meta.lookup_table_column(),
            negative: meta.lookup_table_column(),
            limb_bits,
        }
    }

    /// Number of table rows for limbs of `limb_bits` bits.
    pub fn rows(limb_bits: u32) -> usize {
        3 << (limb_bits - 1)
    }

    /// The table's values, 0 first (rows where a lookup is disabled look up 0).
    fn entries(limb_bits: u32) -> impl Iterator<Item = i64> {
        let lo = -(1i64 << (limb_bits - 1));
        let hi = 1i64 << limb_bits;
        (0..hi).chain(lo..0)
    }

    pub fn load(&self, layouter: &mut impl Layouter<Fp>) -> Result<(), Error> {
        layouter.assign_table(
            || "range table",
            |mut table| {
                for (row, v) in Self::entries(self.limb_bits).enumerate() {
                    table.assign_cell(|| "value", self.value, row, || Value::known(fp(v)))?;
                    let neg = fp((v < 0) as i64);
                    table.assign_cell(|| "negative", self.negative, row, || Value::known(neg))?;
                }
                Ok(())
            },
        )
    }
}
