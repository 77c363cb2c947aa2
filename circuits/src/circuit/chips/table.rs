//! The range table shared by every lookup: rows `(v + 2^(L-1), [v >= 0])` for `v` in `[-2^(L-1), 2^L)`.
//!
//! Looking up `(x + 2^(L-1), 1)` proves `x ∈ [0, 2^L)`; looking up `(x + 2^(L-1), 1 - n)` proves
//! `x ∈ [-2^(L-1), 2^L)` and that `n` is its sign bit. Values are stored offset so that every table
//! entry is a small non-negative integer (cheap to commit), and the row a disabled lookup reads,
//! `(0, 0)`, is the entry of `v = -2^(L-1)`. The table holds `3 * 2^(L-1)` rows (384 for L = 8), so it
//! never sets k for a model that needs more rows than that.

use halo2_proofs::{
    circuit::{Layouter, Value},
    halo2curves::bn256::Fr,
    plonk::{ConstraintSystem, Error, TableColumn},
};

use crate::field::fp;

/// The range table's columns.
#[derive(Clone, Debug)]
pub struct RangeTable {
    /// `v + 2^(L-1)`.
    pub value: TableColumn,
    /// `1` when `v >= 0`.
    pub nonneg: TableColumn,
    /// `L`: the table covers `[-2^(L-1), 2^L)`.
    pub limb_bits: u32,
}

impl RangeTable {
    /// Create the table's two columns, for `limb_bits` in `2..=15`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, limb_bits: u32) -> Self {
        assert!((2..=15).contains(&limb_bits), "limb bits out of range");
        RangeTable {
            value: meta.lookup_table_column(),
            nonneg: meta.lookup_table_column(),
            limb_bits,
        }
    }

    /// Number of table rows for limbs of `limb_bits` bits.
    pub fn rows(limb_bits: u32) -> usize {
        3 << (limb_bits - 1)
    }

    /// The offset added to looked-up values.
    pub fn offset(&self) -> i64 {
        1i64 << (self.limb_bits - 1)
    }

    /// The table's values `v`.
    fn entries(limb_bits: u32) -> impl Iterator<Item = i64> {
        -(1i64 << (limb_bits - 1))..(1i64 << limb_bits)
    }

    /// Fill the table's `3 * 2^(L-1)` rows.
    pub fn load(&self, layouter: &mut impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "range table",
            |mut table| {
                for (row, v) in Self::entries(self.limb_bits).enumerate() {
                    let stored = fp(v + self.offset());
                    table.assign_cell(|| "value", self.value, row, || Value::known(stored))?;
                    let nonneg = fp((v >= 0) as i64);
                    table.assign_cell(|| "nonneg", self.nonneg, row, || Value::known(nonneg))?;
                }
                Ok(())
            },
        )
    }
}
