//! A rescale followed by a leaky ReLU or PReLU (one slope, or one per channel).

use serde::{Deserialize, Serialize};

use super::rescale::{link_rows, rescale_eval, rescale_lower};
use super::{per_channel, CheckCx, EvalCx, OpRules};
use crate::circuit::chips::rescale::RescaleParams;
use crate::lower::LowerCx;
use crate::qgraph::EvalError;

/// A rescale followed by a leaky ReLU: `y = q * 2^slope_bits` for `q >= 0`, else
/// `q * slopes[channel]` (slopes are numerators over `2^slope_bits`; one slope for all, or one per
/// channel of `channel_len` elements). The output gains `slope_bits` fractional bits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QRescaleLeaky {
    /// Bits dropped by the rounding division (at most the limb bits).
    pub shift: u32,
    /// Fractional bits of the slopes, added to the output's scale.
    pub slope_bits: u32,
    /// Negative-side slopes, as numerators over `2^slope_bits`: one, or one per channel.
    pub slopes: Vec<i64>,
    /// Elements per channel: element `i` takes slope `i / channel_len`.
    pub channel_len: usize,
}

impl QRescaleLeaky {
    /// The rescale row's parameters for element `index`.
    pub fn params(&self, index: usize) -> RescaleParams {
        let pos = 1i64 << self.slope_bits;
        let slope = per_channel(&self.slopes, self.channel_len, index).copied();
        RescaleParams {
            shift: self.shift,
            pos,
            cut: pos - slope.unwrap_or(0),
        }
    }
}

impl OpRules for QRescaleLeaky {
    fn name(&self) -> &'static str {
        "rescale+leaky"
    }

    fn stage_kind(&self) -> &'static str {
        "rescale"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let bad_slope = self.slopes.iter().any(|s| s.unsigned_abs() >= 1 << 24);
        if self.shift > cx.graph.limb_bits
            || cx.out != cx.len
            || self.slope_bits > 16
            || self.slopes.is_empty()
            || bad_slope
            || self.channel_len == 0
        {
            return Err(cx.invalid("an invalid leaky rescale"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        rescale_eval(cx, x, |i| self.params(i))
    }

    fn min_rows(&self, out: usize, fused: bool) -> usize {
        link_rows(out, fused)
    }

    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        rescale_lower(cx, |i| self.params(i))
    }
}
