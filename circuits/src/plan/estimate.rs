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
    /// Peak memory while making the keys (once, at compile time), in MiB.
    #[serde(default)]
    pub keygen_peak_mib: f64,
    /// Size of a proof, in bytes: an upper bound (selectors counted uncompressed); the compiled
    /// model's verifying key gives the exact size.
    pub proof_bytes: usize,
}

/// What a verifier reads besides the proof and the key, for [`estimate`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifyLoad {
    /// Rows of the instance columns together (public values and hashes).
    pub instance_rows: usize,
    /// Public values the verifier reads and checks (a packed input's values, not its rows).
    pub public_values: usize,
    /// Weights and biases in the model file, and the entries of its remaps (pads, reshapes):
    /// numbers the verifier parses and hashes.
    pub params: usize,
}

impl VerifyLoad {
    /// The load of a proof of `graph` under `disclosure`.
    pub fn of(graph: &QuantGraph, disclosure: &Disclosure) -> Self {
        let (weights, biases) = graph.param_counts();
        let remaps: usize = graph
            .layers
            .iter()
            .map(|l| match &l.op {
                crate::qgraph::QOp::Remap(r) if r.listed => r.map.len(),
                crate::qgraph::QOp::Remap(r) => crate::qgraph::ops::pick_runs(&r.map).len(),
                _ => 0,
            })
            .sum();
        let rows = disclosure.layout.total();
        VerifyLoad {
            instance_rows: rows,
            public_values: match disclosure.visibility.input.is_packed() {
                true => rows - disclosure.layout.input_rows + graph.input_len(),
                false => rows,
            },
            params: weights + biases + remaps,
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
/// - verifying (the whole `zkinfer verify` process) reads, parses and hashes the model file (its
///   parameters and remaps, about 50 ns a number), inflates the verifying key (its selector bits, one
///   per row per selector, deflated in the file) and scans them for the constraint system (no other
///   per-row work: see [`crate::keys::verifier_key`]), evaluates the instance columns at one point
///   (halo2 does two exponentiations per row of the longest column, 2.3 us; reading and checking a
///   public value costs 0.15 us more) and checks a KZG proof: two pairings and a
///   multi-exponentiation over the proof's commitments. Fitted on the MLPerf Tiny shapes of
///   `benches/mlperf/run.sh`: the autoencoder (k = 13), DS-CNN int8 (k = 17), ResNet-8 int8 and
///   MobileNetV1-0.25 (k = 19, 27,650 public values over 7 columns), within 1.15x.
/// - proving holds about 8.5 32-byte values per row for every committed column (values,
///   coefficients and the quotient's pieces) and a third of that per fixed column;
/// - key generation (at compile time, both keys in one pass) holds each fixed column about five
///   times over while halo2 turns its assigned cells into values (cells of 72 bytes, their
///   denominators, the values, then the coefficients: about 170 bytes a row), the copy constraints'
///   maps (about 120 bytes a row per equality column), and the evaluation domain's FFT twiddles
///   (about 200 bytes per row of the extended domain); the proving key is written out as it is
///   serialized. Fitted on seven of the MLPerf Tiny shapes (k = 13-19, 15 to 103 fixed columns,
///   float and int8) and checked on two more (k = 18 and 20): within 0.87-1.10x of the compile's
///   measured peak (below it on the int8 models with large threshold tables).
pub fn estimate(k: u32, shape: &CircuitShape, load: VerifyLoad) -> Estimate {
    let n = (1u64 << k) as f64;
    let advice = shape.advice_columns() as f64;
    let fixed = shape.fixed_columns() as f64;
    let eq = shape.equality_columns() as f64;
    let lookups = shape.lookups() as f64;
    let permutation = (eq / 3.0).ceil();
    let cs = constraint_system(*shape);
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
        verify_s: 0.008
            + load.instance_rows.div_ceil(shape.instance_columns.max(1)) as f64 * 2.3e-6
            + load.public_values as f64 * 0.15e-6
            + load.params as f64 * 50e-9
            + n * cs.num_selectors() as f64 * 1.5e-9,
        peak_mib: 8.0
            + n * (advice + lookups + permutation + 0.3 * fixed) * 32.0 * 8.5 / (1024.0 * 1024.0),
        keygen_peak_mib: {
            let extended = n * (cs.degree() as u64 - 1).next_power_of_two() as f64;
            10.0 + (n * (170.0 * fixed + 120.0 * eq) + 200.0 * extended) / (1024.0 * 1024.0)
        },
        proof_bytes: {
            // Key generation turns each selector into (at most) one fixed column, queried once.
            crate::proof::proof_bytes(&cs) + 32 * cs.num_selectors()
        },
    }
}
