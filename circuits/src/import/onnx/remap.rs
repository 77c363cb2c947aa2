//! ONNX ops that only move elements: Pad (constant, reflect, edge) and Transpose.

use tract_onnx::pb::NodeProto;

use super::{Const, Importer, NodeResult};
use crate::ir::{Op, Pick, Shape};

/// Row-major strides of a shape.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// For every output element (row-major), `pick` maps its coordinates to an input flat index or `None`.
fn remap(
    out_shape: &[usize],
    in_shape: &[usize],
    pick: impl Fn(&[usize]) -> Option<Vec<usize>>,
) -> Vec<Option<usize>> {
    let in_strides = strides(in_shape);
    let total: usize = out_shape.iter().product();
    let out_strides = strides(out_shape);
    (0..total)
        .map(|flat| {
            let coords: Vec<usize> = out_shape
                .iter()
                .zip(&out_strides)
                .map(|(n, s)| (flat / s) % n)
                .collect();
            pick(&coords).map(|c| c.iter().zip(&in_strides).map(|(c, s)| c * s).sum())
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum PadMode {
    Constant,
    Reflect,
    Edge,
}

/// Output shape and element sources of a Pad.
pub(super) fn pad_map(
    shape: &[usize],
    pads: &[i64],
    mode: PadMode,
) -> NodeResult<(Vec<usize>, Vec<Option<usize>>)> {
    let r = shape.len();
    if pads.len() != 2 * r {
        return Err(format!(
            "pads has {} values for a rank-{r} input",
            pads.len()
        ));
    }
    let out: Vec<usize> = (0..r)
        .map(|d| {
            let n = shape[d] as i64 + pads[d] + pads[r + d];
            usize::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or("padding leaves an empty axis")
        })
        .collect::<Result<_, _>>()?;
    if mode == PadMode::Reflect && (0..r).any(|d| (pads[d] > 0 || pads[r + d] > 0) && shape[d] < 2)
    {
        return Err("reflect padding needs at least 2 elements on a padded axis".into());
    }
    let map = remap(&out, shape, |o| {
        (0..r)
            .map(|d| {
                let n = shape[d] as i64;
                let mut i = o[d] as i64 - pads[d];
                if (0..n).contains(&i) {
                    return Some(i as usize);
                }
                match mode {
                    PadMode::Constant => None,
                    PadMode::Edge => Some(i.clamp(0, n - 1) as usize),
                    PadMode::Reflect => {
                        while !(0..n).contains(&i) {
                            i = if i < 0 { -i } else { 2 * (n - 1) - i };
                        }
                        Some(i as usize)
                    }
                }
            })
            .collect()
    });
    Ok((out, map))
}

pub(super) fn transpose_map(
    shape: &[usize],
    perm: &[usize],
) -> NodeResult<(Vec<usize>, Vec<Option<usize>>)> {
    let mut seen = vec![false; shape.len()];
    for p in perm {
        if *p >= shape.len() || std::mem::replace(&mut seen[*p], true) {
            return Err(format!(
                "perm {perm:?} is not a permutation of {} axes",
                shape.len()
            ));
        }
    }
    if perm.len() != shape.len() {
        return Err(format!(
            "perm {perm:?} is not a permutation of {} axes",
            shape.len()
        ));
    }
    let out: Vec<usize> = perm.iter().map(|p| shape[*p]).collect();
    let map = remap(&out, shape, |o| {
        let mut i = vec![0; shape.len()];
        for (d, p) in perm.iter().enumerate() {
            i[*p] = o[d];
        }
        Some(i)
    });
    Ok((out, map))
}

pub(super) fn perm_of(node: &NodeProto, rank: usize) -> NodeResult<Vec<usize>> {
    match node
        .get_attr_opt_vec::<i64>("perm")
        .map_err(|e| e.to_string())?
    {
        Some(p) => p
            .iter()
            .map(|v| usize::try_from(*v).map_err(|_| "negative perm".to_string()))
            .collect(),
        None => Ok((0..rank).rev().collect()),
    }
}

impl Importer<'_> {
    /// Pad settings: pads, constant value, mode (opset < 11 as attributes, later as inputs).
    fn pad_settings(&self, node: &NodeProto) -> NodeResult<(Vec<i64>, f64, PadMode)> {
        let mode = match node
            .get_attr_opt::<String>("mode")
            .map_err(|e| e.to_string())?
            .as_deref()
        {
            None | Some("constant") => PadMode::Constant,
            Some("reflect") => PadMode::Reflect,
            Some("edge") => PadMode::Edge,
            Some(m) => return Err(format!("mode {m} is not supported")),
        };
        if node.input.get(3).is_some_and(|a| !a.is_empty()) {
            return Err("the axes input is not supported yet".into());
        }
        let (pads, value) = match node
            .get_attr_opt_vec::<i64>("pads")
            .map_err(|e| e.to_string())?
        {
            Some(p) => (
                p,
                node.get_attr_opt::<f32>("value")
                    .map_err(|e| e.to_string())?
                    .unwrap_or(0.0) as f64,
            ),
            None => {
                let p = self.const_input(node, 1)?.ok_or("needs constant pads")?;
                let v = self
                    .const_input(node, 2)?
                    .map(|c| c.data.first().copied().unwrap_or(0.0))
                    .unwrap_or(0.0);
                (p.data.iter().map(|x| *x as i64).collect(), v)
            }
        };
        Ok((pads, value, mode))
    }

    pub(super) fn pad(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let (pads, value, mode) = self.pad_settings(node)?;
        let (out, map) = pad_map(&s.0, &pads, mode)?;
        let picks = map
            .into_iter()
            .map(|m| m.map(Pick::Input).unwrap_or(Pick::Const(value as f32)))
            .collect();
        self.push(node, Op::Remap(picks), Shape(out))
    }

    pub(super) fn transpose(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let (out, map) = transpose_map(&s.0, &perm_of(node, s.0.len())?)?;
        let picks = map
            .into_iter()
            .map(|m| Pick::Input(m.expect("a transpose moves every element")))
            .collect();
        self.push(node, Op::Remap(picks), Shape(out))
    }

    /// Transpose and Pad of constants (e.g. a weight exported transposed).
    pub(super) fn fold_remap(&self, node: &NodeProto, c: &Const) -> NodeResult<Const> {
        let (shape, map) = match node.op_type.as_str() {
            "Transpose" => transpose_map(&c.shape, &perm_of(node, c.shape.len())?)?,
            _ => {
                let (pads, _, mode) = self.pad_settings(node)?;
                pad_map(&c.shape, &pads, mode)?
            }
        };
        let value = if node.op_type == "Pad" {
            self.pad_settings(node)?.1
        } else {
            0.0
        };
        let data = map
            .into_iter()
            .map(|m| m.map(|i| c.data[i]).unwrap_or(value))
            .collect();
        Ok(Const { shape, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_transposes_move_the_right_elements() {
        // [2, 3] padded by one column on each side.
        let (out, map) = pad_map(&[2, 3], &[0, 1, 0, 1], PadMode::Constant).unwrap();
        assert_eq!(out, vec![2, 5]);
        assert_eq!(map[..5], [None, Some(0), Some(1), Some(2), None]);
        let (_, map) = pad_map(&[1, 3], &[0, 2, 0, 2], PadMode::Reflect).unwrap();
        assert_eq!(map, [2, 1, 0, 1, 2, 1, 0].map(Some));
        let (_, map) = pad_map(&[1, 3], &[0, 1, 0, 2], PadMode::Edge).unwrap();
        assert_eq!(map, [0, 0, 1, 2, 2, 2].map(Some));
        let (out, map) = transpose_map(&[2, 3], &[1, 0]).unwrap();
        assert_eq!(out, vec![3, 2]);
        assert_eq!(map, [0, 3, 1, 4, 2, 5].map(Some));
    }
}
