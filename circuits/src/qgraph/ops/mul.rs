//! The elementwise product of two activations (gates: SiLU's `x * sigmoid(x)`, squeeze-and-excitation,
//! `x * x`).

use super::{CheckCx, EvalCx, OpRules};
use crate::lower::LowerCx;
use crate::qgraph::EvalError;

/// The elementwise product of the layer's two inputs, `y[e] = x_0[e] * x_1[e]` (Mul of two
/// activations); output at the sum of their scales, an accumulator a rescale may follow. No
/// payload: [`super::QOp::Mul`] is a unit variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QMul;

impl OpRules for QMul {
    fn name(&self) -> &'static str {
        "mul"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let two = cx.graph.layer_inputs(cx.index).len() == 2;
        if !two || cx.out.checked_mul(2) != Some(cx.len) {
            return Err(cx.invalid("an invalid product"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let n = cx.n_out();
        (0..n)
            .map(|e| cx.acc(e, x[e] as i128 * x[n + e] as i128))
            .collect()
    }

    /// A product row and a link row per output.
    fn min_rows(&self, out: usize, _fused: bool) -> usize {
        out.saturating_mul(2)
    }

    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let n = cx.n_out;
        (0..n)
            .map(|e| {
                let tail = (cx.tail_for)(&[e]);
                cx.b.product(e, n + e, tail)
            })
            .collect()
    }
}
