//! A non-decreasing map of an int32 accumulator by its thresholds: a runtime's float32
//! requantization (onnxruntime's), exactly.

use serde::{Deserialize, Serialize};

use super::rescale::link_rows;
use super::{channel_of, per_channel, CheckCx, EvalCx, OpRules};
use crate::artifacts::model_file::MAX_ELEMENTS;
use crate::lower::{identity_blocks, LowerCx, Tail};
use crate::qgraph::requant::REQUANT_LIMB_BITS;
use crate::qgraph::threshold::{OrtFloat, THRESHOLD_DOMAIN};
use crate::qgraph::{EvalError, ThresholdMap};

/// A non-decreasing map of an int32 accumulator by its thresholds (see
/// [`crate::qgraph::threshold`]): element `i` takes `maps[i / channel_len]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QThreshold {
    /// One map per channel (or one for all).
    pub maps: Vec<ThresholdMap>,
    /// Elements per map.
    pub channel_len: usize,
    /// How the prover picks between a map's alternatives: onnxruntime's float32 kernel over
    /// the inputs of the layer before (see [`OrtFloat`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ort: Option<OrtFloat>,
}

impl QThreshold {
    /// The map of element `index`.
    pub fn map(&self, index: usize) -> Option<&ThresholdMap> {
        per_channel(&self.maps, self.channel_len, index)
    }

    /// The index of element `index`'s map in [`Self::maps`].
    pub fn map_index(&self, index: usize) -> usize {
        channel_of(self.maps.len(), self.channel_len, index)
    }
}

impl OpRules for QThreshold {
    fn name(&self) -> &'static str {
        "threshold"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let maps = &self.maps;
        let covers = maps.len() == 1 || maps.len().checked_mul(self.channel_len) == Some(cx.out);
        if cx.out != cx.len
            || maps.is_empty()
            || self.channel_len == 0
            || !covers
            || cx.graph.limb_bits != REQUANT_LIMB_BITS
        {
            return Err(cx.invalid("invalid threshold maps"));
        }
        if let Some(why) = maps.iter().find_map(|m| m.validate().err()) {
            return Err(format!("layer '{}': a threshold map: {why}", cx.layer.name));
        }
        // Every interval and alternative is a table row the verifier builds.
        let rows: usize = maps
            .iter()
            .map(|m| m.thresholds.len() + 1 + m.alternatives.len())
            .sum();
        if rows > MAX_ELEMENTS {
            return Err(format!(
                "layer '{}': {rows} threshold table rows",
                cx.layer.name
            ));
        }
        Ok(())
    }

    /// The maps' own outputs; where the layer follows onnxruntime's float32 kernel, the evaluator
    /// then picks between a map's alternatives (see [`crate::qgraph::QuantGraph::eval_from`]).
    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        x.iter()
            .enumerate()
            .map(|(index, &acc)| {
                let map = self.map(index).expect("a threshold map");
                map.apply(acc).ok_or_else(|| {
                    let (min, max) = THRESHOLD_DOMAIN;
                    cx.out_of_range(index, acc, min, max)
                })
            })
            .collect()
    }

    fn min_rows(&self, out: usize, fused: bool) -> usize {
        link_rows(out, fused)
    }

    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let tags = cx.graph.threshold_tags(cx.index);
        let tail = |outs: &[usize]| Tail::Threshold(outs.iter().map(|o| tags(*o)).collect());
        identity_blocks(cx.b, cx.n_out, cx.width, &tail)
    }
}
