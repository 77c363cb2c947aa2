//! The compile pipeline: quantize, choose the layout, and re-quantize for the table size it allows.

use crate::ir::{Graph, Op};
use crate::plan::{
    choose_with, largest_table, limb_bits_for, plan_for, proof_too_large, LayoutError, Plan,
    PlanLimits, MAX_LIMB_BITS, MIN_LIMB_BITS,
};
use crate::qgraph::QuantGraph;
use crate::quantize::calibrate::{quantize_graph, CalibrationError, QuantOptions};
use crate::quantize::report::QuantReport;

/// Least limb bits when the model has an unbounded table function (ELU, SELU, Softplus).
pub const UNBOUNDED_FUNCTION_LIMB_BITS: u32 = 9;

/// What the caller asks of the layout; everything left out is chosen for the fastest proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayoutRequest {
    /// Inputs and accumulators per row `(P, W)`.
    pub shape: Option<(usize, usize)>,
    /// Least limb bits of the range table (activations keep twice as many bits): more precision, at
    /// the price of a larger k when the rows alone would need a smaller one.
    pub min_limb_bits: Option<u32>,
    /// What the proof reveals (hashed and private tensors add rows and columns).
    pub visibility: crate::artifacts::model_file::Visibilities,
    /// Instance columns the public values are spread over (see
    /// [`crate::circuit::CircuitShape::instance_columns`]); `None`: the planner's rule.
    pub instance_columns: Option<usize>,
    /// The most bytes a proof may take: the planner picks the cheapest layout whose proof fits
    /// (a given `shape` must fit too); `None`: no limit (the planner's own small-proof rule).
    pub max_proof_bytes: Option<usize>,
    /// The most memory, in MiB, that key generation or a proof may take by the plan's estimate:
    /// the planner picks the cheapest layout within it; `None`: no limit. Ignored with `shape`.
    pub max_peak_mib: Option<u64>,
}

impl LayoutRequest {
    /// The limits the planner's choice must meet.
    fn limits(&self) -> PlanLimits {
        PlanLimits {
            max_proof_bytes: self.max_proof_bytes,
            max_peak_mib: self.max_peak_mib,
        }
    }
}

/// Whether `plan`'s proof fits the request's limit (any proof does without one).
fn fits(request: &LayoutRequest, plan: &Plan) -> bool {
    request
        .max_proof_bytes
        .is_none_or(|limit| plan.estimate.proof_bytes <= limit)
}

/// `plan` when its proof fits the request's limit, else [`LayoutError::ProofTooLarge`].
fn within_limit(request: &LayoutRequest, plan: Plan) -> Result<Plan, LayoutError> {
    match request.max_proof_bytes {
        Some(limit) if !fits(request, &plan) => Err(proof_too_large(limit, &plan)),
        _ => Ok(plan),
    }
}

/// `plan` with its instance columns set to `columns` when given (its k and estimate planned again).
fn with_instance_columns(
    graph: &QuantGraph,
    request: &LayoutRequest,
    plan: Plan,
) -> Result<Plan, LayoutError> {
    match request.instance_columns {
        Some(c) if c != plan.shape.instance_columns => {
            if !(1..=crate::circuit::MAX_INSTANCE_COLUMNS).contains(&c) {
                return Err(LayoutError::Invalid(format!(
                    "{c} instance columns: from 1 to {}",
                    crate::circuit::MAX_INSTANCE_COLUMNS
                )));
            }
            let shape = crate::circuit::CircuitShape {
                instance_columns: c,
                ..plan.shape
            };
            crate::plan::plan_of_shape(graph, request.visibility, &shape)
        }
        _ => Ok(plan),
    }
}

/// Why a graph could not be compiled into a quantized graph and a layout.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The requested least limb bits lie outside `MIN_LIMB_BITS..=MAX_LIMB_BITS`.
    #[error(
        "precision {0} is out of range: table limb bits go from {MIN_LIMB_BITS} to {MAX_LIMB_BITS}"
    )]
    Precision(u32),
    /// Calibration failed.
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    /// No layout fits the model.
    #[error(transparent)]
    Layout(#[from] LayoutError),
}

/// Quantize `graph` on `samples` and lay it out, with `(P, W)` given or chosen automatically.
///
/// Rows do not depend on the range table's limb bits, so the layout is planned on a first
/// quantization, and the graph is quantized again for the largest table the chosen k leaves room for.
pub fn compile_graph(
    graph: &Graph,
    samples: &[Vec<f32>],
    calibration_name: &str,
    request: LayoutRequest,
) -> Result<(QuantGraph, QuantReport, Plan), PipelineError> {
    let min_bits = request.min_limb_bits.unwrap_or(MIN_LIMB_BITS);
    if !(MIN_LIMB_BITS..=MAX_LIMB_BITS).contains(&min_bits) {
        return Err(PipelineError::Precision(min_bits));
    }
    // An unbounded table function's table spans its whole calibrated input range, not a short
    // non-saturated one: it needs a finer table to stay within 1% of the float outputs.
    let unbounded = graph
        .nodes
        .iter()
        .any(|n| matches!(n.op, Op::Func(f) if f.saturation().is_none()));
    let min_bits = match unbounded {
        true => min_bits.max(UNBOUNDED_FUNCTION_LIMB_BITS),
        false => min_bits,
    };
    let quantize = |limb_bits| {
        let opts = QuantOptions {
            limb_bits,
            calibration_name: calibration_name.to_string(),
            hidden_weights: request.visibility.weights.is_hashed(),
        };
        quantize_graph(graph, samples, &opts)
    };
    let (mut qgraph, mut report) = quantize(QuantOptions::default().limb_bits)?;
    let (p, w, bits) = match request.shape {
        Some((p, w)) => {
            let probe = plan_for(&qgraph, request.visibility, p, w)?;
            let reserved = (1usize << probe.k) - probe.usable_rows;
            let needed = probe.rows.max(probe.instance_rows).max(probe.hash_rows);
            let top = limb_bits_for(needed, reserved).max(min_bits);
            let plan = largest_table(&qgraph, request.visibility, (p, w), min_bits..=top)?;
            (p, w, plan.shape.limb_bits)
        }
        None => {
            let c = choose_with(&qgraph, request.visibility, min_bits, request.limits())?;
            (c.shape.inputs_per_row, c.shape.width, c.shape.limb_bits)
        }
    };
    if bits != qgraph.limb_bits {
        (qgraph, report) = quantize(bits)?;
    }
    let plan = plan_for(&qgraph, request.visibility, p, w)?;
    let plan = with_instance_columns(&qgraph, &request, plan)?;
    let plan = within_limit(&request, plan)?;
    Ok((qgraph, report, plan))
}

/// `plan` with `graph`'s long public int8 input packed into instance cells (see
/// [`crate::Visibilities::packing_input_of`]) when that keeps its k: the verifier then evaluates
/// a few instance rows instead of one per input value, for one lookup argument and a row per value
/// more. The plan's `shape.packed_input` says which; the model file's visibility must say so too
/// ([`crate::Visibilities::with_packed_input`]).
fn with_packed_input(
    graph: &QuantGraph,
    request: &LayoutRequest,
    plan: Plan,
) -> Result<Plan, LayoutError> {
    let vis = request.visibility.packing_input_of(graph);
    if !vis.input.is_packed() {
        return Ok(plan);
    }
    let layout = crate::lower::BlockLayout::of(&plan.shape);
    let packed = match crate::plan::plan_layout(graph, vis, layout) {
        Ok(p) => p,
        Err(_) => return Ok(plan),
    };
    let request = LayoutRequest {
        visibility: vis,
        ..*request
    };
    let packed = with_instance_columns(graph, &request, packed)?;
    Ok(if packed.k <= plan.k && fits(&request, &packed) {
        packed
    } else {
        plan
    })
}

/// Lay out an int8 model, whose integers are its own (no calibration, no re-quantization): the
/// plan, and a report that says so (every layer's row, no error against float). A long public
/// input is packed into instance cells where that keeps k (see [`with_packed_input`]).
pub fn compile_int8(
    graph: QuantGraph,
    unproven_tail: Vec<String>,
    request: LayoutRequest,
) -> Result<(QuantGraph, QuantReport, Plan), PipelineError> {
    let plan_of = |graph: &QuantGraph| {
        let plan = match request.shape {
            Some((p, w)) => plan_for(graph, request.visibility, p, w)?,
            None => choose_with(graph, request.visibility, MIN_LIMB_BITS, request.limits())?,
        };
        with_instance_columns(graph, &request, plan)
    };
    // Requantizations as requant rows (many lookups and cells per row, no table) or as threshold
    // rows (fewer, and a table row per output level): the same outputs, whichever proves faster.
    let requant = plan_of(&graph);
    let (graph, plan) = match graph.requants_as_thresholds() {
        Some(alt) => match (requant, plan_of(&alt)) {
            (Ok(r), Ok(t)) if t.estimate.prove_s < r.estimate.prove_s => (alt, t),
            (Ok(r), _) => (graph, r),
            (Err(_), Ok(t)) => (alt, t),
            // Neither fits a proof size limit: name the smaller of the two smallest proofs.
            (
                Err(LayoutError::ProofTooLarge { smallest: r, .. }),
                Err(e @ LayoutError::ProofTooLarge { smallest: t, .. }),
            ) if t < r => return Err(e.into()),
            // Neither fits a memory limit: name the smaller of the two least peaks.
            (
                Err(LayoutError::OverMemory { least_mib: r, .. }),
                Err(e @ LayoutError::OverMemory { least_mib: t, .. }),
            ) if t < r => return Err(e.into()),
            (Err(e), Err(_)) => return Err(e.into()),
        },
        None => (graph, requant?),
    };
    let plan = within_limit(&request, with_packed_input(&graph, &request, plan)?)?;
    let report = QuantReport::int8(&graph, unproven_tail);
    Ok((graph, report, plan))
}
