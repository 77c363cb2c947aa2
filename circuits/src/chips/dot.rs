//! Packed dot-product rows.
//!
//! A row holds `W` inputs `x_0..x_{W-1}` (advice, reached through copy constraints), `W` weights
//! `w_0..w_{W-1}` (fixed columns: public weights are part of the verifying key), a bias and a chain
//! flag (fixed), and an accumulator (advice). The gate is
//!
//! ```text
//! acc[row] = chain * acc[row - 1] + bias + Σ_j x_j * w_j
//! ```
//!
//! A neuron with `n` inputs takes `ceil(n / W)` rows: the first with `chain = 0` and the bias, the rest
//! chained. Advice cells per multiply-accumulate: `(W + 1) / W` plus padding.

use halo2_proofs::{
    circuit::{AssignedCell, Region, Value},
    pasta::Fp,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector},
    poly::Rotation,
};

use crate::field::fp;

#[derive(Clone, Debug)]
pub struct DotConfig {
    pub x: Vec<Column<Advice>>,
    pub acc: Column<Advice>,
    pub w: Vec<Column<Fixed>>,
    pub bias: Column<Fixed>,
    pub chain: Column<Fixed>,
    pub selector: Selector,
}

/// What one row assigns: the input cells (one per column, padding included) and the accumulator.
pub struct DotRow {
    pub x: Vec<AssignedCell<Fp, Fp>>,
    pub acc: AssignedCell<Fp, Fp>,
}

impl DotConfig {
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        x: Vec<Column<Advice>>,
        acc: Column<Advice>,
        w: Vec<Column<Fixed>>,
        bias: Column<Fixed>,
        chain: Column<Fixed>,
    ) -> Self {
        assert_eq!(x.len(), w.len(), "one weight column per input column");
        let selector = meta.selector();
        meta.create_gate("dot product row", |m| {
            let s = m.query_selector(selector);
            let acc_cur = m.query_advice(acc, Rotation::cur());
            let acc_prev = m.query_advice(acc, Rotation::prev());
            let chain = m.query_fixed(chain);
            let bias = m.query_fixed(bias);
            let mut sum: Expression<Fp> = chain * acc_prev + bias;
            for (xc, wc) in x.iter().zip(&w) {
                sum = sum + m.query_advice(*xc, Rotation::cur()) * m.query_fixed(*wc);
            }
            vec![s * (acc_cur - sum)]
        });
        DotConfig {
            x,
            acc,
            w,
            bias,
            chain,
            selector,
        }
    }

    pub fn width(&self) -> usize {
        self.x.len()
    }

    /// Rows a neuron with `n` inputs takes.
    pub fn rows_for(width: usize, n: usize) -> usize {
        n.div_ceil(width).max(1)
    }

    /// Assign one row as given (no arithmetic): the building block, also used by negative tests.
    #[allow(clippy::too_many_arguments)]
    pub fn assign_row(
        &self,
        region: &mut Region<'_, Fp>,
        row: usize,
        xs: &[Value<Fp>],
        ws: &[i64],
        bias: i64,
        chain: bool,
        acc: Value<Fp>,
    ) -> Result<DotRow, Error> {
        self.selector.enable(region, row)?;
        let mut x_cells = Vec::with_capacity(self.width());
        for j in 0..self.width() {
            let xv = xs.get(j).copied().unwrap_or(Value::known(Fp::zero()));
            let wv = fp(ws.get(j).copied().unwrap_or(0));
            x_cells.push(region.assign_advice(|| "x", self.x[j], row, || xv)?);
            region.assign_fixed(|| "w", self.w[j], row, || Value::known(wv))?;
        }
        region.assign_fixed(|| "bias", self.bias, row, || Value::known(fp(bias)))?;
        let chain_v = Value::known(fp(chain as i64));
        region.assign_fixed(|| "chain", self.chain, row, || chain_v)?;
        let acc = region.assign_advice(|| "acc", self.acc, row, || acc)?;
        Ok(DotRow { x: x_cells, acc })
    }

    /// Assign a neuron `bias + Σ w_i x_i` from `start`; `xs` are the input values when known.
    /// Returns the input cells (first `weights.len()` of them are real) and the final accumulator.
    pub fn assign_neuron(
        &self,
        region: &mut Region<'_, Fp>,
        start: usize,
        xs: Option<&[i64]>,
        weights: &[i64],
        bias: i64,
    ) -> Result<(Vec<AssignedCell<Fp, Fp>>, AssignedCell<Fp, Fp>), Error> {
        let n = weights.len();
        let width = self.width();
        let rows = Self::rows_for(width, n);
        let mut inputs = Vec::with_capacity(n);
        let mut acc_int: i128 = bias as i128;
        let mut last = None;
        for r in 0..rows {
            let lo = (r * width).min(n);
            let hi = ((r + 1) * width).min(n);
            let ws = &weights[lo..hi];
            let (x_vals, acc) = match xs {
                Some(xs) => {
                    let chunk = &xs[lo..hi];
                    acc_int += crate::quant::linear_acc(0, ws, chunk);
                    let vals = chunk.iter().map(|v| Value::known(fp(*v))).collect();
                    (vals, Value::known(fp(acc_int as i64)))
                }
                None => (vec![Value::unknown(); hi - lo], Value::unknown()),
            };
            let row_bias = if r == 0 { bias } else { 0 };
            let assigned = self.assign_row(region, start + r, &x_vals, ws, row_bias, r > 0, acc)?;
            inputs.extend(assigned.x.into_iter().take(hi - lo));
            last = Some(assigned.acc);
        }
        Ok((inputs, last.expect("a neuron has at least one row")))
    }
}
