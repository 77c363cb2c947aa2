//! Max pooling (ONNX MaxPool, TFLite MAX_POOL_2D).

use serde::{Deserialize, Serialize};

use super::{window_work, CheckCx, EvalCx, OpRules};
use crate::circuit::chips::rescale::RescaleParams;
use crate::ir::geom::ConvGeom;
use crate::lower::{LowerCx, Tail};
use crate::qgraph::EvalError;

/// Max over each window (padding taps excluded), per channel (`geom.groups == geom.out_c`). Proven
/// as a chain of pairwise maxima `a + relu(b - a)`, so every difference must lie in the activation
/// range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QMaxPool {
    /// The windows: kernel, stride, padding and dilation (weights unused).
    pub geom: ConvGeom,
}

impl OpRules for QMaxPool {
    fn name(&self) -> &'static str {
        "maxpool"
    }

    fn work(&self, _out: usize) -> usize {
        window_work(&self.geom)
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let g = &self.geom;
        cx.geometry(g)?;
        if g.in_len() != cx.len
            || g.out_len_total() != cx.out
            || g.groups != g.out_c
            || g.in_c != g.out_c
        {
            return Err(cx.invalid("inconsistent sizes"));
        }
        if !g.windows_overlap_input() {
            return Err(cx.invalid("a pooling window over padding only"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let geom = &self.geom;
        let mut out = vec![0; geom.out_len_total()];
        for c in 0..geom.out_c {
            for oy in 0..geom.out_h {
                for ox in 0..geom.out_w {
                    let index = geom.out_index(c, oy, ox);
                    let patch = geom.patch(c, oy, ox);
                    let mut m = x[patch[0].0];
                    for (i, _) in &patch[1..] {
                        cx.range(index, x[*i] - m)?;
                        m = m.max(x[*i]);
                    }
                    out[index] = m;
                }
            }
        }
        Ok(out)
    }

    /// Two rows per pairwise maximum.
    fn min_rows(&self, out: usize, _fused: bool) -> usize {
        self.geom.macs().saturating_sub(out).saturating_mul(4)
    }

    /// A chain of pairwise maxima, `max(a, b) = a + relu(b - a)`, on the existing chips: one block
    /// computes `relu(b - a)` (a rescale row with shift 0), the next `a + relu(b - a)`.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let geom = &self.geom;
        let relu = || Tail::Rescale(vec![RescaleParams::relu(0)]);
        let mut out = vec![0; geom.out_len_total()];
        for c in 0..geom.out_c {
            for oy in 0..geom.out_h {
                for ox in 0..geom.out_w {
                    let patch = geom.patch(c, oy, ox);
                    let mut cur = patch[0].0;
                    for (t, _) in &patch[1..] {
                        let r =
                            cx.b.block(vec![cur, *t], vec![vec![-1, 1]], vec![0], relu())[0];
                        cur =
                            cx.b.block(vec![cur, r], vec![vec![1, 1]], vec![0], Tail::Pass)[0];
                    }
                    out[geom.out_index(c, oy, ox)] = cur;
                }
            }
        }
        out
    }
}
