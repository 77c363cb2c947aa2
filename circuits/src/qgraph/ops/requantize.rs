//! An int8 requantization in its exact fixed-point form (TFLite's multipliers and shifts, average
//! pools' rounding division).

use serde::{Deserialize, Serialize};

use super::rescale::link_rows;
use super::{per_channel, CheckCx, EvalCx, OpRules};
use crate::lower::{identity_blocks, LowerCx, Tail};
use crate::qgraph::requant::{RequantRange, REQUANT_ACC_RANGE, REQUANT_LIMB_BITS};
use crate::qgraph::{EvalError, RequantStep, ThresholdMap};

use super::threshold::QThreshold;

/// An int8 requantization (see [`crate::qgraph::requant`]): `y = out_min + clamp(q - q_min, 0,
/// span)` with `q = floor((mul * x + add - [x < 0] * neg_add) / 2^60)`, the step of element `i`
/// being `steps[i / channel_len]`. The runtime's output quantization (a convolution's per-channel
/// multipliers, an average's rounding division) in one exact form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QRequant {
    /// One step per channel (or per element, or one for all).
    pub steps: Vec<RequantStep>,
    /// Elements per step.
    pub channel_len: usize,
}

impl QRequant {
    /// The step of element `index`.
    pub fn step(&self, index: usize) -> Option<RequantStep> {
        per_channel(&self.steps, self.channel_len, index).copied()
    }
}

impl QRequant {
    /// The same map as threshold maps (one per step): the output levels' first accumulators over
    /// [`crate::qgraph::threshold::THRESHOLD_DOMAIN`], which a threshold row proves with fewer lookups and cells than a
    /// requant row (at the price of a table row per level). Equal to [`RequantStep::apply`] wherever
    /// both are defined, since every step is non-decreasing; `None` when a step is not
    /// ([`RequantStep::is_monotone`]).
    pub fn as_threshold(&self) -> Option<QThreshold> {
        if !self.steps.iter().all(RequantStep::is_monotone) {
            return None;
        }
        let maps = self
            .steps
            .iter()
            .map(|s| {
                ThresholdMap::from_fn(&|acc| s.saturated(acc), (s.out_min, s.out_min + s.span))
            })
            .collect();
        Some(QThreshold {
            maps,
            channel_len: self.channel_len,
            ort: None,
        })
    }
}

impl OpRules for QRequant {
    fn name(&self) -> &'static str {
        "requant"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let big = |v: i128| v.unsigned_abs() >= 1 << 100;
        let bad_step = self.steps.iter().any(|s| {
            big(s.mul)
                || big(s.add)
                || big(s.neg_add)
                || !(0..1 << REQUANT_LIMB_BITS).contains(&s.span)
                || s.q_min.unsigned_abs() >= 1 << 40
                || s.out_min.unsigned_abs() >= 1 << 40
        });
        let covers =
            self.steps.len() == 1 || self.steps.len().checked_mul(self.channel_len) == Some(cx.out);
        if cx.out != cx.len
            || self.steps.is_empty()
            || self.channel_len == 0
            || !covers
            || bad_step
            || cx.graph.limb_bits != REQUANT_LIMB_BITS
        {
            return Err(cx.invalid("an invalid requantization"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        x.iter()
            .enumerate()
            .map(|(index, &acc)| {
                let step = self.step(index).expect("a requant step");
                step.apply(acc).map_err(|e| match e {
                    RequantRange::Accumulator(value) => {
                        let (min, max) = REQUANT_ACC_RANGE;
                        cx.out_of_range(index, value, min, max)
                    }
                    RequantRange::Quotient(value) => EvalError::Requant {
                        layer: cx.layer.name.clone(),
                        index,
                        value,
                    },
                })
            })
            .collect()
    }

    fn min_rows(&self, out: usize, fused: bool) -> usize {
        link_rows(out, fused)
    }

    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let step = |o: &usize| self.step(*o).expect("a requant step");
        let tail = |outs: &[usize]| Tail::Requant(outs.iter().map(step).collect());
        identity_blocks(cx.b, cx.n_out, cx.width, &tail)
    }
}
