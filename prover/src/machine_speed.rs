//! How fast this machine proves, against the cost model's reference machine (2 cores, 2 threads:
//! see [`circuits::plan::estimate`]): each proof's measured time over the plan's estimate for it,
//! kept for the last [`KEPT`] proofs per thread count in the cache directory. `zkinfer plan` scales
//! the time estimates it shows by their median, so they are this machine's once it has proven a
//! few models. Only shown figures use it: the planner's choice stays the reference machine's, so a
//! model compiles to the same circuit everywhere. A damaged or planted file only changes what
//! `plan` shows (and is read bounded, its ratios checked).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;

/// Ratios kept per thread count (the newest).
pub const KEPT: usize = 16;
/// Proofs estimated under this many seconds are not recorded: fixed costs dominate them.
pub const MIN_ESTIMATE_S: f64 = 0.25;
/// Ratios outside this range are not recorded, nor read (a clock jump, a suspended process).
pub const RATIO_RANGE: (f64, f64) = (0.02, 50.0);
/// The log is at most this long (it holds [`KEPT`] numbers).
const MAX_FILE_BYTES: u64 = 16 << 10;

/// The stored ratios of one thread count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeedLog {
    /// Measured over estimated proof time, oldest first.
    pub ratios: Vec<f64>,
}

/// What the stored ratios say: this machine's proofs take `factor` times the estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MachineFactor {
    /// The median ratio.
    pub factor: f64,
    /// How many proofs it is the median of.
    pub proofs: usize,
    /// The prover threads they ran with.
    pub threads: usize,
}

fn valid(r: f64) -> bool {
    (RATIO_RANGE.0..=RATIO_RANGE.1).contains(&r)
}

/// The log of proofs made with `threads` threads, in the cache directory `cache`.
pub fn log_path(cache: &Path, threads: usize) -> PathBuf {
    cache.join(format!("machine-speed-{threads}-threads.json"))
}

/// The valid ratios of the log, if it can be read.
fn read(cache: &Path, threads: usize) -> Option<SpeedLog> {
    let path = log_path(cache, threads);
    if std::fs::metadata(&path).ok()?.len() > MAX_FILE_BYTES {
        return None;
    }
    let mut log: SpeedLog = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    log.ratios.retain(|r| valid(*r));
    keep_newest(&mut log.ratios);
    Some(log)
}

/// Drop all but the newest [`KEPT`] ratios.
fn keep_newest(ratios: &mut Vec<f64>) {
    let drop = ratios.len().saturating_sub(KEPT);
    ratios.drain(..drop);
}

/// Record a proof that took `measured_s` with `threads` threads where the plan estimated
/// `estimate_s`; small or implausible ones are skipped. A failure to write is returned (the caller
/// may ignore it: the proof is unaffected).
pub fn record(
    cache: &Path,
    threads: usize,
    estimate_s: f64,
    measured_s: f64,
) -> std::io::Result<()> {
    let ratio = measured_s / estimate_s;
    if estimate_s < MIN_ESTIMATE_S || !valid(ratio) {
        return Ok(());
    }
    let mut log = read(cache, threads).unwrap_or_default();
    log.ratios.push(ratio);
    keep_newest(&mut log.ratios);
    circuits::setup::store::create_private_dir(cache)?;
    let bytes = serde_json::to_vec(&log).map_err(std::io::Error::other)?;
    write_atomic(&log_path(cache, threads), &bytes)
}

/// The median ratio of the proofs made with `threads` threads, if any were recorded.
pub fn factor(cache: &Path, threads: usize) -> Option<MachineFactor> {
    let mut ratios = read(cache, threads)?.ratios;
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let n = ratios.len();
    let factor = match n % 2 {
        1 => ratios[n / 2],
        _ => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
    };
    Some(MachineFactor {
        factor,
        proofs: n,
        threads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_factor_is_the_median_of_the_last_proofs() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        assert_eq!(factor(&cache, 2), None);
        record(&cache, 2, 10.0, 15.0).unwrap();
        assert_eq!(
            factor(&cache, 2).map(|f| (f.factor, f.proofs)),
            Some((1.5, 1))
        );
        record(&cache, 2, 10.0, 12.0).unwrap();
        assert_eq!(factor(&cache, 2).unwrap().factor, 1.35);
        // Per thread count.
        assert_eq!(factor(&cache, 4), None);
        // The newest KEPT only: after many fast proofs the old slow ones are gone.
        for _ in 0..KEPT {
            record(&cache, 2, 10.0, 5.0).unwrap();
        }
        let f = factor(&cache, 2).unwrap();
        assert_eq!((f.factor, f.proofs, f.threads), (0.5, KEPT, 2));
    }

    #[test]
    fn small_implausible_and_damaged_records_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path();
        record(cache, 2, 0.1, 0.3).unwrap(); // estimated under MIN_ESTIMATE_S
        record(cache, 2, 10.0, 1e4).unwrap(); // a suspended process
        record(cache, 2, 10.0, f64::NAN).unwrap();
        assert_eq!(factor(cache, 2), None);
        assert!(!log_path(cache, 2).exists());
        // A planted log: its implausible ratios are dropped, garbage or a huge file is no log.
        std::fs::write(log_path(cache, 2), r#"{"ratios":[1e9,-1,2.0]}"#).unwrap();
        assert_eq!(factor(cache, 2).unwrap().factor, 2.0);
        std::fs::write(log_path(cache, 2), "not json").unwrap();
        assert_eq!(factor(cache, 2), None);
        let big = format!(r#"{{"ratios":[{}1.0]}}"#, "1.0,".repeat(10_000));
        std::fs::write(log_path(cache, 2), big).unwrap();
        assert_eq!(factor(cache, 2), None);
        // Recording over garbage starts a new log.
        std::fs::write(log_path(cache, 2), "not json").unwrap();
        record(cache, 2, 10.0, 20.0).unwrap();
        assert_eq!(factor(cache, 2).unwrap().factor, 2.0);
    }
}
