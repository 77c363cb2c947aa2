//! A clip between bounds (ReLU6, Clip, Hardtanh).

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::lower::{clip_blocks, LowerCx};
use crate::qgraph::EvalError;

/// `y = min(max(x, lo), hi)` at the tensor's scale, proven as `lo + relu(x - lo) - relu(x - hi)`,
/// so `x - lo` and `x - hi` must lie in the activation range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QClip {
    /// Lower bound at the tensor's scale, if any.
    pub lo: Option<i64>,
    /// Upper bound at the tensor's scale, if any.
    pub hi: Option<i64>,
}

impl OpRules for QClip {
    fn name(&self) -> &'static str {
        "clip"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let big = |v: &Option<i64>| v.is_some_and(|v| v.unsigned_abs() >= 1 << 40);
        let inverted = matches!((self.lo, self.hi), (Some(a), Some(b)) if a > b);
        if cx.out != cx.len || big(&self.lo) || big(&self.hi) || inverted {
            return Err(cx.invalid("an invalid clip"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        x.iter()
            .enumerate()
            .map(|(index, &v)| {
                for bound in [self.lo, self.hi].into_iter().flatten() {
                    cx.range(index, v - bound)?;
                }
                Ok(v.max(self.lo.unwrap_or(i64::MIN))
                    .min(self.hi.unwrap_or(i64::MAX)))
            })
            .collect()
    }

    /// No rows without bounds (the identity).
    fn min_rows(&self, out: usize, _fused: bool) -> usize {
        match (self.lo, self.hi) {
            (None, None) => 0,
            _ => out,
        }
    }

    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let slots: Vec<usize> = (0..cx.n_out).collect();
        clip_blocks(cx.b, &slots, self.lo, self.hi, cx.width)
    }
}
