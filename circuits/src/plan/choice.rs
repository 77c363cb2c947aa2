//! The planner's choice among the layouts it tried: the cheapest, a small proof where it costs
//! little, or the cheapest whose proof fits a limit the user sets.

use super::{LayoutError, Plan};

/// What a chosen plan must fit besides the model: a proof size, a memory peak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanLimits {
    /// The most bytes a proof may take (`compile --max-proof-bytes`).
    pub max_proof_bytes: Option<usize>,
    /// The most memory, in MiB, that key generation or a proof may take by the plan's estimate:
    /// the machine's, when the fastest layout does not fit it.
    pub max_peak_mib: Option<u64>,
}

impl PlanLimits {
    /// Only a proof size limit.
    pub fn proof_bytes(max_proof_bytes: Option<usize>) -> Self {
        PlanLimits {
            max_proof_bytes,
            max_peak_mib: None,
        }
    }
}

/// The larger of a plan's key-generation and proving peaks, in MiB (what a machine must hold to
/// compile the model and prove with it).
pub fn peak_mib(p: &Plan) -> f64 {
    p.estimate.keygen_peak_mib.max(p.estimate.peak_mib)
}

/// Proofs at most this large are preferred (EZKL's proof size on the same models).
pub const SMALL_PROOF_BYTES: usize = 3072;
/// A layout with a small proof is preferred when its cost is at most this factor over the cheapest.
pub const SMALL_PROOF_SLACK: f64 = 1.5;
/// ... and when each proof takes at most this many seconds longer, and at most
/// [`SMALL_PROOF_MAX_EXTRA_FRACTION`] longer: a few hundred bytes of proof are not worth tens of
/// seconds per proof on a large model.
pub const SMALL_PROOF_MAX_EXTRA_S: f64 = 5.0;
/// See [`SMALL_PROOF_MAX_EXTRA_S`].
pub const SMALL_PROOF_MAX_EXTRA_FRACTION: f64 = 0.5;

/// What the planner minimizes: prove time plus key generation plus ten times verify time.
pub(super) fn plan_cost(p: &Plan) -> f64 {
    let e = &p.estimate;
    e.prove_s + e.keygen_s + 10.0 * e.verify_s
}

/// The cheapest plan of `plans`, if any.
fn cheapest(plans: impl Iterator<Item = Plan>) -> Option<Plan> {
    plans.min_by(|a, b| plan_cost(a).total_cmp(&plan_cost(b)))
}

/// The plan to compile, `None` when there are no candidates.
///
/// Without a limit: the cheapest (prove time plus key generation plus ten times verify time),
/// unless one whose proof is at most [`SMALL_PROOF_BYTES`] costs at most [`SMALL_PROOF_SLACK`] times
/// as much and proves at most [`SMALL_PROOF_MAX_EXTRA_S`] (and [`SMALL_PROOF_MAX_EXTRA_FRACTION`])
/// slower: then the cheapest of those.
///
/// With `max_proof_bytes`: the cheapest whose proof is at most that many bytes, whatever it costs
/// ([`LayoutError::ProofTooLarge`], naming the smallest proof tried, when none is).
///
/// With `max_peak_mib`, all of this among the plans whose peaks ([`peak_mib`]) are within it
/// ([`LayoutError::OverMemory`], naming the smallest peak tried, when none is).
pub(super) fn best_of(
    candidates: Vec<Plan>,
    limits: PlanLimits,
) -> Option<Result<Plan, LayoutError>> {
    let candidates = match limits.max_peak_mib {
        Some(limit) => {
            let least = candidates
                .iter()
                .min_by(|a, b| peak_mib(a).total_cmp(&peak_mib(b)))?
                .clone();
            let within: Vec<Plan> = candidates
                .into_iter()
                .filter(|p| peak_mib(p) <= limit as f64)
                .collect();
            if within.is_empty() {
                return Some(Err(LayoutError::OverMemory {
                    limit_mib: limit,
                    least_mib: peak_mib(&least).ceil() as u64,
                    layout: layout_name(&least),
                }));
            }
            within
        }
        None => candidates,
    };
    if let Some(limit) = limits.max_proof_bytes {
        let smallest = candidates
            .iter()
            .min_by_key(|p| (p.estimate.proof_bytes, p.k))?
            .clone();
        let fitting = candidates
            .into_iter()
            .filter(|p| p.estimate.proof_bytes <= limit);
        return Some(cheapest(fitting).ok_or_else(|| proof_too_large(limit, &smallest)));
    }
    let fastest = cheapest(candidates.iter().cloned())?;
    let small = cheapest(
        candidates
            .into_iter()
            .filter(|p| p.estimate.proof_bytes <= SMALL_PROOF_BYTES),
    );
    Some(Ok(match small {
        Some(s)
            if plan_cost(&s) <= SMALL_PROOF_SLACK * plan_cost(&fastest)
                && s.estimate.prove_s - fastest.estimate.prove_s
                    <= SMALL_PROOF_MAX_EXTRA_S
                        .min(SMALL_PROOF_MAX_EXTRA_FRACTION * fastest.estimate.prove_s) =>
        {
            s
        }
        _ => fastest,
    }))
}

/// [`LayoutError::ProofTooLarge`] for a limit that `smallest`, the smallest proof there is, exceeds.
pub fn proof_too_large(limit: usize, smallest: &Plan) -> LayoutError {
    LayoutError::ProofTooLarge {
        limit,
        smallest: smallest.estimate.proof_bytes,
        layout: layout_name(smallest),
    }
}

/// `P x W layout (inputs x accumulators per row), k = ..`.
fn layout_name(p: &Plan) -> String {
    format!(
        "{} x {} layout (inputs x accumulators per row), k = {}",
        p.shape.inputs_per_row, p.shape.width, p.k
    )
}

impl Plan {
    /// Rows no k leaves for the circuit (blinding rows and halo2's own).
    pub fn reserved_rows(&self) -> usize {
        self.usable_rows.abs_diff(1 << self.k)
    }

    /// The k the circuit's rows alone need (its rows, hash rows and instance rows): below
    /// [`Plan::k`] when the largest lookup table sets it.
    pub fn k_for_rows(&self) -> u32 {
        let (instance, columns) = (self.instance_rows, self.shape.instance_columns);
        let needed = super::circuit_rows(self.rows, self.hash_rows, instance, columns);
        super::smallest_k(needed, self.reserved_rows()).map_or(self.k, |k| k.min(self.k))
    }
}
