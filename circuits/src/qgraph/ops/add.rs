//! An elementwise weighted sum of activations (residual Add, Sub, int8 QLinearAdd's exact sum).

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::lower::LowerCx;
use crate::qgraph::EvalError;

/// Bound on an [`QAdd`] coefficient's magnitude: an int8 sum's exact ratio of two float32 scales
/// needs up to 26 bits, and `2^26 * 2 * 128` stays inside the threshold maps' domain (`2^35`); a
/// float graph's coefficients are small powers of two.
pub const MAX_SUM_COEFF: i64 = 1 << 26;

/// An elementwise weighted sum of the layer's inputs, all of the output's length:
/// `y[e] = Σ_k coeffs[k] * x_k[e]` (Add, Sub; the coefficients are powers of two that align the
/// inputs' scales). Output at the finest input scale, an accumulator a rescale may follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QAdd {
    /// One coefficient per input.
    pub coeffs: Vec<i64>,
}

impl OpRules for QAdd {
    fn name(&self) -> &'static str {
        "add"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let big = self
            .coeffs
            .iter()
            .any(|c| c.unsigned_abs() >= MAX_SUM_COEFF as u64);
        if self.coeffs.is_empty() || big || cx.out.checked_mul(self.coeffs.len()) != Some(cx.len) {
            return Err(cx.invalid("an invalid sum"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let n = cx.n_out();
        (0..n)
            .map(|e| {
                let acc: i128 = self
                    .coeffs
                    .iter()
                    .enumerate()
                    .map(|(k, c)| *c as i128 * x[k * n + e] as i128)
                    .sum();
                cx.acc(e, acc)
            })
            .collect()
    }

    /// One block per `width` elements: each sum reads its element of every input.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let (n_out, coeffs) = (cx.n_out, &self.coeffs);
        let mut out = Vec::with_capacity(n_out);
        for outs in (0..n_out).collect::<Vec<_>>().chunks(cx.width) {
            let k = outs.len();
            let inputs = (0..coeffs.len())
                .flat_map(|t| outs.iter().map(move |e| t * n_out + e))
                .collect();
            let w = (0..k).map(|j| {
                (0..coeffs.len() * k)
                    .map(|i| coeffs[i / k] * (i % k == j) as i64)
                    .collect()
            });
            let tail = (cx.tail_for)(outs);
            out.extend(cx.b.block(inputs, w.collect(), vec![0; k], tail));
        }
        out
    }
}
