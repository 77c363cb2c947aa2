//! The layout plan: rows, columns, lookups and k for a quantized graph, computed before any proving,
//! so the CLI can say what a model will cost before it spends it.
//!
//! The planner chooses inputs per row `P`, accumulators per row `W` and the range table's limb bits `L`
//! together: rows do not depend on `L`, so `L` is the largest the row count's k leaves room for (a
//! table never raises k above what the rows need, down to [`MIN_LIMB_BITS`]).

use halo2_proofs::{halo2curves::bn256::Fr, plonk::ConstraintSystem};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::artifacts::model_file::Visibilities;
use crate::circuit::chips::table::RangeTable;
use crate::circuit::chips::threshold::{TableBanks, ThresholdLimbs};
use crate::circuit::{CircuitShape, ModelConfig, MIN_WIDTH, SPACER_ROWS};
use crate::disclosure::Disclosure;
use crate::lower::{lower, offset_bits, BlockLayout};
use crate::qgraph::requant::REQUANT_LIMB_BITS;
use crate::qgraph::{QOp, QuantGraph};

mod choice;
mod estimate;
mod instance;
mod limbs;
mod search;
use choice::best_of;
pub use choice::{
    peak_mib, proof_too_large, PlanLimits, SMALL_PROOF_BYTES, SMALL_PROOF_MAX_EXTRA_FRACTION,
    SMALL_PROOF_MAX_EXTRA_S, SMALL_PROOF_SLACK,
};
pub use estimate::{estimate, Estimate, VerifyLoad};
pub use instance::{instance_columns_for, INSTANCE_ROWS_PER_COLUMN, INSTANCE_ROWS_SPREAD};
use limbs::{plan_limbs, threshold_counts};
pub use search::{choose, choose_with};

/// Largest k we plan for: beyond it the SRS and keys alone take minutes and GiBs.
pub const MAX_K: u32 = 20;
/// Smallest k (halo2 needs room for blinding rows).
pub const MIN_K: u32 = 4;
/// Limb bits of the range table: at least this (activations of 2L bits), at most [`MAX_LIMB_BITS`].
pub const MIN_LIMB_BITS: u32 = 6;
/// Most limb bits of the range table (see [`MIN_LIMB_BITS`]).
pub const MAX_LIMB_BITS: u32 = 12;
/// Accumulators per row the planner tries.
pub const WIDTH_CANDIDATES: [usize; 6] = [5, 6, 8, 10, 12, 16];
/// Inputs per row the planner tries.
pub const INPUTS_CANDIDATES: [usize; 6] = [1, 2, 3, 4, 5, 6];

/// Why no layout fits a graph.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayoutError {
    /// The model needs more rows (model, hash, table or instance) than k = [`MAX_K`] leaves usable.
    #[error("the model needs {rows} rows, more than k = {MAX_K} allows ({usable} usable rows)")]
    TooLarge {
        /// Rows the model needs.
        rows: usize,
        /// Usable rows at k = [`MAX_K`].
        usable: usize,
    },
    /// No layout's proof is as small as the limit asked (`compile --max-proof-bytes`).
    #[error(
        "no layout gives a proof of at most {limit} bytes: the smallest is {smallest} bytes \
         ({layout}); allow more bytes"
    )]
    ProofTooLarge {
        /// The limit asked.
        limit: usize,
        /// The smallest proof of the layouts tried.
        smallest: usize,
        /// That layout (`P x W, k = ..`).
        layout: String,
    },
    /// No layout's estimated peak memory is within the limit asked (the machine's memory).
    #[error(
        "no layout fits {limit_mib} MiB: the least memory any takes is {least_mib} MiB ({layout})"
    )]
    OverMemory {
        /// The limit, in MiB.
        limit_mib: u64,
        /// The smallest peak of the layouts tried (key generation or proving), in MiB.
        least_mib: u64,
        /// That layout (`P x W, k = ..`).
        layout: String,
    },
    /// The requested `P`, `W` or shape is not a valid circuit shape (e.g. `W` below [`MIN_WIDTH`],
    /// or a hashed tensor with `P < 2`).
    #[error("invalid layout: {0}")]
    Invalid(String),
}

/// One line of a plan's per-layer breakdown: a stage of the lowering, or the input and
/// hashed-weight rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerPlan {
    /// Name of the stage (the layer, or `a + b` for a fused Linear or Conv and its rescale).
    pub name: String,
    /// Kind of rows (`linear+relu`, `maxpool`, `private input (range-checked)`, ...).
    pub kind: String,
    /// Rows it takes in the model's region.
    pub rows: usize,
    /// Multiply-accumulates of the model it proves.
    pub macs: usize,
}

/// The layout of a quantized graph: circuit shape, k, and what the rows and columns cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The column shape: `P`, `W`, limb bits, offsets, and which optional chips the circuit has.
    pub shape: CircuitShape,
    /// The circuit has `2^k` rows.
    pub k: u32,
    /// Rows of the model's region: every layer's rows plus the spacer row.
    pub rows: usize,
    /// Rows of the Poseidon chip's own columns (hashed tensors), beside `rows`.
    #[serde(default)]
    pub hash_rows: usize,
    /// Rows of the `2^k` the circuit may use (the rest are reserved for halo2's blinding).
    pub usable_rows: usize,
    /// Rows of the lookup tables: the larger of the range table and the function table.
    pub table_rows: usize,
    /// Rows of the instance column (public values; see [`crate::disclosure::instance::InstanceLayout`]).
    pub instance_rows: usize,
    /// Multiply-accumulates of the model's Linear and Conv layers.
    pub macs: usize,
    /// Advice columns.
    pub advice_columns: usize,
    /// Fixed columns (an estimate after halo2's selector compression).
    pub fixed_columns: usize,
    /// Equality-enabled columns (in the permutation argument).
    pub equality_columns: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Advice cells of every used row (padding, link and rescale rows included) per multiply-accumulate.
    pub advice_cells_per_mac: f64,
    /// Rows per stage of the lowering (and the input and weight rows), in region order.
    pub layers: Vec<LayerPlan>,
    /// Predicted cost on the reference machine.
    pub estimate: Estimate,
}

/// The constraint system of a shape (column counts, lookups, blinding rows).
pub fn constraint_system(shape: CircuitShape) -> ConstraintSystem<Fr> {
    let mut cs = ConstraintSystem::default();
    ModelConfig::configure(&mut cs, shape);
    cs
}

/// Rows the circuit needs besides its lookup tables: its rows, its hash rows, and the longest of
/// its instance columns.
fn circuit_rows(rows: usize, hash_rows: usize, instance_rows: usize, columns: usize) -> usize {
    rows.max(hash_rows)
        .max(instance_rows.div_ceil(columns.max(1)))
}

/// Rows a k leaves for the circuit.
fn usable_rows(k: u32, reserved: usize) -> usize {
    (1usize << k).saturating_sub(reserved)
}

fn smallest_k(needed: usize, reserved: usize) -> Result<u32, LayoutError> {
    (MIN_K..=MAX_K)
        .find(|k| usable_rows(*k, reserved) >= needed)
        .ok_or(LayoutError::TooLarge {
            rows: needed,
            usable: usable_rows(MAX_K, reserved),
        })
}

struct Rows {
    total: usize,
    /// Whether a stage has rescale rows (link rows with a rescale tail: rescales, ReLUs, max pools,
    /// clips).
    rescale_rows: bool,
    /// Whether a stage has table-sum rows.
    table_sums: bool,
    layers: Vec<LayerPlan>,
    weight_offset_bits: u32,
    bias_offset_bits: u32,
}

fn count_rows(graph: &QuantGraph, vis: Visibilities, layout: BlockLayout) -> Rows {
    let stages = lower(graph, layout);
    let mut layers: Vec<LayerPlan> = Vec::with_capacity(stages.len() + 1);
    if vis.input != crate::InputVisibility::Public {
        layers.push(LayerPlan {
            name: "input".into(),
            kind: match vis.input.is_packed() {
                true => "public input (range-checked, packed into the instance)".into(),
                false => format!("{} input (range-checked)", vis.input),
            },
            rows: graph.input_len(),
            macs: 0,
        });
    }
    let hidden = vis.weights.is_hashed();
    if hidden {
        layers.push(LayerPlan {
            name: "weights".into(),
            kind: "hashed weights (range-checked, packed)".into(),
            rows: graph.param_counts().0,
            macs: 0,
        });
    }
    layers.extend(stages.iter().map(|s| LayerPlan {
        name: s.name.clone(),
        kind: s.kind.to_string(),
        rows: s.rows(layout.inputs_per_row),
        macs: s.macs,
    }));
    let (weight_offset_bits, bias_offset_bits) = offset_bits(&stages, hidden);
    let rescale_rows = stages.iter().any(|s| {
        s.blocks
            .iter()
            .any(|b| matches!(b.tail, crate::lower::Tail::Rescale(_)))
    });
    let table_sums = stages
        .iter()
        .any(|s| s.blocks.iter().any(|b| b.table_sum.is_some()));
    Rows {
        total: SPACER_ROWS + layers.iter().map(|l| l.rows).sum::<usize>(),
        rescale_rows,
        table_sums,
        layers,
        weight_offset_bits,
        bias_offset_bits,
    }
}

/// A lower bound on the rows of a layer with `out` outputs (`fused`: it follows a Linear or Conv, so a
/// rescale happens in that layer's link rows), cheap enough to check before anything is lowered:
/// every output of a sum, rescale, clip or function takes a link row, and a max pool four rows per
/// tap after the first of each window.
pub fn min_rows(op: &QOp, out: usize, fused: bool) -> usize {
    op.rules().min_rows(out, fused)
}

/// The exact plan of `graph` with `P` inputs and `W` accumulators per row, at the graph's limb bits,
/// every tensor public.
pub fn plan_with(
    graph: &QuantGraph,
    inputs_per_row: usize,
    width: usize,
) -> Result<Plan, LayoutError> {
    plan_for(graph, Visibilities::default(), inputs_per_row, width)
}

/// The exact plan of `graph` with the given visibility.
pub fn plan_for(
    graph: &QuantGraph,
    vis: Visibilities,
    inputs_per_row: usize,
    width: usize,
) -> Result<Plan, LayoutError> {
    plan_layout(graph, vis, BlockLayout::new(inputs_per_row, width))
}

/// The exact plan of `graph` with the given visibility and block layout (a model file's, which may
/// predate window tiles).
pub fn plan_layout(
    graph: &QuantGraph,
    vis: Visibilities,
    layout: BlockLayout,
) -> Result<Plan, LayoutError> {
    build(graph, vis, layout, graph.limb_bits, (None, None))
}

/// The exact plan of a model file's circuit: its graph and visibility laid out as its `shape` says
/// (which may predate window tiles or several instance columns).
pub fn plan_of_shape(
    graph: &QuantGraph,
    vis: Visibilities,
    shape: &CircuitShape,
) -> Result<Plan, LayoutError> {
    build(
        graph,
        vis,
        BlockLayout::of(shape),
        graph.limb_bits,
        (
            Some(shape.instance_columns),
            Some((shape.threshold_limbs(), shape.threshold_banks)),
        ),
    )
}

/// Rows of hash chains of `chains[c]` hashes each on `chips` Poseidon chips (their own columns):
/// each hash goes to the chip with the fewest rows so far. Exact (tested in `chips::tests_hash`).
pub fn hash_chain_rows(chains: &[usize], chips: usize) -> usize {
    crate::circuit::chips::poseidon::HashConfig::rows_for(chains.iter().sum(), chips.max(1))
}

fn build(
    graph: &QuantGraph,
    vis: Visibilities,
    layout: BlockLayout,
    limb_bits: u32,
    options: (Option<usize>, Option<(ThresholdLimbs, usize)>),
) -> Result<Plan, LayoutError> {
    build_counted(graph, vis, layout, limb_bits, options, None)
}

/// Refuse a row layout without inputs or with fewer than [`MIN_WIDTH`] accumulators (before its
/// rows are counted).
fn check_rows(layout: BlockLayout) -> Result<(), LayoutError> {
    let (p, w) = (layout.inputs_per_row, layout.width);
    match w < MIN_WIDTH || p == 0 {
        true => Err(LayoutError::Invalid(format!("P = {p}, W = {w}"))),
        false => Ok(()),
    }
}

/// [`build`] with the layout's rows when they are counted already (they do not depend on the limb
/// bits: lowering the graph is most of a plan's work).
fn build_counted(
    graph: &QuantGraph,
    vis: Visibilities,
    layout: BlockLayout,
    limb_bits: u32,
    (instance_columns, threshold_limbs): (Option<usize>, Option<(ThresholdLimbs, usize)>),
    counted: Option<&Rows>,
) -> Result<Plan, LayoutError> {
    let BlockLayout {
        inputs_per_row,
        width,
        window_tiles,
        ..
    } = layout;
    check_rows(layout)?;
    let hidden_weights = vis.weights.is_hashed();
    let hashing = Disclosure::new(graph, vis).hashing();
    if hashing && inputs_per_row < 2 {
        return Err(LayoutError::Invalid(
            "a hashed tensor needs at least 2 inputs per row".into(),
        ));
    }
    if vis.input.is_packed() && inputs_per_row < 2 {
        return Err(LayoutError::Invalid(
            "a public input packed into the instance needs at least 2 inputs per row".into(),
        ));
    }
    let products = graph.layers.iter().any(|l| match &l.op {
        QOp::Mul => true,
        QOp::TableSum(t) => t.product,
        _ => false,
    });
    if products && inputs_per_row < 2 {
        return Err(LayoutError::Invalid(
            "a product of two activations needs at least 2 inputs per row".into(),
        ));
    }
    // int8 requant rows need their own limb size and enough cells per row.
    let requant = graph.has_requant();
    let threshold = graph.has_threshold();
    let limb_bits = match keeps_its_limbs(graph) {
        true => REQUANT_LIMB_BITS,
        false => limb_bits,
    };
    if requant && (width + inputs_per_row < 15 || width * inputs_per_row < 8) {
        return Err(LayoutError::Invalid(format!(
            "requant rows need W + P >= 15 and W * P >= 8 (P = {inputs_per_row}, W = {width})"
        )));
    }
    // The fewest cells a threshold row takes (fitted limbs; others need more, see `plan_limbs`).
    let fewest_cells = ThresholdLimbs::Fitted.cells();
    if threshold && width + inputs_per_row < 2 + fewest_cells {
        return Err(LayoutError::Invalid(format!(
            "threshold rows need W + P >= {} (P = {inputs_per_row}, W = {width})",
            2 + fewest_cells
        )));
    }
    let owned;
    let rows = match counted {
        Some(rows) => rows,
        None => {
            owned = count_rows(graph, vis, layout);
            &owned
        }
    };
    let shape = CircuitShape {
        inputs_per_row,
        width,
        limb_bits,
        weight_offset_bits: rows.weight_offset_bits,
        bias_offset_bits: rows.bias_offset_bits,
        functions: graph.layers.iter().any(|l| l.op.is_table()),
        hashing,
        hidden_weights,
        second_hash_chip: false,
        products,
        requant,
        threshold,
        // Range-checked inputs and pack rows are rescale rows; requant rows share their lookups.
        // Only graphs with threshold rows (int8 ONNX) leave them out: float graphs keep the
        // layout their model files were written with.
        no_rescale: threshold
            && !(rows.rescale_rows || requant || hashing || !vis.input.is_public()),
        window_tiles,
        packed_input: vis.input.is_packed(),
        wide_thresholds: false,
        chunked_thresholds: false,
        fitted_thresholds: false,
        table_sums: rows.table_sums,
        instance_columns: instance_columns.unwrap_or(0),
        threshold_banks: 1,
    };
    // Hashed weights make a long hash chain: a second Poseidon chip when it lowers k (at the same k
    // its columns only cost).
    let one = plan_limbs(graph, vis, rows, shape, threshold_limbs)?;
    if !hidden_weights {
        return Ok(one);
    }
    let second_hash_chip = true;
    let two = plan_limbs(
        graph,
        vis,
        rows,
        CircuitShape {
            second_hash_chip,
            ..shape
        },
        threshold_limbs,
    )?;
    Ok(if two.k < one.k { two } else { one })
}

/// The plan of `shape`, whose rows are `rows` (its instance columns chosen by
/// [`instance_columns_for`] when 0).
fn plan_shape(
    graph: &QuantGraph,
    vis: Visibilities,
    rows: &Rows,
    shape: CircuitShape,
) -> Result<Plan, LayoutError> {
    let counts = threshold_counts(graph, &shape)?;
    plan_shape_counted(graph, vis, rows, shape, &counts)
}

/// [`plan_shape`] with the rows of each threshold map in the table counted
/// ([`threshold_counts`]).
fn plan_shape_counted(
    graph: &QuantGraph,
    vis: Visibilities,
    rows: &Rows,
    shape: CircuitShape,
    threshold_counts: &[usize],
) -> Result<Plan, LayoutError> {
    let disclosure = Disclosure::with_limb_bits(graph, vis, shape.limb_bits);
    let instance_rows = disclosure.layout.total();
    let shape = match shape.instance_columns {
        0 => {
            let one = CircuitShape {
                instance_columns: 1,
                ..shape
            };
            if !one.is_valid() {
                return Err(LayoutError::Invalid(format!("{one:?}")));
            }
            // The permutation's products take `degree - 2` columns each (halo2); instance
            // columns do not change the degree.
            let chunk = constraint_system(one).degree().saturating_sub(2);
            CircuitShape {
                instance_columns: instance_columns_for(
                    instance_rows,
                    one.equality_columns() - 1,
                    chunk,
                ),
                ..shape
            }
        }
        _ => shape,
    };
    if !shape.is_valid() {
        return Err(LayoutError::Invalid(format!("{shape:?}")));
    }
    let limb_bits = shape.limb_bits;
    let cs = constraint_system(shape);
    let reserved = cs.blinding_factors() + 1;
    let table_rows = RangeTable::rows(limb_bits)
        .max(1 + graph.function_table().len())
        .max(1 + TableBanks::split(threshold_counts, shape.threshold_banks).largest())
        .max(shape.threshold_limbs().table_rows());
    let hash_rows = disclosure.hash_rows(shape.hash_chips());
    let needed = circuit_rows(rows.total, hash_rows, instance_rows, shape.instance_columns)
        .max(table_rows)
        .max(cs.minimum_rows());
    let k = smallest_k(needed, reserved)?;
    let macs = graph.macs();
    let estimate = estimate(k, &shape, VerifyLoad::of(graph, &disclosure));
    Ok(Plan {
        shape,
        k,
        rows: rows.total,
        hash_rows,
        usable_rows: usable_rows(k, reserved),
        table_rows,
        instance_rows,
        macs,
        advice_columns: shape.advice_columns(),
        fixed_columns: shape.fixed_columns(),
        equality_columns: shape.equality_columns(),
        lookups: shape.lookups(),
        advice_cells_per_mac: (rows.total * shape.advice_columns()) as f64 / macs.max(1) as f64,
        layers: rows.layers.clone(),
        estimate,
    })
}

/// Whether `graph`'s circuit has limbs of [`REQUANT_LIMB_BITS`] whatever the limb bits asked: an
/// int8 graph keeps the limbs it was imported with (it is never re-quantized), even one without
/// requantizations (a lone table or a reshape of the input); requant and threshold rows need them.
fn keeps_its_limbs(graph: &QuantGraph) -> bool {
    graph.has_requant() || graph.has_threshold() || graph.int8.is_some()
}

/// The plan with the most limb bits in `bits` whose k is no larger than the fewest bits'. Rows do
/// not depend on the limb bits, but hash rows do (wider values pack fewer per element).
pub fn largest_table(
    graph: &QuantGraph,
    vis: Visibilities,
    (p, w): (usize, usize),
    bits: std::ops::RangeInclusive<u32>,
) -> Result<Plan, LayoutError> {
    let layout = BlockLayout::new(p, w);
    if keeps_its_limbs(graph) {
        // Every limb size asked gives this plan.
        return build(graph, vis, layout, *bits.start(), (None, None));
    }
    check_rows(layout)?;
    largest_table_counted(graph, vis, layout, bits, &count_rows(graph, vis, layout))
}

/// [`largest_table`] of a float graph's layout whose rows are counted.
fn largest_table_counted(
    graph: &QuantGraph,
    vis: Visibilities,
    layout: BlockLayout,
    bits: std::ops::RangeInclusive<u32>,
    rows: &Rows,
) -> Result<Plan, LayoutError> {
    let at = |l| build_counted(graph, vis, layout, l, (None, None), Some(rows));
    let least = at(*bits.start())?;
    for l in bits.rev() {
        let plan = at(l)?;
        if plan.k <= least.k {
            return Ok(plan);
        }
    }
    Ok(least)
}

/// Limb bits for a circuit whose rows need `rows`: the largest table that fits the same k.
pub fn limb_bits_for(rows: usize, reserved: usize) -> u32 {
    let Ok(k) = smallest_k(rows, reserved) else {
        return MIN_LIMB_BITS;
    };
    (MIN_LIMB_BITS..=MAX_LIMB_BITS)
        .rev()
        .find(|l| RangeTable::rows(*l) <= usable_rows(k, reserved))
        .unwrap_or(MIN_LIMB_BITS)
}

#[cfg(test)]
mod tests;
