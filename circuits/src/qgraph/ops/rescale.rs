//! A rounding shift of an accumulator, with a fused ReLU or not: how a float graph returns to its
//! activations' scale.

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::circuit::chips::rescale::RescaleParams;
use crate::lower::{identity_blocks, LowerCx, Tail};
use crate::qgraph::{rescale, EvalError};

/// `q = floor((x + 2^(shift-1)) / 2^shift)` (round half up), then `y = max(q, 0)` when `relu`.
/// `q` must lie in the activation range of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QRescale {
    /// Bits dropped: the output scale is the input's minus `shift` (at most the limb bits).
    pub shift: u32,
    /// Whether negative results are set to 0 (a fused ReLU).
    pub relu: bool,
}

impl QRescale {
    /// The rescale row's parameters (the same for every element).
    pub fn params(&self) -> RescaleParams {
        match self.relu {
            true => RescaleParams::relu(self.shift),
            false => RescaleParams::identity(self.shift),
        }
    }
}

/// A rescale's output: the rounded quotient, in the activation range, then activated.
pub(super) fn rescale_eval(
    cx: &EvalCx<'_>,
    x: &[i64],
    params: impl Fn(usize) -> RescaleParams,
) -> Result<Vec<i64>, EvalError> {
    x.iter()
        .enumerate()
        .map(|(i, &acc)| {
            let p = params(i);
            let q = rescale(acc, p.shift);
            cx.range(i, q)?;
            Ok(p.activate(q))
        })
        .collect()
}

/// A rescale's rows alone: identity blocks whose link rows rescale.
pub(super) fn rescale_lower(
    cx: &mut LowerCx<'_>,
    params: impl Fn(usize) -> RescaleParams,
) -> Vec<usize> {
    let tail = |outs: &[usize]| Tail::Rescale(outs.iter().map(|o| params(*o)).collect());
    identity_blocks(cx.b, cx.n_out, cx.width, &tail)
}

/// No rows of its own after a sum (its link rows do it).
pub(super) fn link_rows(out: usize, fused: bool) -> usize {
    match fused {
        true => 0,
        false => out,
    }
}

impl OpRules for QRescale {
    fn name(&self) -> &'static str {
        match self.relu {
            true => "rescale+relu",
            false => "rescale",
        }
    }

    fn stage_kind(&self) -> &'static str {
        "rescale"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        if self.shift > cx.graph.limb_bits || cx.out != cx.len {
            return Err(cx.invalid("an invalid rescale"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        rescale_eval(cx, x, |_| self.params())
    }

    fn min_rows(&self, out: usize, fused: bool) -> usize {
        link_rows(out, fused)
    }

    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        rescale_lower(cx, |_| self.params())
    }
}
