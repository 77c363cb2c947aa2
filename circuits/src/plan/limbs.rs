//! The limbs of threshold rows: the planner weighs each kind ([`ThresholdLimbs`]) on the same
//! layout.

use super::choice::plan_cost;
use super::{plan_shape, plan_shape_counted, smallest_k, LayoutError, Plan, Rows};
use crate::artifacts::model_file::Visibilities;
use crate::circuit::chips::threshold::{
    TableBanks, ThresholdLimbs, MAX_CHUNKED_ROWS, MAX_THRESHOLD_BANKS,
};
use crate::circuit::chips::threshold_table::map_rows;
use crate::circuit::CircuitShape;
use crate::qgraph::QuantGraph;

/// The plan of `shape` with threshold rows' limbs and table banks as `limbs` says, or (`None`) the
/// cheapest that fits ([`plan_cost`]; banks chosen by [`plan_banks`]): wide limbs take two lookup
/// arguments fewer than narrow ones but a table of `2^18` rows, so they pay only where k is 19 or
/// more anyway; chunked limbs take four fewer and four cells fewer, but the threshold table grows
/// by the pieces of each map's intervals (and they need every map's accumulators bounded); fitted
/// ones one lookup argument and one cell fewer again, for up to twice the pieces and a limb table
/// of `2^13 - 1` rows; chunked wide and fitted wide ones cut pieces 16 times longer, for a limb
/// table of `2^16` or `2^17 - 1` rows.
pub(super) fn plan_limbs(
    graph: &QuantGraph,
    vis: Visibilities,
    rows: &Rows,
    shape: CircuitShape,
    limbs: Option<(ThresholdLimbs, usize)>,
) -> Result<Plan, LayoutError> {
    let with =
        |limbs: ThresholdLimbs| plan_banks(graph, vis, rows, shape.with_threshold_limbs(limbs));
    match (shape.threshold, limbs) {
        // No threshold rows: one bank (`build_counted`'s), no table.
        (false, _) => plan_shape(
            graph,
            vis,
            rows,
            shape.with_threshold_limbs(ThresholdLimbs::Narrow),
        ),
        (true, Some((l, threshold_banks))) => {
            let shape = CircuitShape {
                threshold_banks,
                ..shape
            };
            plan_shape(graph, vis, rows, shape.with_threshold_limbs(l))
        }
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

/// The plan of `shape` with the threshold table in the cheapest number of banks ([`plan_cost`]):
/// one, or (when the table sets k) up to [`MAX_THRESHOLD_BANKS`], each bank a lookup argument and
/// five fixed columns more for a table a fraction as long. Only the fewest banks that reach each k
/// are planned (more at the same k only cost).
fn plan_banks(
    graph: &QuantGraph,
    vis: Visibilities,
    rows: &Rows,
    shape: CircuitShape,
) -> Result<Plan, LayoutError> {
    let counts = threshold_counts(graph, &shape)?;
    let at = |threshold_banks| {
        let shape = CircuitShape {
            threshold_banks,
            ..shape
        };
        plan_shape_counted(graph, vis, rows, shape, &counts)
    };
    let one = at(1);
    let table_k = |banks: usize, reserved: usize| {
        smallest_k(1 + TableBanks::split(&counts, banks).largest(), reserved).ok()
    };
    let (mut best, reserved) = match &one {
        // The circuit's rows set k: more banks only cost.
        Ok(p) if p.k == p.k_for_rows() => return one,
        Ok(p) => (Some(p.clone()), Some(p.reserved_rows())),
        Err(_) => (None, None),
    };
    let mut last_k = reserved.and_then(|r| table_k(1, r));
    for banks in 2..=MAX_THRESHOLD_BANKS {
        if let Some(r) = reserved {
            let k = table_k(banks, r);
            if k.is_some() && k == last_k {
                continue;
            }
            last_k = k;
        }
        let Ok(plan) = at(banks) else { continue };
        let last = plan.k == plan.k_for_rows();
        if best
            .as_ref()
            .is_none_or(|b| plan_cost(&plan) < plan_cost(b))
        {
            best = Some(plan);
        }
        if last {
            break;
        }
    }
    best.map_or(one, Ok)
}

/// The rows of each threshold map (tag order) in the table `shape`'s threshold rows read (with
/// chunked limbs, the pieces of every map's intervals within its domain); none without threshold
/// rows. Refused when chunked limbs' maps are unbounded or their pieces more than
/// [`MAX_CHUNKED_ROWS`] (the circuit would refuse to make that table).
pub(super) fn threshold_counts(
    graph: &QuantGraph,
    shape: &CircuitShape,
) -> Result<Vec<usize>, LayoutError> {
    if !shape.threshold {
        return Ok(Vec::new());
    }
    let limbs = shape.threshold_limbs();
    let counts = map_rows(graph, limbs).ok_or_else(|| {
        LayoutError::Invalid(
            "chunked threshold rows need the accumulators of every threshold map bounded".into(),
        )
    })?;
    let total = counts.iter().fold(0usize, |n, c| n.saturating_add(*c));
    if limbs.is_chunked() && total > MAX_CHUNKED_ROWS {
        return Err(LayoutError::Invalid(format!(
            "a chunked threshold table of {total} rows (at most {MAX_CHUNKED_ROWS})"
        )));
    }
    Ok(counts)
}
