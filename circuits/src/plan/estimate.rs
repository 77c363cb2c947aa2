//! The cost model: what a plan's proving, key generation and verifying take on the reference
//! machine, and what a verifier reads.

use serde::{Deserialize, Serialize};

use super::constraint_system;
use crate::circuit::CircuitShape;
use crate::disclosure::Disclosure;
use crate::qgraph::QuantGraph;

/// Predicted cost on the reference machine (2 cores, 2 threads); see [`estimate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Key generation, in seconds.
    pub keygen_s: f64,
    /// Proving, in seconds.
    pub prove_s: f64,
    /// Verifying, the whole `zkinfer verify` process, in seconds.
    pub verify_s: f64,
    /// Peak memory while proving, in MiB.
    pub peak_mib: f64,
    /// Size of a proof, in bytes: an upper bound (selectors counted uncompressed); the compiled
    /// model's verifying key gives the exact size.
    pub proof_bytes: usize,
}

/// What a verifier reads besides the proof and the key, for [`estimate`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifyLoad {
    /// Rows of the instance column (public values and hashes).
    pub instance_rows: usize,
    /// Weights and biases in the model file.
    pub params: usize,
}

impl VerifyLoad {
    /// The load of a proof of `graph` under `disclosure`.
    pub fn of(graph: &QuantGraph, disclosure: &Disclosure) -> Self {
        let (weights, biases) = graph.param_counts();
        VerifyLoad {
            instance_rows: disclosure.layout.total(),
            params: weights + biases,
        }
    }
}

/// Cost model, constants measured on the 2-core reference machine with 2 threads (see README):
/// - proving commits and FFTs every advice column, the lookups' polynomials and one permutation
///   product per three equality columns, over 2^k rows (4x extended for the quotient). A lookup
///   costs about 1.1 advice columns in time and one in memory (fitted on the 16 float and int8
///   TFLite models of `benches/mlperf/run.sh`, k = 12-19, 3 and 11-12 lookups: proof times within
///   1.14x, peaks within 1.16x above 256 MiB and 1.4x below, where the process's own memory counts);
/// - key generation (at compile time) commits every fixed column (one multi-exponentiation each,
///   cheap for small non-negative values) and every equality column (full-width values);
/// - verifying (the whole `zkinfer verify` process) reads and hashes the model file (its parameters,
///   and the verifying key, whose selector bits grow with 2^k), builds the key's constraint system
///   (no per-row work: see [`crate::keys::verifier_key`]), evaluates the instance column at one point
///   (halo2 does two exponentiations per instance row: a public input's size counts) and checks a
///   KZG proof: two pairings and a multi-exponentiation over the proof's commitments. Fitted on the
///   digits MLP, LeNet-5 (k = 15, 1,034 instance rows), ResNet-8 (k = 19) and MobileNetV1-0.25
///   (k = 20, 27,650 instance rows).
/// - proving holds about 8.5 32-byte values per row for every committed column (values,
///   coefficients and the quotient's pieces) and a third of that per fixed column.
pub fn estimate(k: u32, shape: &CircuitShape, load: VerifyLoad) -> Estimate {
    let n = (1u64 << k) as f64;
    let advice = shape.advice_columns() as f64;
    let fixed = shape.fixed_columns() as f64;
    let eq = shape.equality_columns() as f64;
    let lookups = shape.lookups() as f64;
    let permutation = (eq / 3.0).ceil();
    // Key generation and verification run on one thread up to k = 11 (faster there).
    let one_thread = k <= crate::setup::threads::SINGLE_THREAD_MAX_K;
    let (small_msm, full_msm) = if one_thread {
        (0.25e-3 + n * 0.55e-6, 0.3e-3 + n * 7.5e-6)
    } else {
        (0.7e-3 + n * 0.4e-6, 0.8e-3 + n * 3.7e-6)
    };
    let keygen_vk = fixed * small_msm + eq * full_msm + n * fixed * 0.2e-6;
    Estimate {
        keygen_s: 0.35 * (keygen_vk + n * (advice + fixed) * 2.0e-6),
        prove_s: 0.04 + n * (advice + 1.1 * lookups + permutation) * 7.6e-6,
        verify_s: 0.006
            + load.instance_rows as f64 * 3.0e-6
            + load.params as f64 * 130e-9
            + n * 17e-9,
        peak_mib: 8.0
            + n * (advice + lookups + permutation + 0.3 * fixed) * 32.0 * 8.5 / (1024.0 * 1024.0),
        proof_bytes: {
            // Key generation turns each selector into (at most) one fixed column, queried once.
            let cs = constraint_system(*shape);
            crate::proof::proof_bytes(&cs) + 32 * cs.num_selectors()
        },
    }
}
