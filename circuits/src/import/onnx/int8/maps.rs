//! The threshold maps of onnxruntime's int8 arithmetic: its float32 requantization of an
//! accumulator, and the average pool's rounding of a window mean (exact, with the other rounding
//! accepted where its float32 sum may fall on either side of a tie).

use super::NodeResult;
use crate::qgraph::requant::ort_requantize;
use crate::qgraph::threshold::{OrtAveragePool, ThresholdMap};

/// The int8 output range.
pub(super) const RANGE: (i64, i64) = (-128, 127);

/// `x` as an exact fraction `m * 2^e` (finite, positive).
pub(super) fn dyadic(x: f32) -> (i128, i32) {
    let bits = x.to_bits();
    let exp = ((bits >> 23) & 0xff) as i32;
    let frac = (bits & 0x7f_ffff) as i128;
    match exp {
        0 => (frac, -149),
        _ => (frac | 0x80_0000, exp - 150),
    }
}

/// `num / den` rounded half to even (`den > 0`).
pub(super) fn round_half_even(num: i128, den: i128) -> i128 {
    let q = num.div_euclid(den);
    let r = num.rem_euclid(den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// `round_half_even(num 2^num_exp / (den 2^den_exp) + zp)`, exactly (`den > 0`); `None` when the
/// exponents are too far apart for 128 bits.
pub(super) fn round_ratio(
    num: i128,
    num_exp: i32,
    den: i128,
    den_exp: i32,
    zp: i64,
) -> Option<i128> {
    let d = num_exp - den_exp;
    if d.abs() > 60 {
        return None;
    }
    let (n, m) = match d >= 0 {
        true => (num.checked_mul(1i128 << d)?, den),
        false => (num, den.checked_mul(1i128 << -d)?),
    };
    Some(round_half_even(
        n.checked_add((zp as i128).checked_mul(m)?)?,
        m,
    ))
}

/// The alternatives of a map whose exact real value at each accumulator is `value(acc)` and whose
/// runtime computes it in float32 within `eps`: where the value is within `eps` of a tie, the
/// other rounding (clamped to `range`, less `offset` to the held value) at that accumulator.
pub(super) fn tie_alternatives(
    map: &mut ThresholdMap,
    accs: impl Iterator<Item = (i64, f64, f64)>,
    range: (i64, i64),
    offset: i64,
) {
    for (acc, v, eps) in accs {
        if ((v - v.floor()) - 0.5).abs() > eps {
            continue;
        }
        let Some(primary) = map.apply(acc) else {
            continue;
        };
        for cand in [v.floor() as i64, v.floor() as i64 + 1] {
            let y = cand.clamp(range.0, range.1) - offset;
            if y != primary {
                map.alternatives.push((acc, y));
            }
        }
    }
    map.alternatives.sort_unstable();
    map.alternatives.dedup();
}

/// onnxruntime's average pool as a threshold map of the window sum `S = Σ (x - x_zero_point)`:
/// the exact `round_half_even(S * x_scale / (count * y_scale) + y_zero_point)` (the file's zero
/// point and range, then held signed), and where onnxruntime's float32 sum may land on the other
/// side of a tie (within a bound on its rounding error), the other rounding as an alternative.
pub(super) fn average_pool_map(pool: &OrtAveragePool, count: i64) -> NodeResult<ThresholdMap> {
    let (mx, ex) = dyadic(pool.x_scale);
    let (my, ey) = dyadic(pool.y_scale);
    if (ex - ey).abs() > 60 {
        return Err(format!(
            "scales {} and {} are too far apart",
            pool.x_scale, pool.y_scale
        ));
    }
    let (lo, hi) = pool.y_range;
    let held = |acc: i64| {
        let y = round_ratio(
            acc as i128 * mx,
            ex,
            count as i128 * my,
            ey,
            pool.y_zero_point,
        )
        .unwrap_or(if acc < 0 { lo as i128 } else { hi as i128 });
        y.clamp(lo as i128, hi as i128) as i64 - pool.offset
    };
    let mut map = ThresholdMap::from_fn(&held, RANGE);
    // A bound on onnxruntime's float32 error in `mean / y_scale + y_zero_point`: `count` products
    // and additions, a division, a division and an addition, each within 2^-24 relatively.
    let ratio = pool.x_scale as f64 / pool.y_scale as f64;
    let u = 2f64.powi(-24);
    let eps = 2.0 * count as f64 * u * 255.0 * ratio
        + 4.0 * u * (pool.y_zero_point.abs() as f64 + 256.0 + 255.0 * ratio);
    let reach = count * (-128 - pool.x_zero_point)..=count * (127 - pool.x_zero_point);
    let values = reach.map(|s| {
        (
            s,
            s as f64 * ratio / count as f64 + pool.y_zero_point as f64,
            eps,
        )
    });
    tie_alternatives(&mut map, values, pool.y_range, pool.offset);
    Ok(map)
}

/// onnxruntime's requantization by the float32 `scale` into zero point `zp`.
pub(super) fn ort_map(scale: f32, zp: i64) -> ThresholdMap {
    ThresholdMap::from_fn(&|acc| ort_requantize(acc, scale, zp, RANGE), RANGE)
}
