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
//!
//! With hashed weights ([`HiddenWeights`]) the weights of a Linear or Conv block are private: each
//! term's weight becomes `(f_{j,p} - 2^o) + h * a_{j,p}`, with `a` advice (equality-enabled, copied
//! from the range-checked and hashed parameter cells) and `h` a fixed flag that is 1 on those rows
//! (their `f` then hold a zero weight). Rows of the lowering's own constants keep `h = 0`.

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector},
    poly::Rotation,
};

use super::FpCell;
use crate::field::{fp, pow2};

/// Advice weight columns and their flag (hashed weights).
#[derive(Clone, Debug)]
pub struct HiddenWeights {
    /// `a[j * P + p]`, beside `f[j * P + p]`.
    pub a: Vec<Column<Advice>>,
    /// 1 where the row's weights (multiply-accumulate rows) or bias (link rows) are parameters.
    pub h: Column<Fixed>,
}

/// The weights of one block: fixed values, or private parameters (assigned when `known`, i.e. when
/// proving).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockWeights {
    /// Constants in the fixed columns.
    Fixed,
    /// Private parameters in the advice weight columns (see [`HiddenWeights`]).
    Hidden {
        /// Whether their values are assigned (proving), or unknown (key generation).
        known: bool,
    },
}

/// The cells of an assigned block.
#[derive(Clone, Debug, Default)]
pub struct BlockCells {
    /// One per input.
    pub inputs: Vec<FpCell>,
    /// The last row's inputs past the block's end (zeros).
    pub padding: Vec<FpCell>,
    /// `weights[j][i]`: the advice weight of input `i` for sum `j` (hidden weights only).
    pub weights: Vec<Vec<FpCell>>,
}

/// The columns and gate of multiply-accumulate rows.
#[derive(Clone, Debug)]
pub struct MacConfig {
    /// The `P` input columns `x_p` (equality-enabled).
    pub x: Vec<Column<Advice>>,
    /// The `W` accumulator columns `a_j` (no equality: read by rotation).
    pub acc: Vec<Column<Advice>>,
    /// `f[j * P + p]`: weight of input `p` for accumulator `j`.
    pub f: Vec<Column<Fixed>>,
    /// 0 on a block's first row (its sums start there), 1 on the rows that continue them (also
    /// chains pack rows).
    pub chain: Column<Fixed>,
    /// Enables the gate on multiply-accumulate rows.
    pub selector: Selector,
    /// Weights are stored as `w + 2^weight_offset_bits`.
    pub weight_offset_bits: u32,
    /// Advice weight columns and their flag (hashed weights only).
    pub hidden: Option<HiddenWeights>,
}

impl MacConfig {
    /// Create the multiply-accumulate gate over these columns.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        x: Vec<Column<Advice>>,
        acc: Vec<Column<Advice>>,
        f: Vec<Column<Fixed>>,
        chain: Column<Fixed>,
        weight_offset_bits: u32,
        hidden: Option<HiddenWeights>,
    ) -> Self {
        let (p_len, w_len) = (x.len(), acc.len());
        if let Some(h) = &hidden {
            assert_eq!(h.a.len(), f.len(), "one advice weight column per fixed one");
        }
        assert_eq!(
            f.len(),
            p_len * w_len,
            "one weight column per (accumulator, input)"
        );
        let selector = meta.selector();
        meta.create_gate("multiply-accumulate row", |m| {
            let s = m.query_selector(selector);
            let chain = m.query_fixed(chain, Rotation::cur());
            let xs: Vec<Expression<Fr>> = x
                .iter()
                .map(|c| m.query_advice(*c, Rotation::cur()))
                .collect();
            let off = Expression::Constant(pow2(weight_offset_bits));
            let flag = hidden.as_ref().map(|h| m.query_fixed(h.h, Rotation::cur()));
            (0..w_len)
                .map(|j| {
                    let cur = m.query_advice(acc[j], Rotation::cur());
                    let prev = m.query_advice(acc[j], Rotation::prev());
                    let mut sum = chain.clone() * prev;
                    for (p, xp) in xs.iter().enumerate() {
                        let c = j * p_len + p;
                        let mut w = m.query_fixed(f[c], Rotation::cur()) - off.clone();
                        if let (Some(h), Some(flag)) = (&hidden, &flag) {
                            w = w + flag.clone() * m.query_advice(h.a[c], Rotation::cur());
                        }
                        sum = sum + xp.clone() * w;
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
            hidden,
        }
    }

    /// `P`: inputs per row.
    pub fn inputs_per_row(&self) -> usize {
        self.x.len()
    }

    /// `W`: accumulators per row.
    pub fn width(&self) -> usize {
        self.acc.len()
    }

    /// Rows a block with `n` inputs takes.
    pub fn rows_for(inputs_per_row: usize, n: usize) -> usize {
        n.div_ceil(inputs_per_row).max(1)
    }

    /// The stored (offset) form of a weight.
    pub fn stored_weight(&self, w: i64) -> Fr {
        fp(w + (1i64 << self.weight_offset_bits))
    }

    /// Assign one row as given (no arithmetic): the building block, also used by negative tests.
    /// `weights[j][p]`; missing entries are zero weights, missing inputs are zeros.
    pub fn assign_row(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        xs: &[Value<Fr>],
        weights: &[Vec<i64>],
        chain: bool,
        accs: &[Value<Fr>],
    ) -> Result<Vec<FpCell>, Error> {
        Ok(self
            .assign_row_with(region, row, xs, weights, None, chain, accs)?
            .0)
    }

    /// [`Self::assign_row`], with private weights when `hidden` is given (`hidden[j][p]`, missing
    /// entries zero; `weights` is then ignored). Returns the `P` input cells and, when hidden, the
    /// `W * P` advice weight cells (`[j][p]`).
    #[allow(clippy::too_many_arguments)]
    pub fn assign_row_with(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        xs: &[Value<Fr>],
        weights: &[Vec<i64>],
        hidden: Option<&[Vec<Value<Fr>>]>,
        chain: bool,
        accs: &[Value<Fr>],
    ) -> Result<(Vec<FpCell>, Vec<Vec<FpCell>>), Error> {
        self.selector.enable(region, row)?;
        let p_len = self.inputs_per_row();
        let mut x_cells = Vec::with_capacity(p_len);
        for p in 0..p_len {
            let xv = xs.get(p).copied().unwrap_or(Value::known(Fr::zero()));
            x_cells.push(FpCell::assign(region, self.x[p], row, xv));
        }
        let mut a_cells = Vec::new();
        if let Some(h) = &self.hidden {
            region.assign_fixed(h.h, row, fp(hidden.is_some() as i64));
            for j in 0..self.width() {
                let mut cells = Vec::with_capacity(p_len);
                for p in 0..p_len {
                    let v = hidden
                        .and_then(|w| w.get(j))
                        .and_then(|r| r.get(p))
                        .copied()
                        .unwrap_or(Value::known(Fr::zero()));
                    cells.push(FpCell::assign(region, h.a[j * p_len + p], row, v));
                }
                a_cells.push(cells);
            }
        }
        for j in 0..self.width() {
            for p in 0..p_len {
                let w = match hidden {
                    Some(_) => 0,
                    None => weights.get(j).and_then(|r| r.get(p)).copied().unwrap_or(0),
                };
                let stored = self.stored_weight(w);
                region.assign_fixed(self.f[j * p_len + p], row, stored);
            }
            let a = accs.get(j).copied().unwrap_or(Value::known(Fr::zero()));
            FpCell::assign(region, self.acc[j], row, a);
        }
        region.assign_fixed(self.chain, row, fp(chain as i64));
        Ok((x_cells, a_cells))
    }

    /// Assign a block from `start`: inputs `xs` (values when known), `weights[j][i]` for each output
    /// `j` over input `i`, fixed or private (`weights` holds their values either way; private ones
    /// are assigned only when `BlockWeights::Hidden` says they are known). Returns the block's cells
    /// and the final accumulator values.
    pub fn assign_block(
        &self,
        region: &mut Region<'_, Fr>,
        start: usize,
        n_inputs: usize,
        xs: Option<&[i64]>,
        weights: &[Vec<i64>],
        kind: BlockWeights,
    ) -> Result<(BlockCells, Vec<Option<i64>>), Error> {
        let p_len = self.inputs_per_row();
        let rows = Self::rows_for(p_len, n_inputs);
        let mut acc: Vec<i128> = vec![0; weights.len()];
        let mut cells = BlockCells {
            inputs: Vec::with_capacity(n_inputs),
            padding: Vec::new(),
            weights: vec![Vec::with_capacity(n_inputs); weights.len()],
        };
        for r in 0..rows {
            let lo = (r * p_len).min(n_inputs);
            let hi = ((r + 1) * p_len).min(n_inputs);
            let row_w: Vec<Vec<i64>> = weights.iter().map(|w| w[lo..hi].to_vec()).collect();
            let (x_vals, acc_vals) = match xs {
                Some(xs) => {
                    for (a, w) in acc.iter_mut().zip(&row_w) {
                        *a += crate::qgraph::linear_acc(0, w, &xs[lo..hi]);
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
            let hidden: Option<Vec<Vec<Value<Fr>>>> = match kind {
                BlockWeights::Fixed => None,
                BlockWeights::Hidden { known } => Some(
                    row_w
                        .iter()
                        .map(|w| {
                            w.iter()
                                .map(|v| match known {
                                    true => Value::known(fp(*v)),
                                    false => Value::unknown(),
                                })
                                .collect()
                        })
                        .collect(),
                ),
            };
            let (x_cells, a_cells) = self.assign_row_with(
                region,
                start + r,
                &x_vals,
                &row_w,
                hidden.as_deref(),
                r > 0,
                &acc_vals,
            )?;
            let mut x_cells = x_cells.into_iter();
            cells.inputs.extend(x_cells.by_ref().take(hi - lo));
            cells.padding.extend(x_cells);
            if hidden.is_some() {
                for (j, row) in a_cells.into_iter().take(weights.len()).enumerate() {
                    cells.weights[j].extend(row.into_iter().take(hi - lo));
                }
            }
        }
        if kind == BlockWeights::Fixed {
            cells.weights.clear();
        }
        let finals = acc.iter().map(|a| xs.map(|_| *a as i64)).collect();
        Ok((cells, finals))
    }
}
