//! Refusing work whose planned peak memory is over what this process has, before it starts (exit 2
//! with both figures), instead of dying half-way with an allocation failure; `--force` overrides.

use std::path::Path;

use anyhow::Result;

use circuits::circuit::CircuitShape;
use circuits::plan::{estimate, Estimate, VerifyLoad, MIN_K};

/// What is about to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// Key generation (`compile`, or a first `prove` without a cached proving key).
    Keygen,
    /// Proving, with the proving key cached.
    Prove,
    /// Making the proving key, then proving with it.
    KeygenThenProve,
}

impl Work {
    /// The plan's peak for this work, in bytes.
    fn peak_bytes(self, e: &Estimate) -> u64 {
        let mib = match self {
            Work::Keygen => e.keygen_peak_mib,
            Work::Prove => e.peak_mib,
            Work::KeygenThenProve => e.keygen_peak_mib.max(e.peak_mib),
        };
        (mib * (1u64 << 20) as f64) as u64
    }

    fn what(self) -> &'static str {
        match self {
            Work::Keygen => "making the keys of",
            Work::Prove => "proving",
            Work::KeygenThenProve => "making the proving key of, then proving,",
        }
    }

    fn whose_peak(self) -> &'static str {
        match self {
            Work::Keygen => "the plan's key-generation peak",
            Work::Prove => "the plan's peak",
            Work::KeygenThenProve => "the larger of the plan's key-generation and proving peaks",
        }
    }
}

/// The memory this process has, in bytes, when `work` on a circuit of `shape` with `2^k` rows
/// needs more by its plan; `None` when it fits (or nothing limits it).
pub fn over(shape: &CircuitShape, k: u32, work: Work) -> Result<Option<u64>> {
    let Some(available) = prover::memory::available_bytes().map_err(anyhow::Error::msg)? else {
        return Ok(None);
    };
    let need = work.peak_bytes(&estimate(k, shape, VerifyLoad::default()));
    Ok((need > available).then_some(available))
}

/// Refuse `work` on `model` (a circuit of `shape` with `2^k` rows) when its planned peak memory is
/// over what this process has, unless `force`.
pub fn check(model: &Path, shape: &CircuitShape, k: u32, work: Work, force: bool) -> Result<()> {
    let Some(available) = over(shape, k, work)? else {
        return Ok(());
    };
    if force {
        return Ok(());
    }
    let load = VerifyLoad::default(); // memory only
    let peak = |k| work.peak_bytes(&estimate(k, shape, load));
    let need = peak(k);
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let fits = (MIN_K..k).rev().find(|k| peak(*k) <= available).map_or(
        "no circuit of this row shape fits".to_string(),
        |fit| {
            format!(
                "circuits of this row shape fit up to k = {fit} ({} rows; this one needs k = {k})",
                1usize << fit
            )
        },
    );
    anyhow::bail!(
        "{} {} needs about {:.1} GiB ({} at k = {k}), over the {:.1} GiB this process has ({}); \
         {fits}. Run it on a larger machine, or pass --force to try anyway",
        work.what(),
        model.display(),
        gib(need),
        work.whose_peak(),
        gib(available),
        match std::env::var_os(prover::memory::MEMORY_VAR) {
            Some(_) => prover::memory::MEMORY_VAR,
            None => "available memory, cgroup and address-space limits",
        }
    )
}
