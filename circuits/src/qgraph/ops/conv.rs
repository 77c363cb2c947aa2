//! A convolution (ONNX Conv, ConvTranspose as a convolution, average pools as sums; TFLite CONV_2D,
//! DEPTHWISE_CONV_2D).

use serde::{Deserialize, Serialize};

use super::{window_work, CheckCx, EvalCx, OpRules};
use crate::ir::geom::ConvGeom;
use crate::lower::{BlockParams, LowerCx};
use crate::qgraph::EvalError;

/// A convolution: `acc = bias + Σ w * x` per output channel and position (see [`ConvGeom`]);
/// output at scale in_scale + weight_scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QConv {
    /// Channels, sizes, kernel, stride, padding, dilation and groups.
    pub geom: ConvGeom,
    /// Fractional bits of the weights: weight = quantized / 2^weight_scale.
    pub weight_scale: u32,
    /// `[out_c][in_c / groups][kh][kw]`.
    pub weight: Vec<i64>,
    /// One per output channel, at the accumulator's scale (in_scale + weight_scale).
    pub bias: Vec<i64>,
}

impl OpRules for QConv {
    fn name(&self) -> &'static str {
        "conv"
    }

    fn macs(&self) -> usize {
        self.geom.macs()
    }

    fn work(&self, _out: usize) -> usize {
        window_work(&self.geom)
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let g = &self.geom;
        cx.geometry(g)?;
        let big = |v: &i64| v.unsigned_abs() >= 1 << 40;
        if g.in_len() != cx.len
            || g.out_len_total() != cx.out
            || g.weight_len() != self.weight.len()
            || self.bias.len() != g.out_c
            || self.weight.iter().any(big)
            || self.bias.iter().any(big)
        {
            return Err(cx.invalid("inconsistent sizes"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let wide = |v: &[i64]| v.iter().map(|x| *x as i128).collect::<Vec<i128>>();
        self.geom
            .apply(&wide(x), &wide(&self.weight), &wide(&self.bias))
            .into_iter()
            .enumerate()
            .map(|(index, acc)| cx.acc(index, acc))
            .collect()
    }

    /// One block per output position, group and chunk of `width` output channels: the channels of
    /// a group share the position's patch.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let geom = &self.geom;
        let (weight_base, bias_base) = cx.params_base;
        let mut out = vec![0; geom.out_len_total()];
        let klen = geom.kernel_len();
        for g in 0..geom.groups {
            let channels: Vec<usize> =
                (g * geom.out_per_group()..(g + 1) * geom.out_per_group()).collect();
            for oy in 0..geom.out_h {
                for ox in 0..geom.out_w {
                    let patch = geom.patch(g, oy, ox);
                    let inputs: Vec<usize> = patch.iter().map(|(i, _)| *i).collect();
                    for chunk in channels.chunks(cx.width) {
                        let w = chunk.iter().map(|oc| {
                            patch
                                .iter()
                                .map(|(_, k)| self.weight[oc * klen + k])
                                .collect()
                        });
                        let bs = chunk.iter().map(|oc| self.bias[*oc]).collect();
                        let params = BlockParams {
                            weights: chunk
                                .iter()
                                .map(|oc| {
                                    patch
                                        .iter()
                                        .map(|(_, k)| weight_base + oc * klen + k)
                                        .collect()
                                })
                                .collect(),
                            bias: chunk.iter().map(|oc| bias_base + oc).collect(),
                        };
                        let idx: Vec<usize> =
                            chunk.iter().map(|oc| geom.out_index(*oc, oy, ox)).collect();
                        let tail = (cx.tail_for)(&idx);
                        let slots =
                            cx.b.param_block(inputs.clone(), w.collect(), bs, Some(params), tail);
                        for (o, slot) in idx.into_iter().zip(slots) {
                            out[o] = slot;
                        }
                    }
                }
            }
        }
        out
    }
}
