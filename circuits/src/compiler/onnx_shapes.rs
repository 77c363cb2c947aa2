//! Shape arithmetic for the ONNX importer: axes, broadcasting, Reshape, Squeeze, Unsqueeze.

use super::onnx::{Const, NodeResult};
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
