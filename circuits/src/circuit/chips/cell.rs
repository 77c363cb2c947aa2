//! An assigned advice cell: where it is and its value. halo2-axiom's own assigned cells borrow the
//! region; this one is plain data, so cells outlive the region that assigned them.

use halo2_proofs::{
    circuit::{Cell, Region, Value},
    plonk::{Advice, Column},
};

use crate::field::Fr;

/// An assigned advice cell: where it is, and its value (unknown during key generation).
#[derive(Clone, Copy, Debug)]
pub struct FpCell {
    cell: Cell,
    value: Value<Fr>,
}

impl FpCell {
    /// Assign `value` at `row` (an absolute row: halo2-axiom's regions all start at row 0).
    pub fn assign(
        region: &mut Region<'_, Fr>,
        column: Column<Advice>,
        row: usize,
        value: Value<Fr>,
    ) -> FpCell {
        let c = region.assign_advice(column, row, value);
        FpCell {
            cell: c.cell(),
            value,
        }
    }

    /// Where the cell is.
    pub fn cell(&self) -> Cell {
        self.cell
    }

    /// Its value.
    pub fn value(&self) -> Value<Fr> {
        self.value
    }

    /// A copy of this cell at `row` of `column`, constrained equal (both columns equality-enabled).
    pub fn copy_to(
        &self,
        region: &mut Region<'_, Fr>,
        column: Column<Advice>,
        row: usize,
    ) -> FpCell {
        let c = FpCell::assign(region, column, row, self.value);
        region.constrain_equal(self.cell, c.cell);
        c
    }
}
