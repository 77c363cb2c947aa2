//! Multiply-accumulate rows, inputs broadcast across accumulators.
//!
//! A row holds `P` inputs `x_p` (advice, equality-enabled: they arrive by copy) and `W` accumulators
//! `a_j` (advice, no equality: they leave by rotation, see [`super::link`]). Weights sit in `W * P`
//! fixed columns, stored with a positive offset so every fixed value is a small non-negative integer
//! (halo2's multi-exponentiation cost grows with the largest scalar in a column, and a negative weight
//! is a full-width field element). The gate, for every `j`:
//!
//! ```text
//! a_j[row] = chain * a_j[row - 1] + Σ_p x_p * (f_{j,p} - 2^o)
//! ```
//!
//! A block computes up to `W` outputs over the same `N` inputs in `ceil(N / P)` rows: `W * P`
//! multiply-accumulates per row for `P + W` advice cells.

use halo2_proofs::{
    circuit::{Region, Value},
    pasta::Fp,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector},
    poly::Rotation,
};

use super::FpCell;
use crate::field::{fp, pow2};

#[derive(Clone, Debug)]
pub struct MacConfig {
    pub x: Vec<Column<Advice>>,
    pub acc: Vec<Column<Advice>>,
    /// `f[j * P + p]`: weight of input `p` for accumulator `j`.
    pub f: Vec<Column<Fixed>>,
    pub chain: Column<Fixed>,
    pub selector: Selector,
    /// Weights are stored as `w + 2^weight_offset_bits`.
    pub weight_offset_bits: u32,
}

impl MacConfig {
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        x: Vec<Column<Advice>>,
        acc: Vec<Column<Advice>>,
        f: Vec<Column<Fixed>>,
        chain: Column<Fixed>,
        weight_offset_bits: u32,
    ) -> Self {
        let (p_len, w_len) = (x.len(), acc.len());
        assert_eq!(
            f.len(),
            p_len * w_len,
            "one weight column per (accumulator, input)"
        );
        let selector = meta.selector();
        meta.create_gate("multiply-accumulate row", |m| {
            let s = m.query_selector(selector);
            let chain = m.query_fixed(chain);
            let xs: Vec<Expression<Fp>> = x
                .iter()
                .map(|c| m.query_advice(*c, Rotation::cur()))
                .collect();
            let off = Expression::Constant(pow2(weight_offset_bits));
            (0..w_len)
                .map(|j| {
                    let cur = m.query_advice(acc[j], Rotation::cur());
                    let prev = m.query_advice(acc[j], Rotation::prev());
                    let mut sum = chain.clone() * prev;
                    for (p, xp) in xs.iter().enumerate() {
                        sum = sum + xp.clone() * (m.query_fixed(f[j * p_len + p]) - off.clone());
                    }
                    s.clone() * (cur - sum)
                })
                .collect::<Vec<_>>()
        });
        MacConfig {
            x,
            acc,
            f,
            chain,
            selector,
            weight_offset_bits,
        }
    }

    pub fn inputs_per_row(&self) -> usize {
        self.x.len()
    }

    pub fn width(&self) -> usize {
        self.acc.len()
    }

    /// Rows a block with `n` inputs takes.
    pub fn rows_for(inputs_per_row: usize, n: usize) -> usize {
        n.div_ceil(inputs_per_row).max(1)
    }

    /// The stored (offset) form of a weight.
    pub fn stored_weight(&self, w: i64) -> Fp {
        fp(w + (1i64 << self.weight_offset_bits))
    }

    /// Assign one row as given (no arithmetic): the building block, also used by negative tests.
    /// `weights[j][p]`; missing entries are zero weights, missing inputs are zeros.
    pub fn assign_row(
        &self,
        region: &mut Region<'_, Fp>,
        row: usize,
        xs: &[Value<Fp>],
        weights: &[Vec<i64>],
        chain: bool,
        accs: &[Value<Fp>],
    ) -> Result<Vec<FpCell>, Error> {
        self.selector.enable(region, row)?;
        let p_len = self.inputs_per_row();
        let mut x_cells = Vec::with_capacity(p_len);
        for p in 0..p_len {
            let xv = xs.get(p).copied().unwrap_or(Value::known(Fp::zero()));
            x_cells.push(region.assign_advice(|| "x", self.x[p], row, || xv)?);
        }
        for j in 0..self.width() {
            for p in 0..p_len {
                let w = weights.get(j).and_then(|r| r.get(p)).copied().unwrap_or(0);
                let stored = self.stored_weight(w);
                region.assign_fixed(|| "w", self.f[j * p_len + p], row, || Value::known(stored))?;
            }
            let a = accs.get(j).copied().unwrap_or(Value::known(Fp::zero()));
            region.assign_advice(|| "acc", self.acc[j], row, || a)?;
        }
        region.assign_fixed(
            || "chain",
            self.chain,
            row,
            || Value::known(fp(chain as i64)),
        )?;
        Ok(x_cells)
    }

    /// Assign a block from `start`: inputs `xs` (values when known), `weights[j][i]` for each output
    /// `j` over input `i`. Returns the input cells (one per input) and the final accumulator values.
    pub fn assign_block(
        &self,
        region: &mut Region<'_, Fp>,
        start: usize,
        n_inputs: usize,
        xs: Option<&[i64]>,
        weights: &[Vec<i64>],
    ) -> Result<(Vec<FpCell>, Vec<Option<i64>>), Error> {
        let p_len = self.inputs_per_row();
        let rows = Self::rows_for(p_len, n_inputs);
        let mut acc: Vec<i128> = vec![0; weights.len()];
        let mut inputs = Vec::with_capacity(n_inputs);
        for r in 0..rows {
            let lo = (r * p_len).min(n_inputs);
            let hi = ((r + 1) * p_len).min(n_inputs);
            let row_w: Vec<Vec<i64>> = weights.iter().map(|w| w[lo..hi].to_vec()).collect();
            let (x_vals, acc_vals) = match xs {
                Some(xs) => {
                    for (a, w) in acc.iter_mut().zip(&row_w) {
                        *a += crate::quant::linear_acc(0, w, &xs[lo..hi]);
                    }
                    let xv = xs[lo..hi].iter().map(|v| Value::known(fp(*v))).collect();
                    (
                        xv,
                        acc.iter().map(|a| Value::known(fp(*a as i64))).collect(),
                    )
                }
                None => (
                    vec![Value::unknown(); hi - lo],
                    vec![Value::unknown(); weights.len()],
                ),
            };
            let cells = self.assign_row(region, start + r, &x_vals, &row_w, r > 0, &acc_vals)?;
            inputs.extend(cells.into_iter().take(hi - lo));
        }
        let finals = acc.iter().map(|a| xs.map(|_| *a as i64)).collect();
        Ok((inputs, finals))
    }
}
