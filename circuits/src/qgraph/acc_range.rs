//! The accumulators a threshold map can meet: for each map, the least and the greatest value its
//! layer's input can take over every input of the model.
//!
//! Threshold rows with one limb per difference ([`crate::circuit::chips::threshold`]) need table
//! intervals no wider than a limb, so their table holds each map's intervals cut to these bounds and
//! split into pieces. The bounds only decide which pieces the table holds: a bound too tight would
//! make an honest proof fail (the prover finds no piece), never accept a wrong output. They follow
//! the integer semantics: an int8 input holds `[-128, 127]`, a requantization or a table its
//! outputs, a rearrangement its inputs and constants, and a sum adds each term's extremes.

use super::ops::{QConv, QLinear, QTableSum};
use super::threshold::THRESHOLD_DOMAIN;
use super::{QOp, QPick, QuantGraph};

/// Values an int8 tensor holds (uint8 tensors are held as int8): the input of an int8 graph.
const INT8: (i64, i64) = (-128, 127);

/// `[min, max]` of `w * x` for `x` in `r`.
fn scaled(w: i64, (lo, hi): (i64, i64)) -> (i64, i64) {
    let (a, b) = (w.saturating_mul(lo), w.saturating_mul(hi));
    (a.min(b), a.max(b))
}

/// `[min, max]` of a dot product of `weights` with values in `r`, plus `bias`.
fn dot(weights: &[i64], bias: i64, r: (i64, i64)) -> (i64, i64) {
    weights.iter().fold((bias, bias), |(lo, hi), w| {
        let (a, b) = scaled(*w, r);
        (lo.saturating_add(a), hi.saturating_add(b))
    })
}

/// `[min, max]` of the products of two values in `a` and `b`.
fn product(a: (i64, i64), b: (i64, i64)) -> (i64, i64) {
    let m = |x: i64, y: i64| x.saturating_mul(y);
    let c = [m(a.0, b.0), m(a.0, b.1), m(a.1, b.0), m(a.1, b.1)];
    (
        c.into_iter().min().unwrap_or(0),
        c.into_iter().max().unwrap_or(0),
    )
}

/// `[min, max]` of `values`.
fn extremes(values: impl IntoIterator<Item = i64>) -> Option<(i64, i64)> {
    values.into_iter().fold(None, |r, v| match r {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// The smallest range holding `a` and `b`.
fn union(a: (i64, i64), b: (i64, i64)) -> (i64, i64) {
    (a.0.min(b.0), a.1.max(b.1))
}

impl QuantGraph {
    /// `[min, max]` of the values tensor `t` (0: the input, `k + 1`: layer `k`'s output) holds for
    /// every input, where the graph says it without evaluating: an int8 graph's input, an output of
    /// a requantization or a table, or a rearrangement of such; `None` otherwise (a sum).
    fn value_range(&self, t: usize) -> Option<(i64, i64)> {
        if t == 0 {
            return self.int8.is_some().then_some(INT8);
        }
        let inputs = |i: usize| -> Option<(i64, i64)> {
            let ranges = self
                .layer_inputs(i)
                .into_iter()
                .map(|t| self.value_range(t));
            ranges
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .reduce(union)
        };
        match &self.layers[t - 1].op {
            QOp::Threshold(th) => extremes(th.maps.iter().flat_map(|m| {
                let top = m.out_min + m.thresholds.len() as i64;
                [m.out_min, top]
                    .into_iter()
                    .chain(m.alternatives.iter().map(|a| a.1))
            })),
            QOp::Requant(r) => {
                extremes(r.steps.iter().flat_map(|s| [s.out_min, s.out_min + s.span]))
            }
            QOp::Table(table) => extremes(table.table.iter().copied()),
            QOp::Remap(remap) => {
                let consts = extremes(remap.map.iter().filter_map(|p| match p {
                    QPick::Const(v) => Some(*v),
                    QPick::Input(_) => None,
                }));
                let picked = remap.map.iter().any(|p| matches!(p, QPick::Input(_)));
                match (picked, consts) {
                    (true, Some(c)) => Some(union(inputs(t - 1)?, c)),
                    (true, None) => inputs(t - 1),
                    (false, c) => c,
                }
            }
            QOp::MaxPool(_) => inputs(t - 1),
            _ => None,
        }
    }

    /// `[min, max]` of each output element of layer `i`, a sum over inputs of known range; `None`
    /// for another layer or other inputs.
    fn sum_bounds(&self, i: usize) -> Option<Vec<(i64, i64)>> {
        let layer = &self.layers[i];
        let ranges = self
            .layer_inputs(i)
            .into_iter()
            .map(|t| self.value_range(t))
            .collect::<Option<Vec<_>>>()?;
        let r = ranges.into_iter().reduce(union)?;
        let n = layer.out_shape.numel();
        let each = |f: &dyn Fn(usize) -> (i64, i64)| Some((0..n).map(f).collect());
        match &layer.op {
            QOp::Linear(QLinear {
                in_features,
                out_features,
                weight,
                bias,
                ..
            }) => {
                let per = (0..*out_features)
                    .map(|o| {
                        let w = weight.get(o * in_features..(o + 1) * in_features)?;
                        Some(dot(w, *bias.get(o)?, r))
                    })
                    .collect::<Option<Vec<_>>>()
                    .filter(|p| !p.is_empty())?;
                each(&|e| per[e % per.len()])
            }
            QOp::Conv(QConv {
                geom, weight, bias, ..
            }) => {
                // Padding and input dilation feed zeros, whatever the input holds.
                let r = union(r, (0, 0));
                let k = geom.kernel_len();
                let per = (0..geom.out_c)
                    .map(|o| Some(dot(weight.get(o * k..(o + 1) * k)?, *bias.get(o)?, r)))
                    .collect::<Option<Vec<_>>>()
                    .filter(|p| !p.is_empty())?;
                let plane = (geom.out_h * geom.out_w).max(1);
                each(&|e| per[(e / plane) % per.len()])
            }
            QOp::Add(add) => {
                let b = dot(&add.coeffs, 0, r);
                each(&|_| b)
            }
            QOp::Mul => {
                let b = product(r, r);
                each(&|_| b)
            }
            QOp::TableSum(QTableSum {
                tables, product: p, ..
            }) => {
                let a = extremes(tables[0].iter().copied())?;
                let b = extremes(tables[1].iter().copied())?;
                let bound = match p {
                    false => (a.0.saturating_add(b.0), a.1.saturating_add(b.1)),
                    true => product(a, b),
                };
                each(&|_| bound)
            }
            _ => None,
        }
    }

    /// For every threshold map of the graph (in [`Self::threshold_maps`]' order), the least and
    /// greatest accumulator it can meet, within [`THRESHOLD_DOMAIN`]; `None` when a threshold
    /// layer reads something other than a sum over int8 tensors or an int8 tensor.
    pub fn threshold_domains(&self) -> Option<Vec<(i64, i64)>> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let QOp::Threshold(th) = &layer.op else {
                continue;
            };
            let inputs = self.layer_inputs(i);
            let [t] = inputs[..] else {
                return None;
            };
            let bounds = match t {
                0 => None,
                t => self.sum_bounds(t - 1),
            };
            let bounds = match bounds {
                Some(b) => b,
                None => vec![self.value_range(t)?; self.tensor_len(t)],
            };
            let mut maps = vec![None::<(i64, i64)>; th.maps.len()];
            for (e, (lo, hi)) in bounds.into_iter().enumerate() {
                let m = &mut maps[th.map_index(e)];
                *m = Some(match *m {
                    Some((a, b)) => (a.min(lo), b.max(hi)),
                    None => (lo, hi),
                });
            }
            let (d0, d1) = (THRESHOLD_DOMAIN.0, THRESHOLD_DOMAIN.1 - 1);
            out.extend(maps.into_iter().map(|m| {
                // A map no element uses keeps the smallest domain.
                let (lo, hi) = m.unwrap_or((0, 0));
                (lo.clamp(d0, d1), hi.clamp(d0, d1))
            }));
        }
        Some(out)
    }
}
