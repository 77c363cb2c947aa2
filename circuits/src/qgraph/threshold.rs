//! A non-decreasing map from accumulators to int8 outputs, given by its thresholds.
//!
//! Some runtimes requantize in float32 (onnxruntime's `MlasRequantizeOutput`: `float(acc) * scale`,
//! rounded half to even). Its rounding of the product to 24 significant bits moves a few outputs
//! off any straight line, so no [`super::RequantStep`] matches it everywhere; but the map is
//! non-decreasing in the accumulator, so it is fixed by where each output level starts. A
//! [`ThresholdMap`] stores those starts; the circuit proves `T_y <= acc < T_(y+1)` against a table of
//! the intervals (see [`crate::circuit::chips::threshold`]), which holds for exactly one `y`.

use serde::{Deserialize, Serialize};

use super::packed::PackedInts;

/// Accumulators a threshold map reads: `[-2^35, 2^35)` (int32 accumulators, and the exact sums of
/// an int8 Add of two differently scaled inputs).
pub const THRESHOLD_DOMAIN: (i64, i64) = (-(1i64 << 35), 1i64 << 35);

/// How the threshold table cuts an interval `[a, b)` of one output into pieces of at most `2^bits`
/// accumulators (see [`ThresholdMap::chunked_rows`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceCut {
    /// Consecutive pieces of `2^bits` from `a`, the last one shorter: a threshold row checks both
    /// `acc - lo` and `hi - 1 - acc`.
    Consecutive,
    /// Pieces whose lengths are powers of two, so a threshold row checks `acc - lo` alone against
    /// its piece's length: pieces of `2^bits` from `a` and, where they leave a rest, one more
    /// ending at `b`; an interval shorter than `2^bits` gets the longest power of two that fits
    /// from each end. Pieces of one interval may overlap (they share its output); none leaves it.
    PowerOfTwo,
}

impl PieceCut {
    /// The pieces of `[a, b)` (`a < b`), in order.
    pub fn pieces(self, (a, b): (i64, i64), bits: u32) -> Vec<(i64, i64)> {
        let full = 1i64 << bits;
        let mut out = Vec::new();
        let mut s = a;
        match self {
            PieceCut::Consecutive => {
                while s < b {
                    out.push((s, (s + full).min(b)));
                    s += full;
                }
            }
            PieceCut::PowerOfTwo if b - a >= full => {
                while s + full <= b {
                    out.push((s, s + full));
                    s += full;
                }
                if s < b {
                    out.push((b - full, b));
                }
            }
            PieceCut::PowerOfTwo => {
                let p = 1i64 << (b - a).ilog2();
                out.push((a, a + p));
                if a + p < b {
                    out.push((b - p, b));
                }
            }
        }
        out
    }

    /// The number of [`Self::pieces`] of an interval `len` long (`len >= 1`).
    pub fn count(self, len: i64, bits: u32) -> i64 {
        let full = 1i64 << bits;
        match self {
            PieceCut::PowerOfTwo if len < full => 1 + (len.count_ones() > 1) as i64,
            _ => (len + full - 1) / full,
        }
    }

    /// The piece of `[a, b)` holding `acc` (`a <= acc < b`): the first of [`Self::pieces`] that
    /// does.
    pub fn piece_of(self, (a, b): (i64, i64), acc: i64, bits: u32) -> (i64, i64) {
        let full = 1i64 << bits;
        let start = a + ((acc - a) >> bits << bits);
        match self {
            PieceCut::Consecutive => (start, (start + full).min(b)),
            PieceCut::PowerOfTwo if b - a >= full => match start + full <= b {
                true => (start, start + full),
                false => (b - full, b),
            },
            PieceCut::PowerOfTwo => {
                let p = 1i64 << (b - a).ilog2();
                match acc < a + p {
                    true => (a, a + p),
                    false => (b - p, b),
                }
            }
        }
    }
}

/// `y = out_min + #{i : thresholds[i] <= acc}` for `acc` in [`THRESHOLD_DOMAIN`], or an
/// alternative output at a few accumulators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdMap {
    /// The output below the first threshold.
    pub out_min: i64,
    /// `thresholds[i]`: the least accumulator whose output is at least `out_min + 1 + i`
    /// (non-decreasing; equal ones skip a level that no accumulator reaches). Written packed
    /// ([`PackedInts`]).
    pub thresholds: PackedInts,
    /// `(acc, y)`: at `acc`, `y` is accepted too (the other rounding of a tie that a runtime's
    /// float32 arithmetic decides by the order of its additions, see [`OrtAveragePool`]). Absent:
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<(i64, i64)>,
}

/// onnxruntime's QLinearAveragePool (x86-64), as the prover computes it: each window element
/// dequantized in float32 (`x_scale * (x - x_zero_point)`), added in row-major order, divided by the
/// window size, then `nearbyintf(mean / y_scale + y_zero_point)` saturated. Near a tie of the exact
/// mean the float32 roundings decide, and differently for two windows of the same integer sum, so
/// the circuit accepts either rounding there ([`ThresholdMap::alternatives`]) and the prover picks
/// onnxruntime's. The fields do not affect what the circuit accepts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrtAveragePool {
    /// The input's scale.
    pub x_scale: f32,
    /// The input's zero point (held signed).
    pub x_zero_point: i64,
    /// The output's scale.
    pub y_scale: f32,
    /// The output's zero point as the file has it (uint8: unshifted).
    pub y_zero_point: i64,
    /// The file's output range (`[-128, 127]`, or `[0, 255]` for uint8).
    pub y_range: (i64, i64),
    /// Held value = file value - `offset` (128 for uint8).
    pub offset: i64,
}

// Scales are finite (the importer checks), so equality is an equivalence.
impl Eq for OrtAveragePool {}

/// onnxruntime's QLinearAdd (x86-64 AVX2 kernel), as the prover computes it: with
/// `r_a = s_a / s_y`, `r_b = s_b / s_y` and `fixed = z_y - (r_a z_a + r_b z_b)` in float32,
/// `fma(a, r_a, fma(b, r_b, fixed))` rounded half to even and saturated, on the kernel's own
/// values (uint8 where onnxruntime runs the uint8 kernel). At a possible tie the circuit accepts
/// both roundings ([`ThresholdMap::alternatives`]) and the prover picks this one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrtAdd {
    /// `s_a / s_y` and `s_b / s_y`.
    pub ratios: (f32, f32),
    /// `z_y - (r_a z_a + r_b z_b)`.
    pub fixed: f32,
    /// Kernel value = held value + `offset` (128 for the uint8 kernel), for inputs and output.
    pub offset: i64,
}

impl Eq for OrtAdd {}

impl OrtAdd {
    /// The kernel for ratios `(s_a / s_y, s_b / s_y)` and held zero points `(z_a, z_b, z_y)`:
    /// `fixed = z_y - fma(z_a, r_a, r_b z_b)` in float32 (kernel values, i.e. plus `offset`), the
    /// contraction onnxruntime 1.32's x86-64 build makes of `MlasQLinearAddKernelAvx2Helper`'s
    /// `z_y - (r_a z_a + r_b z_b)` (the unfused sum misses some ties: pinned by a test).
    pub fn new(ratios: (f32, f32), (za, zb, zy): (i64, i64, i64), offset: i64) -> Self {
        let (ra, rb) = ratios;
        let (za, zb, zy) = (
            (za + offset) as f32,
            (zb + offset) as f32,
            (zy + offset) as f32,
        );
        OrtAdd {
            ratios,
            fixed: zy - za.mul_add(ra, rb * zb),
            offset,
        }
    }

    /// The output for held inputs `a` and `b` (held signed).
    pub fn output(&self, a: i64, b: i64) -> i64 {
        let (ra, rb) = self.ratios;
        let t = ((b + self.offset) as f32).mul_add(rb, self.fixed);
        let v = ((a + self.offset) as f32).mul_add(ra, t).round_ties_even();
        let (lo, hi) = (-128 + self.offset, 127 + self.offset);
        v.clamp(lo as f32, hi as f32) as i64 - self.offset
    }
}

/// How the prover picks between a threshold map's alternatives: the runtime's float32 kernel
/// over the inputs of the layer before (a window sum, or an elementwise sum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrtFloat {
    /// QLinearAveragePool over the windows of the window-sum Conv before.
    AveragePool(OrtAveragePool),
    /// QLinearAdd of the two inputs of the Add before.
    Add(OrtAdd),
}

impl OrtAveragePool {
    /// The output for one window's values (held signed, row-major, padding included: a padded
    /// element holds the zero point and adds 0.0).
    pub fn output(&self, window: &[i64]) -> i64 {
        let mut sum = 0.0f32;
        for x in window {
            sum += self.x_scale * (x - self.x_zero_point) as f32;
        }
        let mean = sum / window.len() as f32;
        let v = (mean / self.y_scale + self.y_zero_point as f32).round_ties_even();
        let (lo, hi) = self.y_range;
        (v.clamp(lo as f32, hi as f32) as i64) - self.offset
    }
}

impl ThresholdMap {
    /// The thresholds of `out`, a non-decreasing map of the domain into `[act_min, act_max]` (a
    /// runtime's output, saturated), found by bisection.
    pub fn from_fn(out: &dyn Fn(i64) -> i64, (act_min, act_max): (i64, i64)) -> Self {
        let (d0, d1) = (THRESHOLD_DOMAIN.0, THRESHOLD_DOMAIN.1 - 1);
        let bottom = out(d0).max(act_min);
        let thresholds = (bottom + 1..=act_max)
            .map(|v| {
                if out(d1) < v {
                    return THRESHOLD_DOMAIN.1;
                }
                let (mut lo, mut hi) = (d0, d1);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    match out(mid) >= v {
                        true => hi = mid,
                        false => lo = mid + 1,
                    }
                }
                lo
            })
            .collect::<Vec<_>>();
        // Levels above the largest output reached are never entered: drop them.
        let reached = thresholds
            .iter()
            .rposition(|t| *t < THRESHOLD_DOMAIN.1)
            .map_or(0, |i| i + 1);
        ThresholdMap {
            out_min: bottom,
            thresholds: thresholds[..reached].to_vec().into(),
            alternatives: Vec::new(),
        }
    }

    /// Whether the circuit accepts `y` for `acc`: the map's output, or an alternative.
    pub fn allows(&self, acc: i64, y: i64) -> bool {
        self.apply(acc) == Some(y) || self.alternatives.binary_search(&(acc, y)).is_ok()
    }

    /// The rows of the threshold table: the intervals, then one single-accumulator interval per
    /// alternative.
    pub fn table_rows(&self) -> Vec<(i64, i64, i64)> {
        let mut rows = self.intervals();
        rows.extend(self.alternatives.iter().map(|(acc, y)| (*y, *acc, acc + 1)));
        rows
    }

    /// The output for `acc`; `None` outside [`THRESHOLD_DOMAIN`].
    pub fn apply(&self, acc: i64) -> Option<i64> {
        (THRESHOLD_DOMAIN.0..THRESHOLD_DOMAIN.1)
            .contains(&acc)
            .then(|| self.out_min + self.thresholds.partition_point(|t| *t <= acc) as i64)
    }

    /// The non-empty intervals `(y, lo, hi)`: `acc` in `[lo, hi)` gives `y`. They cover the domain,
    /// in order.
    pub fn intervals(&self) -> Vec<(i64, i64, i64)> {
        let bounds: Vec<i64> = std::iter::once(THRESHOLD_DOMAIN.0)
            .chain(self.thresholds.iter().copied())
            .chain(std::iter::once(THRESHOLD_DOMAIN.1))
            .collect();
        bounds
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0] < w[1])
            .map(|(i, w)| (self.out_min + i as i64, w[0], w[1]))
            .collect()
    }

    /// The rows of the threshold table when threshold rows check one limb of `bits` bits: the
    /// intervals cut to `domain` (`[min, max]`, the accumulators the map can meet, see
    /// [`crate::qgraph::QuantGraph::threshold_domains`]) and split into pieces of at most `2^bits`
    /// accumulators as `cut` says; then the alternatives inside the domain.
    pub fn chunked_rows(
        &self,
        domain: (i64, i64),
        bits: u32,
        cut: PieceCut,
    ) -> Vec<(i64, i64, i64)> {
        let mut rows = Vec::new();
        for (y, lo, hi) in self.intervals() {
            let (a, b) = (lo.max(domain.0), hi.min(domain.1 + 1));
            if a < b {
                rows.extend(cut.pieces((a, b), bits).into_iter().map(|(l, h)| (y, l, h)));
            }
        }
        let inside = |acc: &i64| (domain.0..=domain.1).contains(acc);
        rows.extend(
            self.alternatives
                .iter()
                .filter(|(acc, _)| inside(acc))
                .map(|(acc, y)| (*y, *acc, acc + 1)),
        );
        rows
    }

    /// The number of [`Self::chunked_rows`], counted without making them.
    pub fn chunked_len(&self, domain: (i64, i64), bits: u32, cut: PieceCut) -> usize {
        let pieces: i64 = self
            .intervals()
            .into_iter()
            .map(|(_, lo, hi)| {
                let (a, b) = (lo.max(domain.0), hi.min(domain.1 + 1));
                if a < b {
                    cut.count(b - a, bits)
                } else {
                    0
                }
            })
            .sum();
        let inside = |acc: &i64| (domain.0..=domain.1).contains(acc);
        pieces as usize + self.alternatives.iter().filter(|(a, _)| inside(a)).count()
    }

    /// The row of [`Self::chunked_rows`] holding `acc` (the map's own output): `(y, lo, hi)`;
    /// `None` outside `domain`.
    pub fn chunk_of(
        &self,
        acc: i64,
        domain: (i64, i64),
        bits: u32,
        cut: PieceCut,
    ) -> Option<(i64, i64, i64)> {
        if !(domain.0..=domain.1).contains(&acc) {
            return None;
        }
        let y = self.apply(acc)?;
        let i = (y - self.out_min) as usize;
        let lo = match i {
            0 => THRESHOLD_DOMAIN.0,
            _ => self.thresholds[i - 1],
        };
        let hi = self
            .thresholds
            .get(i)
            .copied()
            .unwrap_or(THRESHOLD_DOMAIN.1);
        let (a, b) = (lo.max(domain.0), hi.min(domain.1 + 1));
        let (lo, hi) = cut.piece_of((a, b), acc, bits);
        Some((y, lo, hi))
    }

    /// Check a map read from a file: thresholds non-decreasing inside the domain, outputs within
    /// `[-2^15, 2^15)`.
    pub fn validate(&self) -> Result<(), String> {
        if self.thresholds.len() >= 1 << 16 {
            return Err(format!("{} thresholds", self.thresholds.len()));
        }
        let top = self.out_min + self.thresholds.len() as i64;
        if self.out_min < -(1 << 15) || top >= 1 << 15 {
            return Err(format!("outputs [{}, {top}] out of range", self.out_min));
        }
        let inside = self
            .thresholds
            .iter()
            .all(|t| (THRESHOLD_DOMAIN.0 < *t) && *t < THRESHOLD_DOMAIN.1);
        if !inside || self.thresholds.windows(2).any(|w| w[0] > w[1]) {
            return Err("thresholds decrease or leave the domain".into());
        }
        let alt_ok = self.alternatives.len() < 1 << 16
            && self.alternatives.windows(2).all(|w| w[0] < w[1])
            && self.alternatives.iter().all(|(acc, y)| {
                (THRESHOLD_DOMAIN.0..THRESHOLD_DOMAIN.1 - 1).contains(acc)
                    && (-(1 << 15)..1 << 15).contains(y)
            });
        if !alt_ok {
            return Err("alternatives unsorted, repeated or out of range".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::requant::ort_requantize;
    use super::*;

    #[test]
    fn thresholds_reproduce_onnxruntime_exactly() {
        for (scale, zp, range) in [
            (0.000_731_2f32, -3, (-128, 127)),
            (0.013_7f32, -128, (-128, 127)),
            (2.0e-6f32, 10, (-128, 127)),
            (0.25f32, 0, (0, 127)),
        ] {
            let out = |acc: i64| ort_requantize(acc, scale, zp, range);
            let map = ThresholdMap::from_fn(&out, range);
            assert!(map.validate().is_ok());
            for (y, lo, hi) in map.intervals() {
                for acc in [lo, lo + 1, hi - 1, hi - 2] {
                    if (lo..hi).contains(&acc) {
                        assert_eq!(out(acc), y, "scale {scale} acc {acc}");
                        assert_eq!(map.apply(acc), Some(y));
                    }
                }
            }
            let mut x = 0x2545_f491_4f6c_dd1du64;
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let acc = (x as i64) >> (32 + (x % 24) as i64);
                assert_eq!(map.apply(acc), Some(out(acc)), "scale {scale} acc {acc}");
            }
        }
    }

    #[test]
    fn chunked_rows_cover_the_domain_in_pieces_of_the_map() {
        let map = ThresholdMap {
            out_min: -2,
            thresholds: vec![-5, -5, 7, 10_000].into(),
            alternatives: vec![(6, 1), (50_000, 3)],
        };
        let domain = (-9_000, 20_000);
        for cut in [PieceCut::Consecutive, PieceCut::PowerOfTwo] {
            let rows = map.chunked_rows(domain, 12, cut);
            assert_eq!(map.chunked_len(domain, 12, cut), rows.len());
            // The whole domain in 12-bit pieces: about 2^24, counted without making them.
            let whole = (THRESHOLD_DOMAIN.0, THRESHOLD_DOMAIN.1 - 1);
            assert!(map.chunked_len(whole, 12, cut) > 1 << 24);
            let (pieces, alts) = rows.split_at(rows.len() - 1);
            // The alternative inside the domain is kept, the one outside dropped.
            assert_eq!(alts, [(1, 6, 7)]);
            assert_eq!(pieces.first().map(|r| r.1), Some(domain.0));
            assert_eq!(pieces.last().map(|r| r.2), Some(domain.1 + 1));
            for w in pieces.windows(2) {
                // Consecutive pieces touch; power-of-two ones may overlap within one output.
                match cut {
                    PieceCut::Consecutive => assert_eq!(w[0].2, w[1].1, "contiguous: {w:?}"),
                    PieceCut::PowerOfTwo => assert!(
                        w[0].2 == w[1].1 || (w[0].0 == w[1].0 && w[1].1 < w[0].2),
                        "{w:?}"
                    ),
                }
            }
            for &(y, lo, hi) in pieces {
                assert!(lo < hi && hi - lo <= 1 << 12, "{lo}..{hi}");
                if cut == PieceCut::PowerOfTwo {
                    assert_eq!((hi - lo).count_ones(), 1, "{lo}..{hi}");
                }
                assert_eq!(map.apply(lo), Some(y));
                assert_eq!(map.apply(hi - 1), Some(y));
            }
            // Every accumulator of the domain has its piece, a row holding it.
            for acc in (domain.0..=domain.1)
                .step_by(7)
                .chain([domain.1, -5, 6, 7, 9_999])
            {
                let (y, lo, hi) = map.chunk_of(acc, domain, 12, cut).unwrap();
                assert_eq!(map.apply(acc), Some(y));
                assert!((lo..hi).contains(&acc), "{acc} in {lo}..{hi}");
                assert!(pieces.contains(&(y, lo, hi)), "{acc}: {lo}..{hi} is a row");
            }
            assert_eq!(map.chunk_of(domain.1 + 1, domain, 12, cut), None);
            assert_eq!(map.chunk_of(domain.0 - 1, domain, 12, cut), None);
        }
        // A level 12 long: two overlapping pieces of 8; one of 8: one piece; 4,097: two of 4,096.
        let cut = PieceCut::PowerOfTwo;
        assert_eq!(cut.pieces((0, 12), 12), [(0, 8), (4, 12)]);
        assert_eq!(cut.pieces((3, 11), 12), [(3, 11)]);
        assert_eq!(cut.pieces((0, 4097), 12), [(0, 4096), (1, 4097)]);
        for (len, n) in [(12, 2), (8, 1), (1, 1), (4097, 2), (8192, 2), (8193, 3)] {
            assert_eq!(cut.count(len, 12), n, "{len}");
            assert_eq!(cut.pieces((5, 5 + len), 12).len() as i64, n, "{len}");
        }
    }

    #[test]
    fn intervals_cover_the_domain_and_skip_empty_levels() {
        let map = ThresholdMap {
            out_min: -2,
            thresholds: vec![-5, -5, 7].into(),
            alternatives: vec![(6, 1)],
        };
        assert!(map.allows(6, 0) && map.allows(6, 1) && !map.allows(5, 1));
        assert_eq!(map.table_rows().last(), Some(&(1, 6, 7)));
        assert_eq!(
            map.intervals(),
            vec![
                (-2, THRESHOLD_DOMAIN.0, -5),
                (0, -5, 7),
                (1, 7, THRESHOLD_DOMAIN.1)
            ]
        );
        assert_eq!(map.apply(-6), Some(-2));
        assert_eq!(map.apply(-5), Some(0));
        assert_eq!(map.apply(1 << 35), None);
        assert!(ThresholdMap {
            out_min: 0,
            thresholds: vec![3, 2].into(),
            alternatives: vec![],
        }
        .validate()
        .is_err());
    }
}
