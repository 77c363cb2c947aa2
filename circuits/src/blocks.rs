//! Lowering a quantized graph onto the circuit's units.
//!
//! A [`Stage`] is one layer of the graph (a Linear or Conv together with the Rescale that follows it,
//! a standalone Rescale, or a MaxPool). It is a small program of [`Block`]s over a *workspace*: slots
//! `0..n_in` hold the stage's input tensor, and each block writes its outputs into new slots. A block
//! computes up to `W` sums over one shared list of input slots, then one link row per sum (a rescale
//! row, or a pass row that exposes it). Row counts in [`crate::layout`] and assignment in
//! [`crate::circuit`] both walk these blocks, so they agree.

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
    /// Workspace slots read.
    pub inputs: Vec<usize>,
    /// `weights[j][i]`: weight of `inputs[i]` for sum `j`.
    pub weights: Vec<Vec<i64>>,
    pub bias: Vec<i64>,
    /// Workspace slots written, one per sum.
    pub outputs: Vec<usize>,
    pub tail: Tail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Index of the stage's first layer in the graph.
    pub first_layer: usize,
    /// Layers it covers (1 or 2).
    pub layers: usize,
    pub name: String,
    pub kind: &'static str,
    pub n_in: usize,
    /// Workspace size (inputs and every block output).
    pub slots: usize,
    /// The workspace slot of each element of the stage's output tensor.
    pub out: Vec<usize>,
    pub blocks: Vec<Block>,
    pub macs: usize,
}

impl Stage {
    pub fn rows(&self, inputs_per_row: usize) -> usize {
        self.blocks
            .iter()
            .map(|b| MacConfig::rows_for(inputs_per_row, b.inputs.len()) + b.outputs.len())
            .sum()
    }
}

/// Builds a stage's blocks, handing out workspace slots.
struct Builder {
    next: usize,
    blocks: Vec<Block>,
}

impl Builder {
    fn new(n_in: usize) -> Self {
        Builder {
            next: n_in,
            blocks: Vec::new(),
        }
    }

    /// Add a block; returns the slots of its sums.
    fn block(
        &mut self,
        inputs: Vec<usize>,
        weights: Vec<Vec<i64>>,
        bias: Vec<i64>,
        tail: Tail,
    ) -> Vec<usize> {
        let outputs: Vec<usize> = (self.next..self.next + weights.len()).collect();
        self.next += weights.len();
        self.blocks.push(Block {
            inputs,
            weights,
            bias,
            outputs: outputs.clone(),
            tail,
        });
        outputs
    }
}

/// Lower `graph` into stages with blocks of at most `width` sums.
pub fn lower(graph: &QuantGraph, width: usize) -> Vec<Stage> {
    let mut stages = Vec::new();
    let mut i = 0;
    let mut n_in = graph.input_len();
    while i < graph.layers.len() {
        let layer = &graph.layers[i];
        let next_rescale = match graph.layers.get(i + 1).map(|l| &l.op) {
            Some(QOp::Rescale { shift, relu }) => Some(RescaleParams {
                shift: *shift,
                relu: *relu,
            }),
            _ => None,
        };
        let fused =
            matches!(layer.op, QOp::Linear { .. } | QOp::Conv { .. }) && next_rescale.is_some();
        let tail = next_rescale
            .filter(|_| fused)
            .map(Tail::Rescale)
            .unwrap_or(Tail::Pass);
        let n_out = layer.out_shape.numel();
        let mut b = Builder::new(n_in);
        let (kind, out) = match &layer.op {
            QOp::Linear {
                in_features,
                out_features,
                weight,
                bias,
                ..
            } => {
                let mut out = Vec::with_capacity(n_out);
                for outs in (0..*out_features).collect::<Vec<_>>().chunks(width) {
                    let w = outs
                        .iter()
                        .map(|o| weight[o * in_features..(o + 1) * in_features].to_vec());
                    let bs = outs.iter().map(|o| bias[*o]).collect();
                    out.extend(b.block((0..*in_features).collect(), w.collect(), bs, tail));
                }
                ("linear", out)
            }
            QOp::Conv {
                geom, weight, bias, ..
            } => ("conv", conv_blocks(&mut b, geom, weight, bias, width, tail)),
            QOp::Rescale { shift, relu } => {
                let p = Tail::Rescale(RescaleParams {
                    shift: *shift,
                    relu: *relu,
                });
                let mut out = Vec::with_capacity(n_out);
                for outs in (0..n_out).collect::<Vec<_>>().chunks(width) {
                    let eye =
                        (0..outs.len()).map(|j| (0..outs.len()).map(|i| (i == j) as i64).collect());
                    out.extend(b.block(outs.to_vec(), eye.collect(), vec![0; outs.len()], p));
                }
                ("rescale", out)
            }
            QOp::MaxPool { geom } => ("maxpool", maxpool_blocks(&mut b, geom)),
        };
        let (layers, name, kind) = match tail {
            Tail::Rescale(p) if fused => (
                2,
                format!("{} + {}", layer.name, graph.layers[i + 1].name),
                if p.relu {
                    "linear+relu"
                } else {
                    "linear+rescale"
                },
            ),
            _ => (1, layer.name.clone(), kind),
        };
        stages.push(Stage {
            first_layer: i,
            layers,
            name,
            kind,
            n_in,
            slots: b.next,
            out,
            blocks: b.blocks,
            macs: layer.op.macs(),
        });
        i += layers;
        n_in = n_out;
    }
    stages
}

/// One block per output position, group and chunk of `width` output channels: the channels of a
/// group share the position's patch.
fn conv_blocks(
    b: &mut Builder,
    geom: &ConvGeom,
    weight: &[i64],
    bias: &[i64],
    width: usize,
    tail: Tail,
) -> Vec<usize> {
    let mut out = vec![0; geom.out_len_total()];
    let klen = geom.kernel_len();
    for g in 0..geom.groups {
        let channels: Vec<usize> =
            (g * geom.out_per_group()..(g + 1) * geom.out_per_group()).collect();
        for oy in 0..geom.out_h {
            for ox in 0..geom.out_w {
                let patch = geom.patch(g, oy, ox);
                for chunk in channels.chunks(width) {
                    let w = chunk
                        .iter()
                        .map(|oc| patch.iter().map(|(_, k)| weight[oc * klen + k]).collect());
                    let bs = chunk.iter().map(|oc| bias[*oc]).collect();
                    let slots = b.block(
                        patch.iter().map(|(i, _)| *i).collect(),
                        w.collect(),
                        bs,
                        tail,
                    );
                    for (oc, slot) in chunk.iter().zip(slots) {
                        out[geom.out_index(*oc, oy, ox)] = slot;
                    }
                }
            }
        }
    }
    out
}

/// Max pooling as a chain of pairwise maxima, `max(a, b) = a + relu(b - a)`, on the existing chips:
/// one block computes `relu(b - a)` (a rescale row with shift 0), the next `a + relu(b - a)`.
fn maxpool_blocks(b: &mut Builder, geom: &ConvGeom) -> Vec<usize> {
    let relu = Tail::Rescale(RescaleParams {
        shift: 0,
        relu: true,
    });
    let mut out = vec![0; geom.out_len_total()];
    for c in 0..geom.out_c {
        for oy in 0..geom.out_h {
            for ox in 0..geom.out_w {
                let patch = geom.patch(c, oy, ox);
                let mut cur = patch[0].0;
                for (t, _) in &patch[1..] {
                    let r = b.block(vec![cur, *t], vec![vec![-1, 1]], vec![0], relu)[0];
                    cur = b.block(vec![cur, r], vec![vec![1, 1]], vec![0], Tail::Pass)[0];
                }
                out[geom.out_index(c, oy, ox)] = cur;
            }
        }
    }
    out
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
