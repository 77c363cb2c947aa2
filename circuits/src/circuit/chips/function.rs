//! Elementwise functions by lookup (Sigmoid, Tanh): `(tag, x, y)` must be a row of the function table.
//!
//! A function row is a link row (see [`super::link`]) whose target `x` lands in the accumulator column
//! `a_0`; `y` is written to the equality-enabled `x_0`, and the row's `tag` (a fixed cell) names the
//! function. The table holds `(0, 0, 0)` (what a disabled lookup reads) and, for each function, the rows
//! `(tag, x, f(x))` over its domain; the values come from the model file, computed once at compile
//! time, so every prover and verifier builds the same table.
//!
//! Table-sum rows ([`super::table_sum`]) look up two more `(tag, x, y)` lanes of their own: the
//! first shares the function rows' lookup argument (its input is the sum of both lanes' selected
//! values, and a row never has both selectors on), the second is an argument of its own.

use halo2_proofs::{
    circuit::{Layouter, Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector, TableColumn},
    poly::Rotation,
};

use super::FpCell;
use crate::field::fp;

/// The columns of function rows and the function table.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    /// The function's input (the link's target, `a_0`).
    pub x: Column<Advice>,
    /// The function's output (the equality-enabled `x_0`).
    pub y: Column<Advice>,
    /// The function's tag on each function row (0 elsewhere).
    pub tag: Column<Fixed>,
    /// Enables the lookup on function rows.
    pub selector: Selector,
    /// The table's `(tag, x, y)` columns.
    pub table: [TableColumn; 3],
}

/// The function table: `(tag, x, y)` rows.
pub type FunctionTable = Vec<(i64, i64, i64)>;

/// Cells of another chip's rows that must form a row of the function table where `selector` is on.
#[derive(Clone, Copy, Debug)]
pub struct FunctionLane {
    /// Enables the lane.
    pub selector: Selector,
    /// The table's tag.
    pub tag: Column<Fixed>,
    /// The input.
    pub x: Column<Advice>,
    /// The output.
    pub y: Column<Advice>,
}

impl FunctionConfig {
    /// Add the lookup `(tag, x, y)` in the function table on rows where the selector is on, and
    /// the table-sum rows' two `lanes` (see the module docs).
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        x: Column<Advice>,
        y: Column<Advice>,
        tag: Column<Fixed>,
        lanes: Option<[FunctionLane; 2]>,
    ) -> Self {
        let selector = meta.complex_selector();
        let table = [(); 3].map(|_| meta.lookup_table_column());
        let own = FunctionLane {
            selector,
            tag,
            x,
            y,
        };
        let arguments = match lanes {
            None => vec![vec![own]],
            Some([a, b]) => vec![vec![own, a], vec![b]],
        };
        for (name, lanes) in ["function table", "function table, second lane"]
            .into_iter()
            .zip(arguments)
        {
            meta.lookup(name, |c| {
                let selected = lanes.iter().map(|lane| {
                    let s = c.query_selector(lane.selector);
                    [
                        c.query_fixed(lane.tag, Rotation::cur()),
                        c.query_advice(lane.x, Rotation::cur()),
                        c.query_advice(lane.y, Rotation::cur()),
                    ]
                    .map(|v| s.clone() * v)
                });
                let [t, xv, yv] = selected
                    .reduce(|[a0, a1, a2], [b0, b1, b2]| [a0 + b0, a1 + b1, a2 + b2])
                    .expect("a lane");
                vec![(t, table[0]), (xv, table[1]), (yv, table[2])]
            });
        }
        FunctionConfig {
            x,
            y,
            tag,
            selector,
            table,
        }
    }

    /// Fill the function table: `(0, 0, 0)`, then `rows`.
    pub fn load(
        &self,
        layouter: &mut impl Layouter<Fr>,
        rows: &FunctionTable,
    ) -> Result<(), Error> {
        layouter.assign_table(
            || "function table",
            |mut t| {
                for (i, (tag, x, y)) in std::iter::once(&(0, 0, 0)).chain(rows).enumerate() {
                    for (col, v) in self.table.iter().zip([tag, x, y]) {
                        t.assign_cell(|| "function", *col, i, || Value::known(fp(*v)))?;
                    }
                }
                Ok(())
            },
        )
    }

    /// Enable the lookup on `row` and assign `y` (the caller assigns `x` through the link).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        tag: i64,
        y: Value<Fr>,
    ) -> Result<FpCell, Error> {
        self.selector.enable(region, row)?;
        region.assign_fixed(self.tag, row, fp(tag));
        Ok(FpCell::assign(region, self.y, row, y))
    }
}
