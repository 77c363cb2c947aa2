//! ONNX nodes that join data tensors: Add, Sub and Mul of two activations (with broadcasting), and
//! Concat (of activations and constants).

use tract_onnx::pb::NodeProto;

use super::shapes::norm_axis;
use super::{Importer, NodeResult, Val};
use crate::ir::{Op, Pick, Shape};

/// One input of a join: a data tensor (its id) or a constant, with its shape.
enum Part {
    Flow(usize, Shape),
    Const(Shape, Vec<f64>),
}

impl Part {
    fn shape(&self) -> &Shape {
        match self {
            Part::Flow(_, s) | Part::Const(s, _) => s,
        }
    }
}

/// The shape two shapes broadcast to (numpy's rules), if they do.
pub(super) fn broadcast_shape(a: &Shape, b: &Shape) -> NodeResult<Shape> {
    let rank = a.0.len().max(b.0.len());
    let dim = |s: &Shape, i: usize| {
        let pad = rank - s.0.len();
        if i < pad {
            1
        } else {
            s.0[i - pad]
        }
    };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(format!("shapes {a} and {b} do not broadcast")),
        })
        .collect::<NodeResult<Vec<_>>>()
        .map(Shape)
}

/// For each element of `to` (row-major), the element of `from` that broadcasting maps to it.
pub(super) fn broadcast_picks(from: &Shape, to: &Shape) -> Vec<usize> {
    let rank = to.0.len();
    let pad = rank - from.0.len();
    let dims: Vec<usize> = (0..rank)
        .map(|i| if i < pad { 1 } else { from.0[i - pad] })
        .collect();
    let mut strides = vec![1usize; rank];
    for i in (0..rank.saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1];
    }
    (0..to.numel())
        .map(|flat| {
            let mut rest = flat;
            let mut src = 0;
            for i in (0..rank).rev() {
                let idx = rest % to.0[i];
                rest /= to.0[i];
                if dims[i] != 1 {
                    src += idx * strides[i];
                }
            }
            src
        })
        .collect()
}

impl Importer<'_> {
    /// How many of `node`'s inputs are data tensors.
    pub(super) fn flow_inputs(&self, node: &NodeProto) -> usize {
        (0..node.input.len())
            .filter(|i| matches!(self.input(node, *i), Ok(Some(Val::Flow(..)))))
            .count()
    }

    fn part(&self, node: &NodeProto, i: usize) -> NodeResult<Part> {
        match self.input(node, i)? {
            Some(Val::Flow(s, id)) => Ok(Part::Flow(*id, s.clone())),
            Some(Val::Const(c)) => Ok(Part::Const(Shape(c.shape.clone()), c.data.clone())),
            None => Err(format!("input {i} is missing")),
        }
    }

    /// Data tensor `id` of shape `from` broadcast to `to`: itself, or a row-free remap.
    fn broadcast_to(&mut self, node: &NodeProto, id: usize, from: &Shape, to: &Shape) -> usize {
        if from.numel() == to.numel() {
            return id;
        }
        let picks = broadcast_picks(from, to).into_iter().map(Pick::Input);
        let name = format!("{}.broadcast", node.name);
        self.push_node(
            &name,
            "Expand",
            Op::Remap(picks.collect()),
            to.clone(),
            vec![id],
        )
    }

    /// Add, Sub or Mul of two data tensors (broadcast to a common shape).
    pub(super) fn join(&mut self, node: &NodeProto) -> NodeResult<()> {
        let (Part::Flow(a, sa), Part::Flow(b, sb)) = (self.part(node, 0)?, self.part(node, 1)?)
        else {
            return Err("needs two data tensors".into());
        };
        let out = broadcast_shape(&sa, &sb)?;
        let op = match node.op_type.as_str() {
            "Add" => Op::Add {
                coeffs: vec![1.0, 1.0],
            },
            "Sub" => Op::Add {
                coeffs: vec![1.0, -1.0],
            },
            "Mul" => Op::Mul,
            op => {
                return Err(format!(
                    "{op} of two data tensors is not supported (only Add, Sub and Mul)"
                ))
            }
        };
        let a = self.broadcast_to(node, a, &sa, &out);
        let b = self.broadcast_to(node, b, &sb, &out);
        self.push_reading(node, op, out, vec![a, b])
    }

    /// Concat of data tensors and constants on any axis: a row-free remap of the data tensors'
    /// concatenation.
    pub(super) fn concat(&mut self, node: &NodeProto) -> NodeResult<()> {
        let parts = (0..node.input.len())
            .map(|i| self.part(node, i))
            .collect::<NodeResult<Vec<_>>>()?;
        let first = parts.first().ok_or("has no inputs")?.shape().clone();
        let rank = first.0.len();
        let axis = node
            .get_attr_opt::<i64>("axis")
            .map_err(|e| e.to_string())?
            .ok_or("needs an axis")?;
        let axis = norm_axis(axis, rank)?;
        for p in &parts {
            let s = p.shape();
            let same = s.0.len() == rank && (0..rank).all(|d| d == axis || s.0[d] == first.0[d]);
            if !same {
                return Err(format!(
                    "input shapes {first} and {s} differ off axis {axis}"
                ));
            }
        }
        let outer: usize = first.0[..axis].iter().product();
        let inner: usize = first.0[axis + 1..].iter().product();
        let mut out = first.0.clone();
        out[axis] = parts.iter().map(|p| p.shape().0[axis]).sum();
        // Offsets of the data tensors in their concatenation (what the remap reads).
        let mut offsets = Vec::with_capacity(parts.len());
        let (mut offset, mut inputs) = (0usize, Vec::new());
        for p in &parts {
            offsets.push(offset);
            if let Part::Flow(id, s) = p {
                offset += s.numel();
                inputs.push(*id);
            }
        }
        let mut picks = Vec::with_capacity(out.iter().product());
        for o in 0..outer {
            for (p, base) in parts.iter().zip(&offsets) {
                let len = p.shape().0[axis];
                for a in 0..len {
                    for r in 0..inner {
                        let idx = (o * len + a) * inner + r;
                        picks.push(match p {
                            Part::Flow(..) => Pick::Input(base + idx),
                            Part::Const(_, data) => Pick::Const(data[idx] as f32),
                        });
                    }
                }
            }
        }
        if inputs.is_empty() {
            return Err("needs a data tensor".into());
        }
        self.push_reading(node, Op::Remap(picks), Shape(out), inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        let (a, b) = (Shape(vec![1, 2, 3, 3]), Shape(vec![1, 2, 1, 1]));
        assert_eq!(broadcast_shape(&a, &b).unwrap(), a);
        assert_eq!(broadcast_picks(&b, &a), [vec![0; 9], vec![1; 9]].concat());
        let row = Shape(vec![3]);
        let m = Shape(vec![2, 3]);
        assert_eq!(broadcast_picks(&row, &m), vec![0, 1, 2, 0, 1, 2]);
        assert!(broadcast_shape(&Shape(vec![2, 3]), &Shape(vec![3, 2])).is_err());
    }
}
