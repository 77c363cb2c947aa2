//! Lowering a quantized graph onto the circuit's units.
//!
//! A [`Stage`] is one layer of the graph (a Linear or Conv together with the Rescale that follows it,
//! a standalone Rescale, or a MaxPool). It is a small program of [`Block`]s over a *workspace*: slots
//! `0..n_in` hold the stage's input tensor, and each block writes its outputs into new slots. A block
//! computes up to `W` sums over one shared list of input slots, then one link row per sum (a rescale
//! row, or a pass row that exposes it). Row counts in [`crate::plan`] and assignment in
//! [`crate::circuit`] both walk these blocks, so they agree.

use crate::circuit::chips::mac::MacConfig;
use crate::circuit::chips::rescale::RescaleParams;
use crate::circuit::CircuitShape;
use crate::qgraph::{QOp, QRescale, QuantGraph, RequantStep};

/// What a block's link rows do with each sum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tail {
    /// Rescale each sum, with its own parameters (one per output).
    Rescale(Vec<RescaleParams>),
    /// Requantize each sum (int8), with its own step (one per output).
    Requant(Vec<RequantStep>),
    /// Map each sum by thresholds: the threshold table's tag of each output.
    Threshold(Vec<i64>),
    /// Look each sum up in the function table under this tag.
    Function(i64),
    /// Expose each sum as is, in the equality-enabled `x_0` (a pass row).
    Pass,
}

/// A group of up to `W` sums over one shared list of workspace slots: its multiply-accumulate rows,
/// then one link row per sum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Workspace slots read.
    pub inputs: Vec<usize>,
    /// `weights[j][i]`: weight of `inputs[i]` for sum `j`.
    pub weights: Vec<Vec<i64>>,
    /// `bias[j]`: the constant its link row adds to sum `j` (a model bias, a bound, or 0).
    pub bias: Vec<i64>,
    /// Where the weights and biases come from, for a Linear or Conv block: indices into
    /// [`QuantGraph::params`]. `None`: they are constants of the lowering (identity, ±1, bounds).
    pub params: Option<BlockParams>,
    /// Workspace slots written, one per sum.
    pub outputs: Vec<usize>,
    /// What the link rows do with each sum.
    pub tail: Tail,
    /// A product block: one sum, `inputs[0] * inputs[1]`, in one product row (weights unused).
    pub product: bool,
    /// A table-sum block: one sum, `f_a(inputs[0]) + f_b(inputs[1])` (a product with `product`)
    /// with `f_a`, `f_b` the function table's entries under these tags, in the row of its
    /// threshold tail (weights unused; see [`crate::circuit::chips::table_sum`]).
    pub table_sum: Option<[i64; 2]>,
}

impl Block {
    /// Rows the block takes with `inputs_per_row` inputs per multiply-accumulate row: its
    /// multiply-accumulate rows and one link row per sum, or one row for a table sum.
    pub fn rows(&self, inputs_per_row: usize) -> usize {
        match self.table_sum {
            Some(_) => 1,
            None => MacConfig::rows_for(inputs_per_row, self.inputs.len()) + self.outputs.len(),
        }
    }
}

/// The model parameters a block uses (indices into the graph's weights and biases).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockParams {
    /// `weights[j][i]`: the weight parameter of `inputs[i]` for sum `j`; `None` where the sum does
    /// not read that input (a window tile's block: its weight is a zero, pinned as one).
    pub weights: Vec<Vec<Option<usize>>>,
    /// The bias parameter of sum `j`.
    pub bias: Vec<usize>,
}

/// One layer of the graph on the circuit (a Linear or Conv with the Rescale it is fused with, or a
/// standalone layer), as a program of blocks over a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Index of the stage's first layer in the graph.
    pub first_layer: usize,
    /// Layers it covers (1 or 2).
    pub layers: usize,
    /// The tensors it reads (ids as in [`crate::qgraph::QLayer::inputs`]): workspace slots
    /// `0..n_in` hold their concatenation.
    pub inputs: Vec<usize>,
    /// The tensor its output is (`first_layer + layers`).
    pub output: usize,
    /// Name of the layer, or `a + b` for a Linear or Conv fused with its rescale.
    pub name: String,
    /// Kind of rows (`linear+relu`, `conv`, `maxpool`, `remap`, `expose`, ...).
    pub kind: &'static str,
    /// Elements of the stage's input tensors: workspace slots `0..n_in`.
    pub n_in: usize,
    /// Workspace size (inputs and every block output).
    pub slots: usize,
    /// The workspace slot of each element of the stage's output tensor.
    pub out: Vec<usize>,
    /// The stage's blocks, in row order.
    pub blocks: Vec<Block>,
    /// Multiply-accumulates of the layer (0 but for Linear and Conv).
    pub macs: usize,
}

impl Stage {
    /// Rows the stage's blocks take with `inputs_per_row` inputs per multiply-accumulate row.
    pub fn rows(&self, inputs_per_row: usize) -> usize {
        self.blocks.iter().map(|b| b.rows(inputs_per_row)).sum()
    }
}

/// What the lowering needs of the circuit's shape: the size of a block's rows, and whether a grouped
/// convolution may share one block between several output positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLayout {
    /// `P`: inputs per multiply-accumulate row.
    pub inputs_per_row: usize,
    /// `W`: sums per block.
    pub width: usize,
    /// Whether a convolution whose groups have fewer output channels than `W` (depthwise, average
    /// pools) may put a tile of neighbouring output positions in one block, over the union of their
    /// windows (see [`crate::qgraph::ops::conv`]). Model files written before it was added lower
    /// one position per block.
    pub window_tiles: bool,
    /// Whether a table sum followed by a threshold takes one table-sum row per element (see
    /// [`crate::circuit::chips::table_sum`]); new layouts have them where the rows have the cells
    /// ([`Self::fits_table_sums`]).
    pub table_sums: bool,
}

impl BlockLayout {
    /// The layout new circuits use: `P`, `W`, window tiles on, table-sum rows where they fit.
    pub fn new(inputs_per_row: usize, width: usize) -> Self {
        BlockLayout {
            inputs_per_row,
            width,
            window_tiles: true,
            table_sums: Self::fits_table_sums(inputs_per_row, width),
        }
    }

    /// Whether rows of `P` inputs and `W` accumulators hold a table-sum row whatever the threshold
    /// limbs (see [`crate::circuit::chips::table_sum::TableSumConfig::fits`]).
    pub fn fits_table_sums(inputs_per_row: usize, width: usize) -> bool {
        use crate::circuit::chips::{table_sum::TableSumConfig, threshold::ThresholdLimbs};
        TableSumConfig::fits(inputs_per_row, width, ThresholdLimbs::Narrow)
    }

    /// The layout of a circuit of this shape.
    pub fn of(shape: &CircuitShape) -> Self {
        BlockLayout {
            inputs_per_row: shape.inputs_per_row,
            width: shape.width,
            window_tiles: shape.window_tiles,
            table_sums: shape.table_sums,
        }
    }
}

/// Builds a stage's blocks, handing out workspace slots.
pub(crate) struct Builder {
    next: usize,
    blocks: Vec<Block>,
}

/// What an op's lowering reads and writes (see [`crate::qgraph::ops::OpRules::lower`]).
pub(crate) struct LowerCx<'a> {
    /// The stage's blocks so far.
    pub b: &'a mut Builder,
    /// The graph.
    pub graph: &'a QuantGraph,
    /// The layer's index.
    pub index: usize,
    /// Elements of the layer's output.
    pub n_out: usize,
    /// Sums per block.
    pub width: usize,
    /// The block layout (`width` is its `W`).
    pub layout: BlockLayout,
    /// Where the layer's weights and biases start in [`QuantGraph::params`] (a Linear or Conv).
    pub params_base: (usize, usize),
    /// The link rows' tail for a block's sums (outputs `outs`): a fused rescale or
    /// requantization's, or a pass.
    pub tail_for: &'a dyn Fn(&[usize]) -> Tail,
}

impl Builder {
    fn new(n_in: usize) -> Self {
        Builder {
            next: n_in,
            blocks: Vec::new(),
        }
    }

    /// Add a block; returns the slots of its sums.
    pub(crate) fn block(
        &mut self,
        inputs: Vec<usize>,
        weights: Vec<Vec<i64>>,
        bias: Vec<i64>,
        tail: Tail,
    ) -> Vec<usize> {
        self.param_block(inputs, weights, bias, None, tail)
    }

    /// Add a block whose weights and biases are model parameters.
    pub(crate) fn param_block(
        &mut self,
        inputs: Vec<usize>,
        weights: Vec<Vec<i64>>,
        bias: Vec<i64>,
        params: Option<BlockParams>,
        tail: Tail,
    ) -> Vec<usize> {
        let outputs: Vec<usize> = (self.next..self.next + weights.len()).collect();
        self.next += weights.len();
        self.blocks.push(Block {
            inputs,
            weights,
            bias,
            params,
            outputs: outputs.clone(),
            tail,
            product: false,
            table_sum: None,
        });
        outputs
    }

    /// Add a product block `a * b`; returns the slot of the product.
    pub(crate) fn product(&mut self, a: usize, b: usize, tail: Tail) -> usize {
        let out = self.param_block(vec![a, b], vec![vec![0, 0]], vec![0], None, tail)[0];
        self.blocks.last_mut().expect("just pushed").product = true;
        out
    }

    /// Add a table-sum block `f_a(a) + f_b(b)` (or `f_a(a) * f_b(b)` with `product`; function tags
    /// `tags`); returns the slot of the result.
    pub(crate) fn table_sum(
        &mut self,
        [a, b]: [usize; 2],
        tags: [i64; 2],
        product: bool,
        tail: Tail,
    ) -> usize {
        let out = self.param_block(vec![a, b], vec![vec![0, 0]], vec![0], None, tail)[0];
        let block = self.blocks.last_mut().expect("just pushed");
        block.table_sum = Some(tags);
        block.product = product;
        out
    }
}

/// Lower `graph` into stages with blocks laid out as `layout` says (at most `W` sums each).
pub fn lower(graph: &QuantGraph, layout: BlockLayout) -> Vec<Stage> {
    let width = layout.width;
    let mut stages = Vec::new();
    let mut i = 0;
    // Per tensor id: which elements are still graph inputs (through remaps only); `None` for an
    // accumulator that a fused rescale consumed.
    let mut from_input: Vec<Option<Vec<bool>>> = vec![None; graph.layers.len() + 1];
    from_input[0] = Some(vec![true; graph.input_len()]);
    // Tensors some layer reads other than the next one (a residual source, a Concat branch).
    let mut read_later = vec![false; graph.layers.len() + 1];
    for (l, _) in graph.layers.iter().enumerate() {
        for t in graph.layer_inputs(l) {
            if t != l {
                read_later[t] = true;
            }
        }
    }
    // Where the next Linear or Conv layer's parameters start in `QuantGraph::params`.
    let (mut weight_base, mut bias_base) = (0usize, 0usize);
    while i < graph.layers.len() {
        let layer = &graph.layers[i];
        // A Linear or Conv followed by a rescale is one stage: the rescale happens in its link rows.
        let next_layer = graph.layers.get(i + 1);
        let next = next_layer.map(|l| &l.op);
        // ... unless another layer also reads the accumulator, which then needs cells of its own.
        let fused = layer.op.is_sum()
            && next.is_some_and(|n| n.rescale_params(0).is_some() || n.is_requant())
            && next_layer.is_some_and(|n| n.inputs.is_empty() || n.inputs == [i + 1])
            && !read_later[i + 1];
        let inputs = graph.layer_inputs(i);
        let n_in: usize = inputs.iter().map(|t| graph.tensor_len(*t)).sum();
        // The tags of a fused threshold layer's maps, counted once per layer.
        let next_tags =
            matches!(next, Some(QOp::Threshold(_))).then(|| graph.threshold_tags(i + 1));
        let tail_for = |outs: &[usize]| match next {
            Some(n @ QOp::Requant(_)) if fused => Tail::Requant(
                outs.iter()
                    .map(|o| n.requant_step(*o).expect("a requant"))
                    .collect(),
            ),
            Some(QOp::Threshold(_)) if fused => {
                let tags = next_tags.as_ref().expect("a threshold layer's tags");
                Tail::Threshold(outs.iter().map(|o| tags(*o)).collect())
            }
            Some(n) if fused => Tail::Rescale(
                outs.iter()
                    .map(|o| n.rescale_params(*o).expect("a rescale"))
                    .collect(),
            ),
            _ => Tail::Pass,
        };
        let n_out = layer.out_shape.numel();
        let mut b = Builder::new(n_in);
        let mut cx = LowerCx {
            b: &mut b,
            graph,
            index: i,
            n_out,
            width,
            layout,
            params_base: (weight_base, bias_base),
            tail_for: &tail_for,
        };
        let out = layer.op.rules().lower(&mut cx);
        let kind = layer.op.rules().stage_kind();
        let (layers, name, kind) = if fused {
            let next = &graph.layers[i + 1];
            let kind = match (&layer.op, &next.op) {
                (QOp::TableSum(t), QOp::Threshold(_)) if layout.table_sums && t.product => {
                    "table-product+threshold row"
                }
                (QOp::TableSum(_), QOp::Threshold(_)) if layout.table_sums => {
                    "table-sum+threshold row"
                }
                (QOp::TableSum(t), QOp::Threshold(_)) if t.product => "table-product+threshold",
                (QOp::TableSum(t), QOp::Requant(_)) if t.product => "table-product+requant",
                (QOp::TableSum(_), QOp::Requant(_)) => "table-sum+requant",
                (QOp::TableSum(_), QOp::Threshold(_)) => "table-sum+threshold",
                (QOp::Add(_), QOp::Requant(_)) => "add+requant",
                (QOp::Mul, QOp::Requant(_)) => "mul+requant",
                (_, QOp::Requant(_)) => "linear+requant",
                (QOp::Add(_), QOp::Threshold(_)) => "add+threshold",
                (QOp::Mul, QOp::Threshold(_)) => "mul+threshold",
                (_, QOp::Threshold(_)) => "linear+threshold",
                (QOp::Add(_), QOp::Rescale(QRescale { relu: true, .. })) => "add+relu",
                (QOp::Add(_), _) => "add+rescale",
                (QOp::Mul, _) => "mul+rescale",
                (_, QOp::Rescale(QRescale { relu: true, .. })) => "linear+relu",
                (_, QOp::RescaleLeaky(_)) => "linear+leaky",
                _ => "linear+rescale",
            };
            (2, format!("{} + {}", layer.name, next.name), kind)
        } else {
            (1, layer.name.clone(), kind)
        };
        // Elements still taken straight from the graph input (through remaps only).
        let flags: Vec<bool> = inputs
            .iter()
            .flat_map(|t| match &from_input[*t] {
                Some(f) => f.clone(),
                None => vec![false; graph.tensor_len(*t)],
            })
            .collect();
        from_input[i + layers] = Some(out.iter().map(|o| *o < n_in && flags[*o]).collect());
        stages.push(Stage {
            first_layer: i,
            layers,
            inputs,
            output: i + layers,
            name,
            kind,
            n_in,
            slots: b.next,
            out,
            blocks: b.blocks,
            macs: layer.op.macs(),
        });
        if let Some((weight, bias)) = layer.op.params() {
            weight_base += weight.len();
            bias_base += bias.len();
        }
        i += layers;
    }
    let last = graph.layers.len();
    let n_in = graph.tensor_len(last);
    let from_input = from_input[last].clone().unwrap_or_default();
    // A public output must be a cell of the circuit: route elements that are still graph inputs
    // through an identity pass row.
    if from_input.iter().any(|f| *f) {
        let mut b = Builder::new(n_in);
        let out = (0..n_in)
            .map(|i| match from_input[i] {
                true => b.block(vec![i], vec![vec![1]], vec![0], Tail::Pass)[0],
                false => i,
            })
            .collect();
        stages.push(Stage {
            first_layer: graph.layers.len(),
            layers: 0,
            inputs: vec![last],
            output: last,
            name: "expose".into(),
            kind: "expose",
            n_in,
            slots: b.next,
            out,
            blocks: b.blocks,
            macs: 0,
        });
    }
    stages
}

/// Blocks of at most `width` elements, each passing its inputs through with identity weights into
/// its link rows' `tail`.
pub(crate) fn identity_blocks(
    b: &mut Builder,
    n: usize,
    width: usize,
    tail: &dyn Fn(&[usize]) -> Tail,
) -> Vec<usize> {
    identity_blocks_of(b, &(0..n).collect::<Vec<_>>(), width, tail)
}

/// [`identity_blocks`] over workspace `slots`; `tail` receives each block's positions in `slots`.
pub(crate) fn identity_blocks_of(
    b: &mut Builder,
    slots: &[usize],
    width: usize,
    tail: &dyn Fn(&[usize]) -> Tail,
) -> Vec<usize> {
    let mut out = Vec::with_capacity(slots.len());
    let positions: Vec<usize> = (0..slots.len()).collect();
    for (xs, at) in slots.chunks(width).zip(positions.chunks(width)) {
        let k = xs.len();
        let eye = (0..k).map(|j| (0..k).map(|i| (i == j) as i64).collect());
        out.extend(b.block(xs.to_vec(), eye.collect(), vec![0; k], tail(at)));
    }
    out
}

/// Clip as ReLUs on the existing chips, `width` elements per block:
/// `lo + relu(x - lo) - relu(x - hi)`, or one side of it when a bound is absent.
pub(crate) fn clip_blocks(
    b: &mut Builder,
    slots: &[usize],
    lo: Option<i64>,
    hi: Option<i64>,
    width: usize,
) -> Vec<usize> {
    let relu = |k: usize| Tail::Rescale(vec![RescaleParams::relu(0); k]);
    let eye = |k: usize, sign: i64| -> Vec<Vec<i64>> {
        (0..k)
            .map(|j| (0..k).map(|i| sign * (i == j) as i64).collect())
            .collect()
    };
    let mut out = Vec::with_capacity(slots.len());
    for xs in slots.chunks(width) {
        let k = xs.len();
        // relu(x - lo) and relu(x - hi) (the latter as relu(hi - x) when there is no lower bound).
        let r_lo = lo.map(|lo| b.block(xs.to_vec(), eye(k, 1), vec![-lo; k], relu(k)));
        let r_hi = hi.map(|hi| match lo {
            Some(_) => b.block(xs.to_vec(), eye(k, 1), vec![-hi; k], relu(k)),
            None => b.block(xs.to_vec(), eye(k, -1), vec![hi; k], relu(k)),
        });
        let ys: Vec<usize> = match (lo, r_lo, hi, r_hi) {
            (Some(lo), Some(r_lo), Some(_), Some(r_hi)) => {
                let inputs: Vec<usize> =
                    r_lo.iter().zip(&r_hi).flat_map(|(a, b)| [*a, *b]).collect();
                let w = (0..k).map(|j| {
                    (0..2 * k)
                        .map(|i| [1, -1][i % 2] * (i / 2 == j) as i64)
                        .collect()
                });
                b.block(inputs, w.collect(), vec![lo; k], Tail::Pass)
            }
            (Some(lo), Some(r_lo), None, _) => b.block(r_lo, eye(k, 1), vec![lo; k], Tail::Pass),
            (None, _, Some(hi), Some(r_hi)) => b.block(r_hi, eye(k, -1), vec![hi; k], Tail::Pass),
            _ => xs.to_vec(),
        };
        out.extend(ys);
    }
    out
}

/// Bits `b` such that `|v| < 2^b` for every weight and bias of the lowered graph: (weights, biases).
/// With `hidden_params` (hashed weights) the model's parameters are advice, not fixed values, and
/// only the lowering's own constants count, so the offsets reveal nothing about the weights.
pub fn offset_bits(stages: &[Stage], hidden_params: bool) -> (u32, u32) {
    let bits = |m: u64| (64 - m.leading_zeros()).max(1);
    let mut wmax = 0u64;
    let mut bmax = 0u64;
    let blocks = stages.iter().flat_map(|s| &s.blocks);
    for b in blocks.filter(|b| !(hidden_params && b.params.is_some())) {
        wmax = b
            .weights
            .iter()
            .flatten()
            .fold(wmax, |m, w| m.max(w.unsigned_abs()));
        bmax = b.bias.iter().fold(bmax, |m, v| m.max(v.unsigned_abs()));
    }
    (bits(wmax), bits(bmax))
}
