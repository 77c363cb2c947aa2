//! Layout ops of int8 tensors (the quantization kept, or each input requantized by table first):
//! MaxPool, Flatten, Reshape, and Concat (QLinearConcat, or Concat in the QDQ form; onnxruntime
//! requantizes an input whose scale or zero point differs from the output's by a 256-entry table
//! of dequantize-then-QuantizeLinear, as [`Int8OnnxImporter::requantize`] does).

use tract_onnx::pb::NodeProto;

use super::super::cnn::{chw, ints, pair, window_geom};
use super::super::shapes::{norm_axis, reshape_target};
use super::{Flow, Int8OnnxImporter, NodeResult, INT64};
use crate::ir::Shape;
use crate::qgraph::{QOp, QPick};

impl Int8OnnxImporter<'_> {
    /// MaxPool, Flatten and Reshape of an int8 tensor (its quantization kept).
    pub(super) fn layout_op(&mut self, node: &NodeProto, x: Flow, label: &str) -> NodeResult<Flow> {
        let shape = self.shape_of(x.id);
        let (op, out_shape) = match node.op_type.as_str() {
            "MaxPool" => {
                let dims = chw(&Shape(shape))?;
                let k = ints(node, "kernel_shape")?.ok_or("needs kernel_shape")?;
                let kernel = pair(Some(k), dims.3, 1, "kernel_shape")?;
                if node.output.len() > 1 && !node.output[1].is_empty() {
                    return Err("the Indices output is not supported".into());
                }
                let geom = window_geom(node, dims, kernel, dims.0, dims.0)?;
                (
                    QOp::MaxPool { geom },
                    vec![1, dims.0, geom.out_h, geom.out_w],
                )
            }
            "Flatten" => {
                let n: usize = shape.iter().product();
                let map = (0..n).map(QPick::Input).collect();
                (
                    QOp::Remap { map },
                    vec![1, n / shape.first().copied().unwrap_or(1).max(1)],
                )
            }
            _ => {
                let target = self.constant(node, 1)?;
                if target.elem != INT64 {
                    return Err("the shape must be int64".into());
                }
                let s = reshape_target(&Shape(shape.clone()), &target.data)?;
                let map = (0..s.numel()).map(QPick::Input).collect();
                (QOp::Remap { map }, s.0)
            }
        };
        let id = self.push(label, op, out_shape, vec![x.id]);
        Ok(Flow { id, ..x })
    }

    /// Concat of int8 tensors along `axis`, each first requantized to the output's `yq`.
    pub(super) fn concat(
        &mut self,
        node: &NodeProto,
        parts: &[Flow],
        yq: (f32, i64),
        label: &str,
    ) -> NodeResult<Flow> {
        let parts: Vec<Flow> = parts
            .iter()
            .enumerate()
            .map(|(k, f)| self.requantize(*f, yq, &format!("{label}.in{k}")))
            .collect();
        let shapes: Vec<Vec<usize>> = parts.iter().map(|f| self.shape_of(f.id)).collect();
        let first = shapes.first().ok_or("has no inputs")?.clone();
        let rank = first.len();
        let axis = node
            .get_attr_opt::<i64>("axis")
            .map_err(|e| e.to_string())?
            .ok_or("needs an axis")?;
        let axis = norm_axis(axis, rank)?;
        if shapes
            .iter()
            .any(|s| s.len() != rank || (0..rank).any(|d| d != axis && s[d] != first[d]))
        {
            return Err(format!("input shapes {shapes:?} differ off axis {axis}"));
        }
        let outer: usize = first[..axis].iter().product();
        let inner: usize = first[axis + 1..].iter().product();
        let mut out = first.clone();
        out[axis] = shapes.iter().map(|s| s[axis]).sum();
        let mut bases = Vec::with_capacity(shapes.len());
        let mut offset = 0;
        for s in &shapes {
            bases.push(offset);
            offset += s.iter().product::<usize>();
        }
        let mut map = Vec::with_capacity(offset);
        for o in 0..outer {
            for (s, base) in shapes.iter().zip(&bases) {
                for a in 0..s[axis] {
                    for r in 0..inner {
                        map.push(QPick::Input(base + (o * s[axis] + a) * inner + r));
                    }
                }
            }
        }
        let inputs = parts.iter().map(|f| f.id).collect();
        let id = self.push(label, QOp::Remap { map }, out, inputs);
        Ok(Flow {
            id,
            scale: yq.0,
            zero_point: yq.1,
        })
    }
}
