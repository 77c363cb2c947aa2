//! Lowering a quantized graph onto the circuit's units.
//!
//! A [`Stage`] is one Linear layer (with the Rescale that follows it, if any) or a standalone Rescale.
//! It is made of [`Block`]s: up to `W` outputs computed over one shared list of inputs, followed by one
//! link row per output (a rescale row, or a pass row that exposes the sum). Row counts in
//! [`crate::layout`] and assignment in [`crate::circuit`] both walk these blocks, so they agree.

use crate::chips::mac::MacConfig;
use crate::chips::rescale::RescaleParams;
use crate::geom::ConvGeom;
use crate::quant::{QOp, QuantGraph};

/// What a block's link rows do with each sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    Rescale(RescaleParams),
    Pass,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Indices into the stage's input tensor.
    pub inputs: Vec<usize>,
    /// `weights[j][i]`: weight of `inputs[i]` for output `j`.
    pub weights: Vec<Vec<i64>>,
    pub bias: Vec<i64>,
    /// Indices into the stage's output tensor.
    pub outputs: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Index of the stage's first layer in the graph.
    pub first_layer: usize,
    /// Layers it covers (1 or 2).
    pub layers: usize,
    pub name: String,
    pub out_len: usize,
    pub tail: Tail,
    pub blocks: Vec<Block>,
    /// True when the stage's first layer is a standalone Rescale (identity sums).
    pub identity: bool,
}

impl Stage {
    pub fn rows(&self, inputs_per_row: usize) -> usize {
        self.blocks
            .iter()
            .map(|b| MacConfig::rows_for(inputs_per_row, b.inputs.len()) + b.outputs.len())
            .sum()
    }

    pub fn macs(&self) -> usize {
        if self.identity {
            return 0;
        }
        self.blocks
            .iter()
            .map(|b| b.inputs.len() * b.outputs.len())
            .sum()
    }
}

/// Lower `graph` into stages with blocks of at most `width` outputs.
pub fn lower(graph: &QuantGraph, width: usize) -> Vec<Stage> {
    let mut stages = Vec::new();
    let mut i = 0;
    while i < graph.layers.len() {
        let layer = &graph.layers[i];
        let next_rescale = match graph.layers.get(i + 1).map(|l| &l.op) {
            Some(QOp::Rescale { shift, relu }) => Some(RescaleParams {
                shift: *shift,
                relu: *relu,
            }),
            _ => None,
        };
        let (blocks, identity) = match &layer.op {
            QOp::Linear {
                in_features,
                out_features,
                weight,
                bias,
                ..
            } => (
                dense_blocks(*in_features, *out_features, weight, bias, width),
                false,
            ),
            QOp::Conv {
                geom, weight, bias, ..
            } => (conv_blocks(geom, weight, bias, width), false),
            QOp::Rescale { .. } => (identity_blocks(layer.out_shape.numel(), width), true),
        };
        let (layers, tail, name) = match (&layer.op, next_rescale) {
            (QOp::Rescale { shift, relu }, _) => (
                1,
                Tail::Rescale(RescaleParams {
                    shift: *shift,
                    relu: *relu,
                }),
                layer.name.clone(),
            ),
            (_, Some(p)) => (
                2,
                Tail::Rescale(p),
                format!("{} + {}", layer.name, graph.layers[i + 1].name),
            ),
            (_, None) => (1, Tail::Pass, layer.name.clone()),
        };
        let stage = Stage {
            first_layer: i,
            layers,
            name,
            out_len: layer.out_shape.numel(),
            tail,
            blocks,
            identity,
        };
        i += stage.layers;
        stages.push(stage);
    }
    stages
}

fn dense_blocks(
    n_in: usize,
    n_out: usize,
    weight: &[i64],
    bias: &[i64],
    width: usize,
) -> Vec<Block> {
    (0..n_out)
        .collect::<Vec<_>>()
        .chunks(width)
        .map(|outs| Block {
            inputs: (0..n_in).collect(),
            weights: outs
                .iter()
                .map(|o| weight[o * n_in..(o + 1) * n_in].to_vec())
                .collect(),
            bias: outs.iter().map(|o| bias[*o]).collect(),
            outputs: outs.to_vec(),
        })
        .collect()
}

/// One block per output position, group and chunk of `width` output channels: the channels of a
/// group share the position's patch.
fn conv_blocks(geom: &ConvGeom, weight: &[i64], bias: &[i64], width: usize) -> Vec<Block> {
    let mut blocks = Vec::new();
    let klen = geom.kernel_len();
    for g in 0..geom.groups {
        let channels: Vec<usize> =
            (g * geom.out_per_group()..(g + 1) * geom.out_per_group()).collect();
        for oy in 0..geom.out_h {
            for ox in 0..geom.out_w {
                let patch = geom.patch(g, oy, ox);
                for chunk in channels.chunks(width) {
                    blocks.push(Block {
                        inputs: patch.iter().map(|(i, _)| *i).collect(),
                        weights: chunk
                            .iter()
                            .map(|oc| patch.iter().map(|(_, k)| weight[oc * klen + k]).collect())
                            .collect(),
                        bias: chunk.iter().map(|oc| bias[*oc]).collect(),
                        outputs: chunk.iter().map(|oc| geom.out_index(*oc, oy, ox)).collect(),
                    });
                }
            }
        }
    }
    blocks
}

/// A standalone rescale: identity sums, each block's outputs over their own inputs.
fn identity_blocks(n: usize, width: usize) -> Vec<Block> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(width)
        .map(|outs| Block {
            inputs: outs.to_vec(),
            weights: (0..outs.len())
                .map(|j| (0..outs.len()).map(|i| (i == j) as i64).collect())
                .collect(),
            bias: vec![0; outs.len()],
            outputs: outs.to_vec(),
        })
        .collect()
}

/// Bits `b` such that `|v| < 2^b` for every weight and bias of the lowered graph: (weights, biases).
pub fn offset_bits(stages: &[Stage]) -> (u32, u32) {
    let bits = |m: u64| (64 - m.leading_zeros()).max(1);
    let mut wmax = 0u64;
    let mut bmax = 0u64;
    for b in stages.iter().flat_map(|s| &s.blocks) {
        wmax = b
            .weights
            .iter()
            .flatten()
            .fold(wmax, |m, w| m.max(w.unsigned_abs()));
        bmax = b.bias.iter().fold(bmax, |m, v| m.max(v.unsigned_abs()));
    }
    (bits(wmax), bits(bmax))
}
