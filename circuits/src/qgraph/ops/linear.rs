//! A dense layer (ONNX Gemm and MatMul, TFLite FULLY_CONNECTED).

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::lower::{BlockParams, LowerCx};
use crate::qgraph::packed::PackedInts;
use crate::qgraph::{linear_acc, EvalError};

/// `acc[o] = bias[o] + sum_i weight[o][i] * x[i]`; output at scale in_scale + weight_scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QLinear {
    /// Length of the input vector.
    pub in_features: usize,
    /// Length of the output vector (rows of `weight`).
    pub out_features: usize,
    /// Fractional bits of the weights: weight = quantized / 2^weight_scale.
    pub weight_scale: u32,
    /// Row-major `[out][in]`, written packed ([`PackedInts`]).
    pub weight: PackedInts,
    /// One per output, at the accumulator's scale (in_scale + weight_scale).
    pub bias: Vec<i64>,
}

impl OpRules for QLinear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn macs(&self) -> usize {
        self.in_features * self.out_features
    }

    fn work(&self, _out: usize) -> usize {
        self.weight.len()
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let expected = self.in_features.checked_mul(self.out_features);
        let big = |v: &i64| v.unsigned_abs() >= 1 << 40;
        if self.weight.iter().any(big) || self.bias.iter().any(big) {
            return Err(cx.invalid("weights over 2^40"));
        }
        if self.in_features != cx.len
            || self.out_features != cx.out
            || expected != Some(self.weight.len())
            || self.bias.len() != self.out_features
        {
            return Err(cx.invalid("inconsistent sizes"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let n = self.in_features;
        (0..self.out_features)
            .map(|o| {
                cx.acc(
                    o,
                    linear_acc(self.bias[o], &self.weight[o * n..(o + 1) * n], x),
                )
            })
            .collect()
    }

    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let n = self.in_features;
        let (weight_base, bias_base) = cx.params_base;
        let mut out = Vec::with_capacity(self.out_features);
        for outs in (0..self.out_features).collect::<Vec<_>>().chunks(cx.width) {
            let w = outs
                .iter()
                .map(|o| self.weight[o * n..(o + 1) * n].to_vec());
            let bs = outs.iter().map(|o| self.bias[*o]).collect();
            let params = BlockParams {
                weights: outs
                    .iter()
                    .map(|o| {
                        let row = weight_base + o * n;
                        (row..row + n).map(Some).collect()
                    })
                    .collect(),
                bias: outs.iter().map(|o| bias_base + o).collect(),
            };
            let tail = (cx.tail_for)(outs);
            out.extend(cx.b.param_block((0..n).collect(), w.collect(), bs, Some(params), tail));
        }
        out
    }
}
