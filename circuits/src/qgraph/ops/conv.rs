//! A convolution (ONNX Conv, ConvTranspose as a convolution, average pools as sums; TFLite CONV_2D,
//! DEPTHWISE_CONV_2D).

use serde::{Deserialize, Serialize};

use super::{window_work, CheckCx, EvalCx, OpRules};
use crate::circuit::chips::mac::MacConfig;
use crate::ir::geom::ConvGeom;
use crate::lower::{BlockLayout, BlockParams, LowerCx};
use crate::qgraph::packed::PackedInts;
use crate::qgraph::EvalError;

/// A convolution: `acc = bias + Σ w * x` per output channel and position (see [`ConvGeom`]);
/// output at scale in_scale + weight_scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QConv {
    /// Channels, sizes, kernel, stride, padding, dilation and groups.
    pub geom: ConvGeom,
    /// Fractional bits of the weights: weight = quantized / 2^weight_scale.
    pub weight_scale: u32,
    /// `[out_c][in_c / groups][kh][kw]`, written packed ([`PackedInts`]).
    pub weight: PackedInts,
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

    /// One block per group, tile of output positions and chunk of output channels (see
    /// [`WindowTile`]): the block's sums share the union of their windows.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let geom = &self.geom;
        let tile = WindowTile::best(geom, cx.layout);
        let mut out = vec![0; geom.out_len_total()];
        let m = geom.out_per_group();
        for g in 0..geom.groups {
            let channels: Vec<usize> = (g * m..(g + 1) * m).collect();
            for ty in (0..geom.out_h).step_by(tile.h) {
                for tx in (0..geom.out_w).step_by(tile.w) {
                    let positions: Vec<(usize, usize)> = (ty..(ty + tile.h).min(geom.out_h))
                        .flat_map(|oy| (tx..(tx + tile.w).min(geom.out_w)).map(move |ox| (oy, ox)))
                        .collect();
                    for chunk in channels.chunks(tile.channels) {
                        self.lower_tile(cx, g, &positions, chunk, &mut out);
                    }
                }
            }
        }
        out
    }
}

impl QConv {
    /// The block of output channels `channels` (of group `g`) at `positions`, over the union of
    /// their windows; writes the slot of each of its sums into `out`.
    fn lower_tile(
        &self,
        cx: &mut LowerCx<'_>,
        g: usize,
        positions: &[(usize, usize)],
        channels: &[usize],
        out: &mut [usize],
    ) {
        let geom = &self.geom;
        let klen = geom.kernel_len();
        let (weight_base, bias_base) = cx.params_base;
        let patches: Vec<Vec<(usize, usize)>> = positions
            .iter()
            .map(|(oy, ox)| geom.patch(g, *oy, *ox))
            .collect();
        let mut inputs: Vec<usize> = patches.iter().flatten().map(|(i, _)| *i).collect();
        inputs.sort_unstable();
        inputs.dedup();
        // Sums position-major; each reads, at every input of the union, the weight of its channel
        // at that input's kernel offset in its window, or nothing.
        let sums: Vec<(usize, usize)> = (0..positions.len())
            .flat_map(|p| channels.iter().map(move |oc| (p, *oc)))
            .collect();
        let ids: Vec<Vec<Option<usize>>> = sums
            .iter()
            .map(|(p, oc)| {
                let mut at = vec![None; inputs.len()];
                for (i, k) in &patches[*p] {
                    let col = inputs.binary_search(i).expect("in the union");
                    at[col] = Some(oc * klen + k);
                }
                at
            })
            .collect();
        let weights = ids
            .iter()
            .map(|row| {
                row.iter()
                    .map(|w| w.map_or(0, |w| self.weight[w]))
                    .collect()
            })
            .collect();
        let params = BlockParams {
            weights: ids
                .iter()
                .map(|row| row.iter().map(|w| w.map(|w| weight_base + w)).collect())
                .collect(),
            bias: sums.iter().map(|(_, oc)| bias_base + oc).collect(),
        };
        let bias = sums.iter().map(|(_, oc)| self.bias[*oc]).collect();
        let idx: Vec<usize> = sums
            .iter()
            .map(|(p, oc)| geom.out_index(*oc, positions[*p].0, positions[*p].1))
            .collect();
        let tail = (cx.tail_for)(&idx);
        let slots = cx.b.param_block(inputs, weights, bias, Some(params), tail);
        for (o, slot) in idx.into_iter().zip(slots) {
            out[o] = slot;
        }
    }
}

/// What one block of a convolution covers: `h x w` neighbouring output positions and up to
/// `channels` output channels of one group, over the union of their windows. Without window tiles
/// (and for groups with at least `W` output channels) a tile is one position and `W` channels: the
/// channels share the position's patch. A depthwise convolution has one channel per group, so one
/// position per block would leave `W - 1` accumulators empty; a tile of positions fills them, and
/// neighbouring windows overlap, so the union is smaller than the windows together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WindowTile {
    /// Output rows per tile.
    pub h: usize,
    /// Output columns per tile.
    pub w: usize,
    /// Output channels per block (of one group).
    pub channels: usize,
}

impl WindowTile {
    /// The tile with the fewest rows for `geom` under `layout`: one position unless window tiles
    /// are on, a group has fewer than `W` output channels, and a larger tile takes fewer rows
    /// (ties keep the smaller tile).
    pub(crate) fn best(geom: &ConvGeom, layout: BlockLayout) -> Self {
        let single = WindowTile {
            h: 1,
            w: 1,
            channels: layout.width,
        };
        let m = geom.out_per_group();
        if !layout.window_tiles || m >= layout.width || m == 0 {
            return single;
        }
        let positions = layout.width / m;
        let mut best = (single.rows(geom, layout.inputs_per_row), single);
        for h in 1..=positions.min(geom.out_h) {
            for w in 1..=(positions / h).min(geom.out_w) {
                let tile = WindowTile { h, w, channels: m };
                let rows = tile.rows(geom, layout.inputs_per_row);
                if rows < best.0 {
                    best = (rows, tile);
                }
            }
        }
        best.1
    }

    /// Rows of the convolution's blocks with this tile (their multiply-accumulate rows at
    /// `inputs_per_row`, and one link row per sum), computed from the windows' extents on each axis
    /// (a tile's union of windows is its union of rows times its union of columns).
    pub(crate) fn rows(&self, geom: &ConvGeom, inputs_per_row: usize) -> usize {
        let spans = |a: usize, len: usize, step: usize| -> Vec<(usize, usize)> {
            (0..len)
                .step_by(step)
                .map(|t| {
                    let mut taps: Vec<usize> = (t..(t + step).min(len))
                        .flat_map(|o| geom.window_taps(a, o))
                        .collect();
                    taps.sort_unstable();
                    taps.dedup();
                    ((t + step).min(len) - t, taps.len())
                })
                .collect()
        };
        let m = geom.out_per_group();
        let chunks: Vec<usize> = (0..m)
            .collect::<Vec<_>>()
            .chunks(self.channels.max(1))
            .map(<[usize]>::len)
            .collect();
        let mut rows = 0usize;
        for (ny, uy) in spans(0, geom.out_h, self.h) {
            for (nx, ux) in spans(1, geom.out_w, self.w) {
                let inputs = geom.in_per_group() * uy * ux;
                for c in &chunks {
                    rows += MacConfig::rows_for(inputs_per_row, inputs) + ny * nx * c;
                }
            }
        }
        rows * geom.groups
    }
}
