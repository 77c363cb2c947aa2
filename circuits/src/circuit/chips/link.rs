//! Link rows: move a block's accumulators out, one row per output, by rotation instead of copy.
//!
//! The `j`-th row after a block's last row reads accumulator `a_j` at rotation `-(1 + j)`, adds the
//! bias, and writes the sum into a target cell: the rescale's input (`a_0` of this row) or, for a
//! pass row, the equality-enabled `x_0` (a public output, or the input of a next layer).
//!
//! ```text
//! target = a_j[row - 1 - j] + (b - 2^o),   target = pass * x_0 + (1 - pass) * a_0
//! ```
//!
//! `b` (bias, stored with a positive offset) and `pass` are fixed cells of the row; one selector per
//! `j` (halo2 compresses them, as they never share a row). With hashed weights a parameter bias is
//! private: `b - 2^o + h * a_b`, with `a_b` an advice cell and `h` the multiply-accumulate rows' flag
//! (see [`super::mac::HiddenWeights`]).

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector},
    poly::Rotation,
};

use super::FpCell;
use crate::field::{fp, pow2};

/// The columns and gates of link rows.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// The accumulator columns `a_j`; the link of `a_j` reads it `1 + j` rows up.
    pub acc: Vec<Column<Advice>>,
    /// Pass rows write here (equality-enabled).
    pub x0: Column<Advice>,
    /// Rescale rows write here (the rescale's accumulator input).
    pub a0: Column<Advice>,
    /// 1 on a pass row (the target is `x_0`), 0 on a rescale or function row (the target is `a_0`).
    pub pass: Column<Fixed>,
    /// The bias, stored as `b + 2^bias_offset_bits`.
    pub bias: Column<Fixed>,
    /// One selector per accumulator `j`.
    pub selectors: Vec<Selector>,
    /// Biases are stored as `b + 2^bias_offset_bits` (so fixed values are non-negative).
    pub bias_offset_bits: u32,
    /// Hashed weights: the private bias column (equality-enabled) and the parameter flag.
    pub hidden: Option<(Column<Advice>, Column<Fixed>)>,
}

impl LinkConfig {
    /// Create one link gate per accumulator.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        acc: Vec<Column<Advice>>,
        x0: Column<Advice>,
        pass: Column<Fixed>,
        bias: Column<Fixed>,
        bias_offset_bits: u32,
        hidden: Option<(Column<Advice>, Column<Fixed>)>,
    ) -> Self {
        let a0 = acc[0];
        let selectors: Vec<Selector> = acc.iter().map(|_| meta.selector()).collect();
        for (j, (&col, &sel)) in acc.iter().zip(&selectors).enumerate() {
            meta.create_gate("link", |m| {
                let s = m.query_selector(sel);
                let source = m.query_advice(col, Rotation(-(1 + j as i32)));
                let pass = m.query_fixed(pass, Rotation::cur());
                let mut bias = m.query_fixed(bias, Rotation::cur())
                    - Expression::Constant(pow2(bias_offset_bits));
                if let Some((a, h)) = hidden {
                    bias = bias
                        + m.query_fixed(h, Rotation::cur()) * m.query_advice(a, Rotation::cur());
                }
                let one = Expression::Constant(Fr::one());
                let target = pass.clone() * m.query_advice(x0, Rotation::cur())
                    + (one - pass) * m.query_advice(a0, Rotation::cur());
                vec![s * (target - source - bias)]
            });
        }
        LinkConfig {
            acc,
            x0,
            a0,
            pass,
            bias,
            selectors,
            bias_offset_bits,
            hidden,
        }
    }

    /// Enable the link of accumulator `j` on `row` and set its fixed cells, with a private bias when
    /// `hidden` carries its value (`bias` is then ignored); returns the private bias cell. The caller
    /// assigns the target cell (and every other cell of the row).
    pub fn enable(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        j: usize,
        pass: bool,
        bias: i64,
        hidden: Option<Value<Fr>>,
    ) -> Result<Option<FpCell>, Error> {
        self.selectors[j].enable(region, row)?;
        region.assign_fixed(self.pass, row, fp(pass as i64));
        let fixed = if hidden.is_some() { 0 } else { bias };
        let stored = fp(fixed + (1i64 << self.bias_offset_bits));
        region.assign_fixed(self.bias, row, stored);
        let Some((a, h)) = self.hidden else {
            return Ok(None);
        };
        region.assign_fixed(h, row, fp(hidden.is_some() as i64));
        let v = hidden.unwrap_or(Value::known(Fr::zero()));
        let cell = FpCell::assign(region, a, row, v);
        Ok(hidden.map(|_| cell))
    }

    /// A pass row: `x_0 = a_j[row - 1 - j] + bias`. Assigns every advice cell of the row the gates
    /// read (unused accumulators as zero); returns the `x_0` cell.
    pub fn assign_pass(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        j: usize,
        bias: i64,
        value: Value<Fr>,
    ) -> Result<FpCell, Error> {
        Ok(self.assign_pass_with(region, row, j, bias, None, value)?.0)
    }

    /// [`Self::assign_pass`] with a private bias (see [`Self::enable`]); returns the output
    /// cell and the private bias cell.
    pub fn assign_pass_with(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        j: usize,
        bias: i64,
        hidden: Option<Value<Fr>>,
        value: Value<Fr>,
    ) -> Result<(FpCell, Option<FpCell>), Error> {
        let bias_cell = self.enable(region, row, j, true, bias, hidden)?;
        for col in &self.acc {
            FpCell::assign(region, *col, row, Value::known(Fr::zero()));
        }
        let out = FpCell::assign(region, self.x0, row, value);
        Ok((out, bias_cell))
    }
}
