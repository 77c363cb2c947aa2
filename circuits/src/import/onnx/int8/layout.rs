//! Layout ops of int8 tensors (the quantization kept, or each input requantized by table first):
//! MaxPool, Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Pad (constant), and Concat (QLinearConcat, or Concat in the QDQ form; onnxruntime
//! requantizes an input whose scale or zero point differs from the output's by a 256-entry table
//! of dequantize-then-QuantizeLinear, as [`Int8OnnxImporter::requantize`] does).

use tract_onnx::pb::NodeProto;

use super::super::cnn::{chw, ints, pair, window_geom};
use super::super::join::broadcast_picks;
use super::super::remap::{pad_map, perm_of, transpose_map, PadMode};
use super::super::shapes::{norm_axis, reshape_target, squeeze, unsqueeze};
use super::{Flow, Int8OnnxImporter, NodeResult, Val, INT64, INT8, UINT8};
use crate::ir::Shape;
use crate::qgraph::{QMaxPool, QOp, QPick, QRemap};

impl Int8OnnxImporter<'_> {
    /// MaxPool, Flatten, Reshape, Transpose, Squeeze, Unsqueeze and Pad of an int8 tensor (its
    /// quantization kept; Pad's constant is its int8 or uint8 input 2).
    pub(super) fn layout_op(&mut self, node: &NodeProto, x: Flow, label: &str) -> NodeResult<Flow> {
        let pad_value = match node.op_type.as_str() {
            "Pad" => Some(self.int8_pad_value(node)?),
            _ => None,
        };
        self.layout_op_with(node, x, pad_value, label)
    }

    /// [`Self::layout_op`], Pad's constant given (held int8).
    pub(super) fn layout_op_with(
        &mut self,
        node: &NodeProto,
        x: Flow,
        pad_value: Option<i64>,
        label: &str,
    ) -> NodeResult<Flow> {
        let shape = self.shape_of(x.id);
        let identity = |n: usize| QOp::Remap(QRemap::new((0..n).map(QPick::Input).collect()));
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
                    QOp::MaxPool(QMaxPool { geom }),
                    vec![1, dims.0, geom.out_h, geom.out_w],
                )
            }
            "Flatten" => {
                let n: usize = shape.iter().product();
                let map = (0..n).map(QPick::Input).collect();
                (
                    QOp::Remap(QRemap::new(map)),
                    vec![1, n / shape.first().copied().unwrap_or(1).max(1)],
                )
            }
            "Transpose" => {
                let (out, map) = transpose_map(&shape, &perm_of(node, shape.len())?)?;
                let map = map.into_iter().flatten().map(QPick::Input).collect();
                (QOp::Remap(QRemap::new(map)), out)
            }
            "Squeeze" | "Unsqueeze" => {
                let axes = self.axes(node)?;
                let out = match node.op_type.as_str() {
                    "Squeeze" => squeeze(&shape, &axes)?,
                    _ => unsqueeze(&shape, &axes)?,
                };
                (identity(shape.iter().product()), out)
            }
            "Pad" => {
                let value = pad_value.ok_or("needs its constant value")?;
                let (out, map) = pad_map(&shape, &self.int8_pads(node)?, PadMode::Constant)?;
                let map = map
                    .into_iter()
                    .map(|m| m.map(QPick::Input).unwrap_or(QPick::Const(value)))
                    .collect();
                (QOp::Remap(QRemap::new(map)), out)
            }
            _ => {
                let target = self.constant(node, 1)?;
                if target.elem != INT64 {
                    return Err("the shape must be int64".into());
                }
                let s = reshape_target(&Shape(shape.clone()), &target.data)?;
                let map = (0..s.numel()).map(QPick::Input).collect();
                (QOp::Remap(QRemap::new(map)), s.0)
            }
        };
        let id = self.push(label, op, out_shape, vec![x.id]);
        Ok(Flow { id, ..x })
    }

    /// Squeeze's and Unsqueeze's axes: the attribute (opset < 13) or constant input 1.
    fn axes(&self, node: &NodeProto) -> NodeResult<Vec<i64>> {
        if let Some(a) = node
            .get_attr_opt_vec::<i64>("axes")
            .map_err(|e| e.to_string())?
        {
            return Ok(a);
        }
        Ok(match self.val(node, 1)? {
            Some(Val::Const(t)) => t.data.iter().map(|v| *v as i64).collect(),
            None => Vec::new(),
            Some(_) => return Err("the axes must be a constant".into()),
        })
    }

    /// A constant-mode Pad's pads: the attribute (opset < 11) or constant int64 input 1 (no axes
    /// input).
    fn int8_pads(&self, node: &NodeProto) -> NodeResult<Vec<i64>> {
        let mode = node
            .get_attr_opt::<String>("mode")
            .map_err(|e| e.to_string())?;
        if mode.as_deref().is_some_and(|m| m != "constant") {
            return Err(format!(
                "mode {} (constant only for int8 data)",
                mode.unwrap_or_default()
            ));
        }
        if node.input.get(3).is_some_and(|a| !a.is_empty()) {
            return Err("the axes input is not supported".into());
        }
        if let Some(p) = node
            .get_attr_opt_vec::<i64>("pads")
            .map_err(|e| e.to_string())?
        {
            return Ok(p);
        }
        let pads = self.constant(node, 1)?;
        if pads.elem != INT64 {
            return Err("the pads must be int64".into());
        }
        Ok(pads.data.iter().map(|v| *v as i64).collect())
    }

    /// An int8 Pad's constant (input 2, int8 or uint8), held as int8.
    fn int8_pad_value(&self, node: &NodeProto) -> NodeResult<i64> {
        match self.val(node, 2)? {
            Some(Val::Const(t)) => match (&t.data[..], t.elem) {
                ([v], INT8) => Ok(*v as i64),
                ([v], UINT8) => Ok(*v as i64 - 128),
                _ => Err("the constant value must be one int8 or uint8 value".into()),
            },
            None => Err(
                "a Pad of int8 data needs its constant value (input 2; quantize_static writes the zero point)"
                    .into(),
            ),
            Some(_) => Err("the constant value must be a constant".into()),
        }
    }

    /// Tensor `id` of shape `from` broadcast to `to` (numpy's rule) by a row-free remap (itself when
    /// the shapes are equal).
    pub(super) fn broadcast(
        &mut self,
        id: usize,
        from: &[usize],
        to: &[usize],
        name: &str,
    ) -> usize {
        if from == to {
            return id;
        }
        let map = broadcast_picks(&Shape(from.to_vec()), &Shape(to.to_vec()))
            .into_iter()
            .map(QPick::Input)
            .collect();
        self.push(name, QOp::Remap(QRemap::new(map)), to.to_vec(), vec![id])
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
        let id = self.push(label, QOp::Remap(QRemap::new(map)), out, inputs);
        Ok(Flow {
            id,
            scale: yq.0,
            zero_point: yq.1,
        })
    }
}
