//! The planner's search: every row layout of [`INPUTS_CANDIDATES`] × [`WIDTH_CANDIDATES`] planned
//! (with its limb sizes, threshold limbs and banks), the cheapest kept ([`best_of`]).

use super::{
    best_of, build, build_counted, circuit_rows, count_rows, keeps_its_limbs,
    largest_table_counted, limb_bits_for, LayoutError, Plan, PlanLimits, INPUTS_CANDIDATES,
    MIN_LIMB_BITS, WIDTH_CANDIDATES,
};
use crate::artifacts::model_file::Visibilities;
use crate::disclosure::Disclosure;
use crate::lower::BlockLayout;
use crate::qgraph::QuantGraph;

/// Choose `P`, `W` and `L` for `graph`, with `L` at least [`MIN_LIMB_BITS`].
pub fn choose(graph: &QuantGraph) -> Result<Plan, LayoutError> {
    choose_with(
        graph,
        Visibilities::default(),
        MIN_LIMB_BITS,
        PlanLimits::default(),
    )
}

/// Choose `P`, `W` and `L` (at least `min_limb_bits`) for `graph` (whose own limb bits only matter for validity): the plan with
/// the lowest estimated cost, prove time plus ten times verify time, or the cheapest within `limits`
/// (a proof size, a memory peak: see [`choice::best_of`]). The caller re-quantizes with the returned
/// `shape.limb_bits` if it differs.
pub fn choose_with(
    graph: &QuantGraph,
    vis: Visibilities,
    min_limb_bits: u32,
    limits: PlanLimits,
) -> Result<Plan, LayoutError> {
    let layouts: Vec<(usize, usize)> = INPUTS_CANDIDATES
        .iter()
        .flat_map(|p| WIDTH_CANDIDATES.iter().map(move |w| (*p, *w)))
        .collect();
    let plans = map_candidates(&layouts, |&(p, w)| {
        let layout = BlockLayout::new(p, w);
        if keeps_its_limbs(graph) {
            // One plan per layout: no limb size to search (each plan lowers the whole graph).
            return build(graph, vis, layout, min_limb_bits, (None, None));
        }
        // The graph is lowered once per layout: its rows serve every limb size tried.
        let rows = count_rows(graph, vis, layout);
        let probe = build_counted(graph, vis, layout, MIN_LIMB_BITS, (None, None), Some(&rows));
        probe.and_then(|probe| {
            let hash_rows = Disclosure::with_limb_bits(graph, vis, min_limb_bits).hash_rows(2);
            let (instance, columns) = (probe.instance_rows, probe.shape.instance_columns);
            let needed = circuit_rows(rows.total, hash_rows, instance, columns);
            let top = limb_bits_for(needed, probe.reserved_rows()).max(min_limb_bits);
            largest_table_counted(graph, vis, layout, min_limb_bits..=top, &rows)
        })
    });
    let mut candidates: Vec<Plan> = Vec::new();
    let mut last_err = None;
    for plan in plans {
        match plan {
            Ok(plan) => candidates.push(plan),
            Err(e) => last_err = Some(e),
        }
    }
    best_of(candidates, limits).unwrap_or_else(|| Err(last_err.expect("candidates tried")))
}

/// `f` of each layout, in order: on rayon's threads (each lowers the whole graph), or one after
/// another where there are none (the browser).
#[cfg(not(target_arch = "wasm32"))]
fn map_candidates<R: Send>(
    layouts: &[(usize, usize)],
    f: impl Fn(&(usize, usize)) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    layouts.par_iter().map(f).collect()
}

/// See the other `map_candidates`.
#[cfg(target_arch = "wasm32")]
fn map_candidates<R>(layouts: &[(usize, usize)], f: impl Fn(&(usize, usize)) -> R) -> Vec<R> {
    layouts.iter().map(f).collect()
}
