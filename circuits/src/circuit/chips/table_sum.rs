//! Table-sum rows: `f_a(a) + f_b(b)` (or `f_a(a) * f_b(b)`) of two int8 activations and its
//! threshold map, in one row (TFLite's int8 ADD, SUB and MUL, [`crate::qgraph::QTableSum`]).
//!
//! The inputs `a` and `b` arrive by copy in the last two input columns `x_{P-1}`, `x_{P-2}`; their
//! table values `u`, `v` sit in two spare cells after the threshold row's own; the sum lands in the
//! threshold row's accumulator `a_0`, which the threshold row of the same row maps to `y` in `x_0`
//! (see [`super::threshold`]; its selector is on too, the link's is not):
//!
//! ```text
//! (tag_a, a, u) and (tag_b, b, v) are rows of the function table
//! a_0 = u + v + m (u v - u - v)       m = 0: a sum, m = 1: a product
//! ```
//!
//! The tags are fixed cells in the last two weight columns, `m` in the third last. The `(tag_a, a, u)` lookup shares the
//! function rows' lookup argument (the two never share a row; see [`super::function`]); the
//! `(tag_b, b, v)` lookup is one argument more.

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector},
    poly::Rotation,
};

use super::function::FunctionLane;
use super::threshold::ThresholdLimbs;
use super::FpCell;
use crate::field::fp;

/// The multiply-accumulate rows' input, accumulator and weight columns.
pub type RowColumns<'a> = (
    &'a [Column<Advice>],
    &'a [Column<Advice>],
    &'a [Column<Fixed>],
);

/// The columns and gate of table-sum rows.
#[derive(Clone, Debug)]
pub struct TableSumConfig {
    /// Enables the sum gate and the two lookups.
    pub selector: Selector,
    /// The inputs `a`, `b` (equality-enabled input columns).
    pub inputs: [Column<Advice>; 2],
    /// Their table values `u`, `v`.
    pub values: [Column<Advice>; 2],
    /// The sum (the threshold row's accumulator `a_0`).
    pub acc: Column<Advice>,
    /// The two tables' tags.
    pub tags: [Column<Fixed>; 2],
    /// 1 on a product row, 0 on a sum row.
    pub product: Column<Fixed>,
}

impl TableSumConfig {
    /// Whether rows of `P` inputs and `W` accumulators hold a table-sum row beside a threshold row
    /// with `limbs`: the threshold's cells (`a_1..` then `x_1..`), then the two values, must end
    /// before the inputs `x_{P-2}`, `x_{P-1}`, and those must not be `x_0`.
    pub fn fits(inputs_per_row: usize, width: usize, limbs: ThresholdLimbs) -> bool {
        inputs_per_row >= 3 && width + inputs_per_row >= limbs.cells() + 6
    }

    /// The gate over the multiply-accumulate rows' columns (inputs, accumulators, weight columns),
    /// beside a threshold row whose cells are the first `threshold_cells` of `a_1..` then `x_1..`
    /// (panics unless [`Self::fits`]).
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        (x, acc, f): RowColumns<'_>,
        threshold_cells: usize,
    ) -> Self {
        let p = x.len();
        assert!(
            p >= 3 && acc.len() + p >= threshold_cells + 6 && f.len() >= 6,
            "table-sum rows need P >= 3 and W + P >= {}",
            threshold_cells + 6
        );
        let spare: Vec<_> = acc[1..].iter().chain(&x[1..]).copied().collect();
        let values = [spare[threshold_cells], spare[threshold_cells + 1]];
        let inputs = [x[p - 1], x[p - 2]];
        let tags = [f[f.len() - 1], f[f.len() - 2]];
        let product = f[f.len() - 3];
        let selector = meta.complex_selector();
        meta.create_gate("table sum", |m| {
            let s = m.query_selector(selector);
            let sum = m.query_advice(acc[0], Rotation::cur());
            let u = m.query_advice(values[0], Rotation::cur());
            let v = m.query_advice(values[1], Rotation::cur());
            let flag = m.query_fixed(product, Rotation::cur());
            let plain = u.clone() + v.clone();
            vec![s * (sum - plain.clone() - flag * (u * v - plain))]
        });
        TableSumConfig {
            selector,
            inputs,
            values,
            acc: acc[0],
            tags,
            product,
        }
    }

    /// The two lookups' lanes, `(tag_a, a, u)` and `(tag_b, b, v)`.
    pub fn lanes(&self) -> [FunctionLane; 2] {
        [0, 1].map(|k| FunctionLane {
            selector: self.selector,
            tag: self.tags[k],
            x: self.inputs[k],
            y: self.values[k],
        })
    }

    /// Enable a table-sum row (a product row with `product`) at `row` with tags `tags`, inputs
    /// and their table values (the caller assigns the result through the threshold row); returns
    /// the two input cells.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        (tags, product): ([i64; 2], bool),
        inputs: [Option<i64>; 2],
        values: [Option<i64>; 2],
    ) -> Result<Vec<FpCell>, Error> {
        self.selector.enable(region, row)?;
        region.assign_fixed(self.product, row, fp(product as i64));
        let known = |v: Option<i64>| v.map_or(Value::unknown(), |v| Value::known(fp(v)));
        let mut cells = Vec::with_capacity(2);
        for k in 0..2 {
            region.assign_fixed(self.tags[k], row, fp(tags[k]));
            cells.push(FpCell::assign(
                region,
                self.inputs[k],
                row,
                known(inputs[k]),
            ));
            FpCell::assign(region, self.values[k], row, known(values[k]));
        }
        Ok(cells)
    }

    /// The advice columns the row's cells use (besides the threshold row's).
    pub fn columns(&self) -> [Column<Advice>; 4] {
        [
            self.inputs[0],
            self.inputs[1],
            self.values[0],
            self.values[1],
        ]
    }
}
