//! The limbs of threshold rows: the planner weighs each kind ([`ThresholdLimbs`]) on the same
//! layout.

use super::choice::plan_cost;
use super::{plan_shape, LayoutError, Plan, Rows};
use crate::artifacts::model_file::Visibilities;
use crate::circuit::chips::threshold::{table_len, ThresholdLimbs};
use crate::circuit::CircuitShape;
use crate::qgraph::QuantGraph;

/// The plan of `shape` with threshold rows' limbs as `limbs` says, or (`None`) the cheapest that
/// fits ([`plan_cost`]): wide limbs take two lookup arguments fewer than narrow ones but a table
/// of `2^18` rows, so they pay only where k is 19 or more anyway; chunked limbs take four fewer
/// and four cells fewer, but the threshold table grows by the pieces of each map's intervals (and
/// they need every map's accumulators bounded); fitted ones one lookup argument and one cell
/// fewer again, for up to twice the pieces and a limb table of `2^13 - 1` rows; chunked wide and
/// fitted wide ones cut pieces 16 times longer, for a limb table of `2^16` or `2^17 - 1` rows.
pub(super) fn plan_limbs(
    graph: &QuantGraph,
    vis: Visibilities,
    rows: &Rows,
    shape: CircuitShape,
    limbs: Option<ThresholdLimbs>,
) -> Result<Plan, LayoutError> {
    let with =
        |limbs: ThresholdLimbs| plan_shape(graph, vis, rows, shape.with_threshold_limbs(limbs));
    match (shape.threshold, limbs) {
        (false, _) => with(ThresholdLimbs::Narrow),
        (true, Some(l)) => with(l),
        (true, None) => {
            let mut candidates: Vec<_> = [
                ThresholdLimbs::Narrow,
                ThresholdLimbs::Chunked,
                ThresholdLimbs::Fitted,
            ]
            .into_iter()
            .map(with)
            .collect();
            // A large limb table raises k to its own size: below that, doubling the rows costs
            // more than its lookup arguments save, so those limbs are planned only at such a k.
            let least_k = candidates
                .iter()
                .filter_map(|p| p.as_ref().ok())
                .map(|p| p.k)
                .min();
            for limbs in [
                ThresholdLimbs::Wide,
                ThresholdLimbs::ChunkedWide,
                ThresholdLimbs::FittedWide,
            ] {
                if least_k.is_none_or(|k| k >= limbs.table_k()) {
                    candidates.push(with(limbs));
                }
            }
            let best = candidates
                .iter()
                .filter_map(|p| p.as_ref().ok())
                .min_by(|a, b| plan_cost(a).total_cmp(&plan_cost(b)))
                .cloned();
            match best {
                Some(p) => Ok(p),
                None => candidates.into_iter().next().expect("the narrow candidate"),
            }
        }
    }
}

/// Rows of the threshold table that `shape`'s threshold rows read (with chunked limbs, the pieces
/// of every map's intervals within its domain).
pub(super) fn threshold_table_rows(
    graph: &QuantGraph,
    shape: &CircuitShape,
) -> Result<usize, LayoutError> {
    table_len(graph, shape.threshold_limbs()).ok_or_else(|| {
        LayoutError::Invalid(
            "chunked threshold rows need the accumulators of every threshold map bounded".into(),
        )
    })
}
