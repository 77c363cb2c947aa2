//! Constant folding: ops whose inputs are all constants (shape arithmetic such as PyTorch's flatten
//! pattern, transposed weights) are evaluated at import time.

use tract_onnx::pb::{NodeProto, TensorProto};

use super::shapes::{reshape_target, squeeze, unsqueeze};
use super::{Const, Importer, NodeResult};
use crate::ir::Shape;

impl Importer<'_> {
    /// Constant folding for the ops that compute shapes.
    pub(super) fn fold(&self, node: &NodeProto) -> NodeResult<Const> {
        let input = |i| {
            self.const_input(node, i)?
                .ok_or_else(|| format!("missing input {i}"))
        };
        match node.op_type.as_str() {
            "Constant" => {
                let t = node
                    .get_attr_opt::<&TensorProto>("value")
                    .map_err(|e| e.to_string())?
                    .ok_or("only the 'value' form of Constant is supported")?;
                self.load(t)
            }
            "Identity" | "Cast" | "Dropout" => input(0),
            "Transpose" | "Pad" => self.fold_remap(node, &input(0)?),
            "Slice" => self.fold_slice(node, &input(0)?),
            "Reshape" => {
                let c = input(0)?;
                let s = reshape_target(&Shape(c.shape.clone()), &input(1)?.data)?;
                Ok(Const {
                    shape: s.0,
                    data: c.data,
                })
            }
            "Squeeze" | "Unsqueeze" => {
                let c = input(0)?;
                let axes = self.axes(node)?;
                let shape = if node.op_type == "Squeeze" {
                    squeeze(&c.shape, &axes)?
                } else {
                    unsqueeze(&c.shape, &axes)?
                };
                Ok(Const {
                    shape,
                    data: c.data,
                })
            }
            "Concat" => {
                let parts: Vec<Const> =
                    (0..node.input.len()).map(input).collect::<Result<_, _>>()?;
                if parts.iter().any(|p| p.shape.len() > 1) {
                    return Err("constant Concat is supported for 1-D tensors".into());
                }
                let data: Vec<f64> = parts.into_iter().flat_map(|p| p.data).collect();
                Ok(Const {
                    shape: vec![data.len()],
                    data,
                })
            }
            "Gather" => {
                let c = input(0)?;
                let idx = input(1)?;
                if c.shape.len() != 1 {
                    return Err("constant Gather is supported on 1-D tensors".into());
                }
                let data = idx
                    .data
                    .iter()
                    .map(|i| {
                        let i = if *i < 0.0 {
                            *i + c.data.len() as f64
                        } else {
                            *i
                        } as usize;
                        c.data.get(i).copied().ok_or("index out of range")
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Const {
                    shape: idx.shape,
                    data,
                })
            }
            op => Err(format!("{op} on constants is not supported")),
        }
    }
}
