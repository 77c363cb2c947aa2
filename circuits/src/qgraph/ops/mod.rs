//! The ops of the quantized graph, one file each: an op's payload, its evaluation (the semantics),
//! its validation (what a model file may hold), its row count (what the planner bounds before
//! lowering) and its lowering onto the circuit's blocks, side by side.
//!
//! [`QOp`] is a closed enum; [`OpRules`] is what every op provides, and [`QOp::rules`] is the one
//! place that dispatches. An op that reuses existing chips is its file, one enum line, one line in
//! [`QOp::rules`], and its importer's entry.

use serde::{Deserialize, Serialize};

use super::eval::EvalError;
use super::{QLayer, QuantGraph, RequantStep, ThresholdMap};
use crate::circuit::chips::rescale::RescaleParams;
use crate::ir::geom::ConvGeom;
use crate::lower::LowerCx;

mod add;
mod clip;
mod conv;
#[cfg(test)]
mod conv_tests;
mod function;
mod linear;
mod maxpool;
mod mul;
mod remap;
mod requantize;
mod rescale;
mod rescale_leaky;
mod table;
mod table_sum;
mod threshold;

pub use add::{QAdd, MAX_SUM_COEFF};
pub use clip::QClip;
pub use conv::QConv;
pub use function::QFunction;
pub use linear::QLinear;
pub use maxpool::QMaxPool;
pub use mul::QMul;
pub use remap::{expand_runs, pick_runs, PickRun, QRemap};
pub use requantize::QRequant;
pub use rescale::QRescale;
pub use rescale_leaky::QRescaleLeaky;
pub use table::QTable;
pub use table_sum::{QTableSum, MAX_TABLE_SUM_VALUE};
pub use threshold::QThreshold;

/// An operation of the quantized graph: integers in, integers out, each value at a power-of-two
/// scale (an int8 graph's at scale 0). Each variant's payload documents the op.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QOp {
    /// A dense layer: [`QLinear`].
    Linear(QLinear),
    /// A convolution: [`QConv`].
    Conv(QConv),
    /// A clip between bounds: [`QClip`].
    Clip(QClip),
    /// A function by table, its input clamped: [`QFunction`].
    Function(QFunction),
    /// Each output element an input element or a constant: [`QRemap`].
    Remap(QRemap),
    /// Max pooling: [`QMaxPool`].
    MaxPool(QMaxPool),
    /// A rounding shift, with a fused ReLU or not: [`QRescale`].
    Rescale(QRescale),
    /// An elementwise weighted sum of the layer's inputs: [`QAdd`].
    Add(QAdd),
    /// The elementwise product of the layer's two inputs: [`QMul`].
    Mul,
    /// A rescale followed by a leaky ReLU: [`QRescaleLeaky`].
    RescaleLeaky(QRescaleLeaky),
    /// An int8 requantization: [`QRequant`].
    Requant(QRequant),
    /// An elementwise map of int8 values by table: [`QTable`].
    Table(QTable),
    /// A non-decreasing map of an int32 accumulator by thresholds: [`QThreshold`].
    Threshold(QThreshold),
    /// The sum of two int8 activations each mapped by a table: [`QTableSum`].
    TableSum(QTableSum),
}

/// What every op provides (see the module docs).
pub(crate) trait OpRules {
    /// Short name of the op for reports and messages (`linear`, `rescale+relu`, ...).
    fn name(&self) -> &'static str;

    /// The kind of rows of a stage the op lowers to alone (`linear`, `rescale`, ...).
    fn stage_kind(&self) -> &'static str {
        self.name()
    }

    /// Multiply-accumulates the op performs (0 but for Linear and Conv).
    fn macs(&self) -> usize {
        0
    }

    /// The work validation counts for the op (with `out` output elements), bounding the rows.
    fn work(&self, out: usize) -> usize {
        out
    }

    /// Whether a model file's op is consistent with the tensors it reads (see [`CheckCx`]); `Err`
    /// says why not.
    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String>;

    /// The op's output on `x` (the concatenation of the layer's inputs): the semantics.
    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError>;

    /// A lower bound on the rows the op takes with `out` output elements (`fused`: it follows a
    /// Linear, Conv, Add or Mul, whose link rows it may take), counted before lowering.
    fn min_rows(&self, out: usize, _fused: bool) -> usize {
        out
    }

    /// The op's blocks; returns the workspace slot of each output element.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize>;
}

/// What an op's validation reads: its layer, and the sizes before it.
pub(crate) struct CheckCx<'a> {
    /// The graph.
    pub graph: &'a QuantGraph,
    /// The layer.
    pub layer: &'a QLayer,
    /// The layer's index.
    pub index: usize,
    /// Elements of the layer's output.
    pub out: usize,
    /// Elements the layer reads (its inputs' concatenation).
    pub len: usize,
}

impl CheckCx<'_> {
    /// `layer '<name>' has <what>`.
    pub fn invalid(&self, what: &str) -> String {
        format!("layer '{}' has {what}", self.layer.name)
    }

    /// A window op's geometry is valid (checked before anything divides by its groups).
    pub fn geometry(&self, geom: &ConvGeom) -> Result<(), String> {
        geom.validate()
            .map_err(|e| format!("layer '{}': {e}", self.layer.name))
    }
}

/// The work of a window op: every tap of every output.
pub(super) fn window_work(geom: &ConvGeom) -> usize {
    geom.out_len_total().saturating_mul(geom.kernel_len())
}

/// What an op's evaluation reads: its layer, and the graph's activation range.
pub(crate) struct EvalCx<'a> {
    /// The graph.
    pub graph: &'a QuantGraph,
    /// The layer.
    pub layer: &'a QLayer,
}

impl EvalCx<'_> {
    /// Elements of the layer's output.
    pub fn n_out(&self) -> usize {
        self.layer.out_shape.numel()
    }

    /// `value` must lie in the activation range (what the circuit's limbs can hold).
    pub fn range(&self, index: usize, value: i64) -> Result<(), EvalError> {
        let (min, max) = self.graph.activation_range();
        match value < min || value >= max {
            true => Err(self.out_of_range(index, value, min, max)),
            false => Ok(()),
        }
    }

    /// An accumulator below [`super::ACC_LIMIT`] in magnitude, as an `i64`.
    pub fn acc(&self, index: usize, acc: i128) -> Result<i64, EvalError> {
        if acc.abs() >= super::ACC_LIMIT {
            return Err(EvalError::Overflow {
                layer: self.layer.name.clone(),
                index,
            });
        }
        Ok(acc as i64)
    }

    /// Element `index`'s `value` is outside `[min, max)`.
    pub fn out_of_range(&self, index: usize, value: i64, min: i64, max: i64) -> EvalError {
        EvalError::OutOfRange {
            layer: self.layer.name.clone(),
            index,
            value,
            min,
            max,
        }
    }
}

/// The position of element `index`'s entry in a per-channel list of `len` entries (`channel_len`
/// elements each; one entry for all).
pub(crate) fn channel_of(len: usize, channel_len: usize, index: usize) -> usize {
    (index / channel_len.max(1)).min(len.saturating_sub(1))
}

/// Element `index`'s entry of a per-channel list (see [`channel_of`]).
pub(crate) fn per_channel<T>(list: &[T], channel_len: usize, index: usize) -> Option<&T> {
    list.get(channel_of(list.len(), channel_len, index))
}

impl QOp {
    /// The op's rules: the one dispatch over the ops.
    pub(crate) fn rules(&self) -> &dyn OpRules {
        match self {
            QOp::Linear(op) => op,
            QOp::Conv(op) => op,
            QOp::Clip(op) => op,
            QOp::Function(op) => op,
            QOp::Remap(op) => op,
            QOp::MaxPool(op) => op,
            QOp::Rescale(op) => op,
            QOp::Add(op) => op,
            QOp::Mul => &QMul,
            QOp::RescaleLeaky(op) => op,
            QOp::Requant(op) => op,
            QOp::Table(op) => op,
            QOp::Threshold(op) => op,
            QOp::TableSum(op) => op,
        }
    }

    /// Short name of the op for reports and messages (`linear`, `rescale+relu`, ...).
    pub fn kind(&self) -> &'static str {
        self.rules().name()
    }

    /// Multiply-accumulates the op performs (0 but for Linear and Conv).
    pub fn macs(&self) -> usize {
        self.rules().macs()
    }

    /// The rescale-row parameters of element `index`, for the rescaling ops.
    pub fn rescale_params(&self, index: usize) -> Option<RescaleParams> {
        match self {
            QOp::Rescale(op) => Some(op.params()),
            QOp::RescaleLeaky(op) => Some(op.params(index)),
            _ => None,
        }
    }

    /// Whether the op is a lookup in the function table (Function, Table, TableSum).
    pub fn is_table(&self) -> bool {
        self.function_tables() > 0
    }

    /// How many tables the op has in the function table: one for a Function or Table, two for a
    /// TableSum.
    pub fn function_tables(&self) -> usize {
        match self {
            QOp::Function(_) | QOp::Table(_) => 1,
            QOp::TableSum(_) => 2,
            _ => 0,
        }
    }

    /// The requantization step of element `index`, for a Requant op.
    pub fn requant_step(&self, index: usize) -> Option<RequantStep> {
        match self {
            QOp::Requant(op) => op.step(index),
            _ => None,
        }
    }

    /// The threshold map of element `index`, for a Threshold op.
    pub fn threshold_map(&self, index: usize) -> Option<&ThresholdMap> {
        match self {
            QOp::Threshold(op) => op.map(index),
            _ => None,
        }
    }

    /// Whether the op ends a sum in its link rows (a requantization): it may fuse with the Linear,
    /// Conv, Add or Mul before it.
    pub fn is_requant(&self) -> bool {
        matches!(self, QOp::Requant(_) | QOp::Threshold(_))
    }

    /// Whether the op's sums may take the link rows of a rescale or requantization after it.
    pub fn is_sum(&self) -> bool {
        matches!(
            self,
            QOp::Linear(_) | QOp::Conv(_) | QOp::Add(_) | QOp::Mul | QOp::TableSum(_)
        )
    }

    /// The weights and biases of a Linear or Conv op.
    pub fn params(&self) -> Option<(&[i64], &[i64])> {
        match self {
            QOp::Linear(op) => Some((&op.weight, &op.bias)),
            QOp::Conv(op) => Some((&op.weight, &op.bias)),
            _ => None,
        }
    }

    /// The weights and biases of a Linear or Conv op, to change.
    pub fn params_mut(&mut self) -> Option<(&mut [i64], &mut Vec<i64>)> {
        match self {
            QOp::Linear(op) => Some((&mut op.weight, &mut op.bias)),
            QOp::Conv(op) => Some((&mut op.weight, &mut op.bias)),
            _ => None,
        }
    }
}
