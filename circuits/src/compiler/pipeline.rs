//! The compile pipeline: quantize, choose the layout, and re-quantize for the table size it allows.

use crate::compiler::calibrate::{quantize_graph, CalibrationError, QuantOptions};
use crate::ir::Graph;
use crate::layout::{choose, limb_bits_for, plan_with, LayoutError, Plan};
use crate::quant::QuantGraph;
use crate::report::QuantReport;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
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
    layout: Option<(usize, usize)>,
) -> Result<(QuantGraph, QuantReport, Plan), PipelineError> {
    let quantize = |limb_bits| {
        let opts = QuantOptions {
            limb_bits,
            calibration_name: calibration_name.to_string(),
        };
        quantize_graph(graph, samples, &opts)
    };
    let (mut qgraph, mut report) = quantize(QuantOptions::default().limb_bits)?;
    let (p, w, bits) = match layout {
        Some((p, w)) => {
            let probe = plan_with(&qgraph, p, w)?;
            let reserved = (1usize << probe.k) - probe.usable_rows;
            (
                p,
                w,
                limb_bits_for(probe.rows.max(probe.instance_rows), reserved),
            )
        }
        None => {
            let c = choose(&qgraph)?;
            (c.shape.inputs_per_row, c.shape.width, c.shape.limb_bits)
        }
    };
    if bits != qgraph.limb_bits {
        (qgraph, report) = quantize(bits)?;
    }
    let plan = plan_with(&qgraph, p, w)?;
    Ok((qgraph, report, plan))
}
