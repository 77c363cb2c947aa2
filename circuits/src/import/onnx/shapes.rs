//! Shape arithmetic for the ONNX importer: axes, broadcasting, Reshape, Squeeze, Unsqueeze.

use super::{Const, NodeResult};
use crate::ir::Shape;

pub(super) fn norm_axis(axis: i64, rank: usize) -> NodeResult<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    if a < 0 || a as usize >= rank.max(1) {
        return Err(format!("axis {axis} out of range for rank {rank}"));
    }
    Ok(a as usize)
}

pub(super) fn broadcast(c: &Const, n: usize) -> NodeResult<Vec<f64>> {
    match c.data.len() {
        1 => Ok(vec![c.data[0]; n]),
        len if len == n && c.shape.iter().filter(|d| **d != 1).count() <= 1 => Ok(c.data.clone()),
        _ => Err(format!(
            "cannot broadcast a constant of shape {:?} to {n} features",
            c.shape
        )),
    }
}

pub(super) fn reshape_target(input: &Shape, target: &[f64]) -> NodeResult<Shape> {
    let total = input.numel();
    let mut dims: Vec<usize> = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, t) in target.iter().enumerate() {
        match *t as i64 {
            0 => dims.push(
                *input
                    .0
                    .get(i)
                    .ok_or("shape 0 refers to a missing dimension")?,
            ),
            -1 if infer.is_none() => {
                infer = Some(i);
                dims.push(1);
            }
            d if d > 0 => dims.push(d as usize),
            d => return Err(format!("invalid target dimension {d}")),
        }
    }
    let known: usize = dims.iter().product();
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot reshape {input} to {target:?}"));
        }
        dims[i] = total / known;
    }
    if dims.iter().product::<usize>() != total {
        return Err(format!("cannot reshape {input} to {target:?}"));
    }
    Ok(Shape(dims))
}

pub(super) fn squeeze(shape: &[usize], axes: &[i64]) -> NodeResult<Vec<usize>> {
    let axes: Vec<usize> = axes
        .iter()
        .map(|a| norm_axis(*a, shape.len()))
        .collect::<Result<_, _>>()?;
    Ok(shape
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            !(if axes.is_empty() {
                **d == 1
            } else {
                axes.contains(i)
            })
        })
        .map(|(_, d)| *d)
        .collect())
}

pub(super) fn unsqueeze(shape: &[usize], axes: &[i64]) -> NodeResult<Vec<usize>> {
    let rank = shape.len() + axes.len();
    let mut axes: Vec<usize> = axes
        .iter()
        .map(|a| norm_axis(*a, rank))
        .collect::<Result<_, _>>()?;
    axes.sort_unstable();
    let mut out = shape.to_vec();
    for a in axes {
        out.insert(a, 1);
    }
    Ok(out)
}

/// A constant as one value per channel (axis 1) of the data tensor `s`: a scalar, or a tensor whose
/// only non-1 dimension lines up with axis 1 under numpy broadcasting.
pub(super) fn per_channel(c: &Const, s: &Shape) -> NodeResult<Vec<f64>> {
    let rank = s.0.len();
    let channels = if rank >= 2 { s.0[1] } else { s.numel() };
    if c.data.len() == 1 {
        return Ok(vec![c.data[0]; channels]);
    }
    let non_one: Vec<usize> = (0..c.shape.len()).filter(|d| c.shape[*d] != 1).collect();
    let aligned = match non_one.as_slice() {
        [d] => rank >= c.shape.len() && rank - c.shape.len() + d == 1.min(rank - 1),
        _ => false,
    };
    if aligned && c.data.len() == channels {
        Ok(c.data.clone())
    } else {
        Err(format!(
            "a constant of shape {:?} on data of shape {s}: scalars and per-channel constants are supported",
            c.shape
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(shape: &[usize], data: &[f64]) -> Const {
        Const {
            shape: shape.to_vec(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn per_channel_constants_broadcast_along_axis_one_only() {
        let nchw = Shape(vec![1, 3, 4, 4]);
        assert_eq!(per_channel(&c(&[], &[2.0]), &nchw).unwrap(), vec![2.0; 3]);
        assert_eq!(
            per_channel(&c(&[3, 1, 1], &[1.0, 2.0, 3.0]), &nchw).unwrap(),
            vec![1.0, 2.0, 3.0]
        );
        assert!(per_channel(&c(&[1, 3, 1, 1], &[1.0, 2.0, 3.0]), &nchw).is_ok());
        // [3] would broadcast along the last axis, not the channels.
        assert!(per_channel(&c(&[3], &[1.0, 2.0, 3.0]), &nchw).is_err());
        assert!(per_channel(&c(&[4, 4], &[0.0; 16]), &nchw).is_err());
        let nc = Shape(vec![1, 3]);
        assert_eq!(
            per_channel(&c(&[3], &[1.0, 2.0, 3.0]), &nc).unwrap(),
            vec![1.0, 2.0, 3.0]
        );
    }
}
