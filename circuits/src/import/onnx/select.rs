//! ONNX ops that select elements of a data tensor with constant indices: Slice, Gather, Split (each
//! a row-free remap), and the reductions ReduceMean and ReduceSum (a pooling convolution, or a sparse
//! dense layer).

use tract_onnx::pb::NodeProto;

use super::shapes::norm_axis;
use super::{Const, Importer, NodeResult, Val};
use crate::ir::geom::ConvGeom;
use crate::ir::{Conv, Dense, Op, Pick, Shape};

/// Row-major strides of a shape.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// The coordinates of flat index `flat` in `shape`.
fn coords(shape: &[usize], flat: usize) -> Vec<usize> {
    shape
        .iter()
        .zip(strides(shape))
        .map(|(n, s)| (flat / s) % n)
        .collect()
}

/// The indices Slice selects along an axis of length `dim` (ONNX's clamping rules).
fn slice_indices(dim: usize, start: i64, end: i64, step: i64) -> NodeResult<Vec<usize>> {
    if step == 0 {
        return Err("a slice step of 0".into());
    }
    let d = dim as i64;
    let norm = |v: i64| if v < 0 { v + d } else { v };
    let (start, end) = if step > 0 {
        (norm(start).clamp(0, d), norm(end).clamp(0, d))
    } else {
        (norm(start).clamp(0, d - 1), norm(end).clamp(-1, d - 1))
    };
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < end) || (step < 0 && i > end) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}

/// Per axis, the input indices a Slice keeps (`starts`, `ends`, `axes`, `steps` as ONNX gives them).
fn slice_plan(
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> NodeResult<Vec<Vec<usize>>> {
    let mut keep: Vec<Vec<usize>> = shape.iter().map(|n| (0..*n).collect()).collect();
    if starts.len() != ends.len() {
        return Err("starts and ends differ in length".into());
    }
    for (k, (s, e)) in starts.iter().zip(ends).enumerate() {
        let axis = match axes {
            Some(a) => norm_axis(*a.get(k).ok_or("fewer axes than starts")?, shape.len())?,
            None => k,
        };
        let step = steps.and_then(|st| st.get(k).copied()).unwrap_or(1);
        let dim = *shape.get(axis).ok_or("axis out of range")?;
        keep[axis] = slice_indices(dim, *s, (*e).min(i64::MAX / 2), step)?;
    }
    Ok(keep)
}

/// Flat input indices of the tensor that keeps `keep[d]` along each axis `d` of `shape`.
fn select(shape: &[usize], keep: &[Vec<usize>]) -> (Vec<usize>, Vec<usize>) {
    let out: Vec<usize> = keep.iter().map(Vec::len).collect();
    let in_strides = strides(shape);
    let total: usize = out.iter().product();
    let map = (0..total)
        .map(|flat| {
            coords(&out, flat)
                .iter()
                .enumerate()
                .map(|(d, c)| keep[d][*c] * in_strides[d])
                .sum()
        })
        .collect();
    (out, map)
}

impl Importer<'_> {
    fn ints_input(&self, node: &NodeProto, i: usize) -> NodeResult<Option<Vec<i64>>> {
        Ok(self
            .const_input(node, i)?
            .map(|c| c.data.iter().map(|v| *v as i64).collect()))
    }

    /// Slice's settings, from inputs (opset 10+) or attributes (before).
    fn slice_settings(&self, node: &NodeProto, shape: &[usize]) -> NodeResult<Vec<Vec<usize>>> {
        let attr = |n: &str| node.get_attr_opt_vec::<i64>(n).map_err(|e| e.to_string());
        let (starts, ends, axes, steps) = match attr("starts")? {
            Some(starts) => (
                starts,
                attr("ends")?.ok_or("needs ends")?,
                attr("axes")?,
                None,
            ),
            None => (
                self.ints_input(node, 1)?.ok_or("needs constant starts")?,
                self.ints_input(node, 2)?.ok_or("needs constant ends")?,
                self.ints_input(node, 3)?,
                self.ints_input(node, 4)?,
            ),
        };
        slice_plan(shape, &starts, &ends, axes.as_deref(), steps.as_deref())
    }

    /// Slice of a data tensor (constant starts, ends, axes, steps).
    pub(super) fn slice(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let keep = self.slice_settings(node, &s.0)?;
        let (out, map) = select(&s.0, &keep);
        if map.is_empty() {
            return Err("the slice is empty".into());
        }
        self.push(
            node,
            Op::Remap(map.into_iter().map(Pick::Input).collect()),
            Shape(out),
        )
    }

    /// Slice of a constant (shape arithmetic).
    pub(super) fn fold_slice(&self, node: &NodeProto, c: &Const) -> NodeResult<Const> {
        let keep = self.slice_settings(node, &c.shape)?;
        let (shape, map) = select(&c.shape, &keep);
        Ok(Const {
            shape,
            data: map.into_iter().map(|i| c.data[i]).collect(),
        })
    }

    /// Gather of a data tensor with constant indices along an axis.
    pub(super) fn gather(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let idx = self.const_input(node, 1)?.ok_or("needs constant indices")?;
        let axis = node
            .get_attr_opt::<i64>("axis")
            .map_err(|e| e.to_string())?
            .unwrap_or(0);
        let axis = norm_axis(axis, s.0.len())?;
        let dim = s.0[axis] as i64;
        let indices = idx
            .data
            .iter()
            .map(|v| {
                let i = if *v < 0.0 { *v as i64 + dim } else { *v as i64 };
                match (0..dim).contains(&i) {
                    true => Ok(i as usize),
                    false => Err(format!("index {v} out of range for axis {axis} of {s}")),
                }
            })
            .collect::<NodeResult<Vec<usize>>>()?;
        let mut out = s.0[..axis].to_vec();
        out.extend(&idx.shape);
        out.extend(&s.0[axis + 1..]);
        let in_strides = strides(&s.0);
        let total: usize = out.iter().product();
        let map = (0..total)
            .map(|flat| {
                let c = coords(&out, flat);
                let k = idx.shape.len();
                let pos: usize = c[axis..axis + k]
                    .iter()
                    .zip(strides(&idx.shape))
                    .map(|(a, b)| a * b)
                    .sum();
                let mut src = indices[pos] * in_strides[axis];
                for (d, v) in c[..axis].iter().enumerate() {
                    src += v * in_strides[d];
                }
                for (d, v) in c[axis + k..].iter().enumerate() {
                    src += v * in_strides[axis + 1 + d];
                }
                Pick::Input(src)
            })
            .collect();
        self.push(node, Op::Remap(map), Shape(out))
    }

    /// Split of a data tensor along an axis: one remap per output.
    pub(super) fn split(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let Some(Val::Flow(_, id)) = self.input(node, 0)? else {
            return Err("input 0 must be the data tensor".into());
        };
        let id = *id;
        let axis = node
            .get_attr_opt::<i64>("axis")
            .map_err(|e| e.to_string())?
            .unwrap_or(0);
        let axis = norm_axis(axis, s.0.len())?;
        let n = node.output.len();
        let sizes: Vec<usize> = match node
            .get_attr_opt_vec::<i64>("split")
            .map_err(|e| e.to_string())?
        {
            Some(v) => v.into_iter().map(|x| x.max(0) as usize).collect(),
            None => match self.ints_input(node, 1)? {
                Some(v) => v.into_iter().map(|x| x.max(0) as usize).collect(),
                None if n > 0 && s.0[axis] % n == 0 => vec![s.0[axis] / n; n],
                None => return Err(format!("{} does not split into {n} equal parts", s.0[axis])),
            },
        };
        if sizes.len() != n || sizes.iter().sum::<usize>() != s.0[axis] {
            return Err(format!(
                "split sizes {sizes:?} do not fit axis {axis} of {s}"
            ));
        }
        let mut start = 0;
        for (k, size) in sizes.iter().enumerate() {
            let mut keep: Vec<Vec<usize>> = s.0.iter().map(|d| (0..*d).collect()).collect();
            keep[axis] = (start..start + size).collect();
            start += size;
            let (out, map) = select(&s.0, &keep);
            let picks = map.into_iter().map(Pick::Input).collect();
            let name = format!("{}:{k}", node.name);
            let t = self.push_node(
                &name,
                "Split",
                Op::Remap(picks),
                Shape(out.clone()),
                vec![id],
            );
            self.vals
                .insert(node.output[k].clone(), Val::Flow(Shape(out), t));
        }
        Ok(())
    }

    /// ReduceMean or ReduceSum over constant axes: over the trailing (spatial) axes of a
    /// `[1, C, ...]` tensor a pooling convolution, otherwise a dense layer with one weight per
    /// reduced element.
    pub(super) fn reduce(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let rank = s.0.len();
        let axes = self.axes(node)?;
        let mut axes: Vec<usize> = match axes.is_empty() {
            true => (0..rank).collect(),
            false => axes
                .iter()
                .map(|a| norm_axis(*a, rank))
                .collect::<NodeResult<_>>()?,
        };
        axes.sort_unstable();
        axes.dedup();
        if self.batch.is_some() && axes.first() == Some(&0) {
            return Err(
                "it reduces over the batch axis; only per-sample reductions are supported".into(),
            );
        }
        let keepdims = node
            .get_attr_opt::<i64>("keepdims")
            .map_err(|e| e.to_string())?
            .unwrap_or(1)
            != 0;
        let out_full: Vec<usize> = (0..rank)
            .map(|d| if axes.contains(&d) { 1 } else { s.0[d] })
            .collect();
        let out: Vec<usize> = match keepdims {
            true => out_full.clone(),
            false => (0..rank)
                .filter(|d| !axes.contains(d))
                .map(|d| s.0[d])
                .collect(),
        };
        let n: usize = axes.iter().map(|d| s.0[*d]).product();
        let w = if node.op_type == "ReduceMean" {
            1.0 / n as f32
        } else {
            1.0
        };
        let spatial = rank >= 3 && s.0[0] == 1 && axes == (2..rank).collect::<Vec<_>>();
        if spatial && rank <= 4 {
            let c = s.0[1];
            let (h, wd) = if rank == 4 {
                (s.0[2], s.0[3])
            } else {
                (1, s.0[2])
            };
            let geom = ConvGeom::depthwise(c, h, wd, [h, wd]);
            let conv = Conv {
                geom,
                weight: vec![w; geom.weight_len()],
                bias: vec![0.0; c],
            };
            return self.push(node, Op::Conv(conv), Shape(out));
        }
        let (n_in, n_out) = (s.numel(), out.iter().product::<usize>());
        if n_in.saturating_mul(n_out) > 1 << 22 {
            return Err(format!(
                "reducing axes {axes:?} of {s} as a dense layer needs {n_in} x {n_out} weights; \
                 only the trailing (spatial) axes of [1, C, ...] reduce cheaply"
            ));
        }
        let out_strides = strides(&out_full);
        let mut weight = vec![0.0f32; n_in * n_out];
        for i in 0..n_in {
            let o: usize = coords(&s.0, i)
                .iter()
                .enumerate()
                .map(|(d, c)| {
                    if axes.contains(&d) {
                        0
                    } else {
                        c * out_strides[d]
                    }
                })
                .sum();
            weight[o * n_in + i] = w;
        }
        let dense = Dense::unbiased(n_in, n_out, weight);
        self.push(node, Op::Dense(dense), Shape(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_follow_onnx_clamping() {
        assert_eq!(slice_indices(5, 1, 3, 1).unwrap(), vec![1, 2]);
        assert_eq!(slice_indices(5, -2, i64::MAX / 2, 1).unwrap(), vec![3, 4]);
        assert_eq!(slice_indices(5, 4, -6, -2).unwrap(), vec![4, 2, 0]);
        assert_eq!(slice_indices(5, 0, 100, 2).unwrap(), vec![0, 2, 4]);
        assert!(slice_indices(5, 0, 3, 0).is_err());
        let keep = slice_plan(&[2, 4], &[1], &[3], Some(&[1]), None).unwrap();
        let (out, map) = select(&[2, 4], &keep);
        assert_eq!(out, vec![2, 2]);
        assert_eq!(map, vec![1, 2, 5, 6]);
    }
}
