//! The layout plan: rows, columns, lookups and k for a quantized graph, computed before any proving,
//! so the CLI can say what a model will cost before it spends it.

use halo2_proofs::{pasta::Fp, plonk::ConstraintSystem};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::chips::{dot::DotConfig, table::RangeTable};
use crate::circuit::{CircuitShape, ModelConfig, MIN_WIDTH, SPACER_ROWS};
use crate::quant::{QOp, QuantGraph};

/// Largest k we plan for: beyond it setup parameters alone take minutes and GiBs.
pub const MAX_K: u32 = 20;
/// Smallest k (halo2 needs room for blinding rows).
pub const MIN_K: u32 = 4;
/// Widths the planner tries when choosing one automatically.
pub const WIDTH_CANDIDATES: [usize; 5] = [8, 12, 16, 24, 32];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayoutError {
    #[error("the model needs {rows} rows, more than k = {MAX_K} allows ({usable} usable rows)")]
    TooLarge { rows: usize, usable: usize },
    #[error("width {0} is below the minimum of {MIN_WIDTH} columns")]
    WidthTooSmall(usize),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerPlan {
    pub name: String,
    pub kind: String,
    pub rows: usize,
    pub macs: usize,
}

/// Predicted cost on the machine the constants were measured on (2 cores).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub keygen_s: f64,
    pub prove_s: f64,
    pub verify_s: f64,
    pub peak_mib: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub shape: CircuitShape,
    pub k: u32,
    pub rows: usize,
    pub usable_rows: usize,
    pub table_rows: usize,
    pub instance_rows: usize,
    pub macs: usize,
    pub advice_columns: usize,
    pub fixed_columns: usize,
    pub lookups: usize,
    /// Advice cells of every used row (padding and rescale rows included) per multiply-accumulate.
    pub advice_cells_per_mac: f64,
    pub layers: Vec<LayerPlan>,
    pub estimate: Estimate,
}

/// Rows a layer takes at a given width.
pub fn layer_rows(op: &QOp, out_len: usize, width: usize) -> usize {
    match op {
        QOp::Linear {
            in_features,
            out_features,
            ..
        } => out_features * DotConfig::rows_for(width, *in_features),
        QOp::Rescale { .. } => out_len,
    }
}

/// The constraint system of a shape (column counts, lookups, blinding rows).
pub fn constraint_system(shape: CircuitShape) -> ConstraintSystem<Fp> {
    let mut cs = ConstraintSystem::default();
    ModelConfig::configure(&mut cs, shape);
    cs
}

/// Plan `graph` at the given width.
pub fn plan_with_width(graph: &QuantGraph, width: usize) -> Result<Plan, LayoutError> {
    if width < MIN_WIDTH {
        return Err(LayoutError::WidthTooSmall(width));
    }
    let shape = CircuitShape {
        width,
        limb_bits: graph.limb_bits,
    };
    let cs = constraint_system(shape);
    let reserved = cs.blinding_factors() + 1;
    let layers: Vec<LayerPlan> = graph
        .layers
        .iter()
        .map(|l| LayerPlan {
            name: l.name.clone(),
            kind: l.op.kind().to_string(),
            rows: layer_rows(&l.op, l.out_shape.numel(), width),
            macs: l.op.macs(),
        })
        .collect();
    let rows: usize = SPACER_ROWS + layers.iter().map(|l| l.rows).sum::<usize>();
    let table_rows = RangeTable::rows(graph.limb_bits);
    let instance_rows = graph.input_len() + graph.output_len();
    let needed = rows
        .max(table_rows)
        .max(instance_rows)
        .max(cs.minimum_rows());
    let k = (MIN_K..=MAX_K)
        .find(|k| (1usize << k) - reserved >= needed)
        .ok_or(LayoutError::TooLarge {
            rows: needed,
            usable: (1usize << MAX_K) - reserved,
        })?;
    let macs = graph.macs();
    let advice_columns = shape.advice_columns();
    let fixed_columns = shape.fixed_columns();
    let lookups = CircuitShape::LOOKUPS;
    let estimate = estimate(k, advice_columns, fixed_columns, lookups);
    Ok(Plan {
        shape,
        k,
        rows,
        usable_rows: (1usize << k) - reserved,
        table_rows,
        instance_rows,
        macs,
        advice_columns,
        fixed_columns,
        lookups,
        advice_cells_per_mac: (rows * advice_columns) as f64 / macs.max(1) as f64,
        layers,
        estimate,
    })
}

/// Plan `graph`, choosing the width with the lowest estimated proving time.
pub fn plan(graph: &QuantGraph) -> Result<Plan, LayoutError> {
    let mut best: Option<Plan> = None;
    let mut last_err = None;
    for width in WIDTH_CANDIDATES {
        match plan_with_width(graph, width) {
            Ok(p) => {
                if best
                    .as_ref()
                    .is_none_or(|b| p.estimate.prove_s < b.estimate.prove_s)
                {
                    best = Some(p);
                }
            }
            Err(e) => last_err = Some(e),
        }
    }
    best.ok_or_else(|| last_err.expect("at least one width tried"))
}

/// Cost model: every committed column is FFT'd and committed over 2^k points (4x extended for the
/// quotient); lookups add about three committed polynomials each. Constants measured on the 2-core
/// reference machine (see README) with 2 threads.
pub fn estimate(k: u32, advice: usize, fixed: usize, lookups: usize) -> Estimate {
    let n = (1u64 << k) as f64;
    let committed = advice as f64 + 3.0 * lookups as f64 + 2.0;
    let all = committed + fixed as f64 + (advice as f64 + 1.0);
    Estimate {
        keygen_s: 0.02 + n * (fixed as f64 + advice as f64) * 0.35e-6,
        prove_s: 0.03 + n * committed * 1.2e-6,
        verify_s: 0.004 + n * 6e-6 + n * (fixed as f64 + advice as f64) * 0.2e-6,
        peak_mib: 8.0 + n * all * 32.0 * 4.0 / (1024.0 * 1024.0),
    }
}
