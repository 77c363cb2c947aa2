//! The sum or product of two int8 activations each mapped by its own table (TFLite's int8 ADD and
//! SUB: each input rescaled to a common scale with its own rounding, then summed; MUL: each input
//! less its zero point, then multiplied).

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::lower::{identity_blocks_of, LowerCx, Tail};
use crate::qgraph::EvalError;

/// Bound on a [`QTableSum`] table value's magnitude: the sum of two stays inside the threshold
/// maps' domain (`2^35`).
pub const MAX_TABLE_SUM_VALUE: i64 = 1 << 34;

/// Bound on a table value's magnitude when the two are multiplied: the product stays inside the
/// threshold maps' domain.
pub const MAX_TABLE_PRODUCT_VALUE: i64 = 1 << 17;

/// `y[e] = tables[0][x_0[e] - lo] + tables[1][x_1[e] - lo]` (or `*` with `product`), for inputs
/// in `[lo, lo + len)` (int8 values; the lookups prove the range). The tables carry the sum's
/// coefficients (a SUB's second table is negated). Output: an accumulator a requantization follows.
///
/// With a threshold after it and a layout that has table-sum rows, each element is one row: both
/// lookups, the sum and the threshold (see [`crate::circuit::chips::table_sum`]); otherwise each
/// input goes through function rows and a sum block adds them (a product row multiplies them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QTableSum {
    /// The first input value the tables cover.
    pub lo: i64,
    /// One table per input, one value per input value.
    pub tables: [Vec<i64>; 2],
    /// The two values are multiplied, not added (an int8 MUL). Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub product: bool,
}

impl QTableSum {
    /// `tables[k][x - lo]`, or `None` outside the table.
    pub fn value(&self, k: usize, x: i64) -> Option<i64> {
        let i = usize::try_from(x.checked_sub(self.lo)?).ok()?;
        self.tables[k].get(i).copied()
    }
}

impl OpRules for QTableSum {
    fn name(&self) -> &'static str {
        match self.product {
            true => "table-product",
            false => "table-sum",
        }
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let two = cx.graph.layer_inputs(cx.index).len() == 2;
        let len = self.tables[0].len();
        let bound = match self.product {
            true => MAX_TABLE_PRODUCT_VALUE,
            false => MAX_TABLE_SUM_VALUE,
        };
        let bad_table =
            |t: &Vec<i64>| t.len() != len || t.iter().any(|v| v.unsigned_abs() >= bound as u64);
        if !two
            || cx.out.checked_mul(2) != Some(cx.len)
            || len == 0
            || len > 1 << 16
            || self.tables.iter().any(bad_table)
            || self.lo.unsigned_abs() >= 1 << 40
        {
            return Err(cx.invalid("an invalid table sum"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let n = cx.n_out();
        let max = self.lo + self.tables[0].len() as i64;
        let look = |k: usize, index: usize| {
            let v = x[k * n + index];
            self.value(k, v)
                .ok_or_else(|| cx.out_of_range(k * n + index, v, self.lo, max))
        };
        (0..n)
            .map(|e| {
                let (u, v) = (look(0, e)? as i128, look(1, e)? as i128);
                cx.acc(e, if self.product { u * v } else { u + v })
            })
            .collect()
    }

    /// At least one row per output (a table-sum row).
    fn min_rows(&self, out: usize, _fused: bool) -> usize {
        out
    }

    /// With a threshold tail and table-sum rows: one table-sum block per output. Otherwise
    /// function rows for each input, then sum blocks of `width` outputs (product blocks, one per
    /// output, for a product).
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let n = cx.n_out;
        let tag = cx.graph.function_tag(cx.index);
        let tags = [tag, tag + 1];
        let fused = cx.layout.table_sums && matches!((cx.tail_for)(&[0]), Tail::Threshold(_));
        if fused {
            return (0..n)
                .map(|e| {
                    let tail = (cx.tail_for)(&[e]);
                    cx.b.table_sum([e, n + e], tags, self.product, tail)
                })
                .collect();
        }
        let mapped: Vec<Vec<usize>> = (0..2)
            .map(|k| {
                let slots: Vec<usize> = (k * n..(k + 1) * n).collect();
                identity_blocks_of(cx.b, &slots, cx.width, &|_| Tail::Function(tags[k]))
            })
            .collect();
        if self.product {
            return (0..n)
                .map(|e| {
                    let tail = (cx.tail_for)(&[e]);
                    cx.b.product(mapped[0][e], mapped[1][e], tail)
                })
                .collect();
        }
        let mut out = Vec::with_capacity(n);
        for outs in (0..n).collect::<Vec<_>>().chunks(cx.width) {
            let k = outs.len();
            let inputs = outs
                .iter()
                .map(|e| mapped[0][*e])
                .chain(outs.iter().map(|e| mapped[1][*e]))
                .collect();
            let w = (0..k).map(|j| (0..2 * k).map(|i| (i % k == j) as i64).collect());
            let tail = (cx.tail_for)(outs);
            out.extend(cx.b.block(inputs, w.collect(), vec![0; k], tail));
        }
        out
    }
}
