//! TFLite operators that reshape or join activations, or combine one with a constant: MEAN, PAD,
//! CONCATENATION, ADD / SUB / MUL with a per-channel constant, and AVERAGE_POOL_2D over padding.

use tract_tflite::tflite;

use super::{OpResult, TfliteImporter};
use crate::ir::geom::ConvGeom;
use crate::ir::{Conv, Op, Pick};

/// The graph's axis of a TFLite axis of a tensor of rank `rank` (channel-first when `nchw`).
fn internal_axis(axis: usize, rank: usize, nchw: bool) -> usize {
    match (nchw, rank, axis) {
        (true, 4, 1) => 2,
        (true, 4, 2) => 3,
        (true, 4, 3) => 1,
        _ => axis,
    }
}

/// A TFLite axis (negative from the end) as an index.
fn norm_axis(axis: i64, rank: usize) -> OpResult<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    usize::try_from(a)
        .ok()
        .filter(|a| *a < rank)
        .ok_or_else(|| format!("axis {axis} of a rank-{rank} tensor"))
}

impl TfliteImporter<'_> {
    /// MEAN over the spatial axes (1 and 2) of an NHWC tensor: a global average pool.
    pub(super) fn mean(
        &mut self,
        op: &tflite::Operator,
        ins: &[i32],
        label: &str,
    ) -> OpResult<(usize, bool)> {
        let x = usize::try_from(ins[0]).map_err(|_| "no input".to_string())?;
        let (shape, id, nchw) = self.flow(x)?;
        let (_, axes) = self.constant(*ins.get(1).ok_or("no axes")?)?;
        let mut axes: Vec<usize> = axes
            .iter()
            .map(|a| norm_axis(*a as i64, shape.len()))
            .collect::<OpResult<_>>()?;
        axes.sort_unstable();
        let (&[1, h, w, c], true, [1, 2]) = (shape.as_slice(), nchw, axes.as_slice()) else {
            return Err(format!(
                "MEAN over axes {axes:?} of {shape:?}: the spatial axes of an NHWC tensor are supported"
            ));
        };
        let keep = op
            .builtin_options_as_reducer_options()
            .is_some_and(|o| o.keep_dims());
        let geom = ConvGeom::depthwise(c, h, w, [h, w]);
        let conv = Conv {
            geom,
            weight: vec![1.0 / (h * w) as f32; geom.weight_len()],
            bias: vec![0.0; c],
        };
        // [1, C, 1, 1] holds its values in the order of [1, C] and of [1, 1, 1, C].
        let id = self.push(label, "MEAN", Op::Conv(conv), vec![1, c, 1, 1], vec![id]);
        Ok((id, keep))
    }

    /// PAD (constant zeros) of the spatial axes of an NHWC tensor.
    pub(super) fn pad(&mut self, ins: &[i32], label: &str) -> OpResult<(usize, bool)> {
        let x = usize::try_from(ins[0]).map_err(|_| "no input".to_string())?;
        let (shape, id, nchw) = self.flow(x)?;
        let (_, p) = self.constant(*ins.get(1).ok_or("no paddings")?)?;
        let p: Vec<usize> = p
            .iter()
            .map(|v| usize::try_from(*v as i64).map_err(|_| format!("padding {v}")))
            .collect::<OpResult<_>>()?;
        let (&[1, h, w, c], true, &[0, 0, t, b, l, r, 0, 0]) =
            (shape.as_slice(), nchw, p.as_slice())
        else {
            return Err(format!(
                "paddings {p:?} of {shape:?}: zeros around the spatial axes of an NHWC tensor are supported"
            ));
        };
        let (oh, ow) = (h + t + b, w + l + r);
        let mut picks = Vec::with_capacity(c * oh * ow);
        for ch in 0..c {
            for y in 0..oh {
                for xx in 0..ow {
                    let inside = (t..t + h).contains(&y) && (l..l + w).contains(&xx);
                    picks.push(match inside {
                        true => Pick::Input((ch * h + y - t) * w + xx - l),
                        false => Pick::Const(0.0),
                    });
                }
            }
        }
        Ok((
            self.push(label, "PAD", Op::Remap(picks), vec![1, c, oh, ow], vec![id]),
            true,
        ))
    }

    /// CONCATENATION of activations of one layout along an axis.
    pub(super) fn concatenation(
        &mut self,
        op: &tflite::Operator,
        ins: &[i32],
        label: &str,
    ) -> OpResult<(usize, bool, tflite::ActivationFunctionType)> {
        let o = op
            .builtin_options_as_concatenation_options()
            .ok_or("no options")?;
        let mut parts = Vec::with_capacity(ins.len());
        for t in ins {
            let t = usize::try_from(*t).map_err(|_| "a missing input".to_string())?;
            parts.push(self.flow(t)?);
        }
        let (first, _, nchw) = parts.first().cloned().ok_or("no inputs")?;
        if parts
            .iter()
            .any(|p| p.2 != nchw || p.0.len() != first.len())
        {
            return Err("inputs of different ranks or layouts".into());
        }
        let rank = first.len();
        let axis = internal_axis(norm_axis(o.axis() as i64, rank)?, rank, nchw);
        let internal = |s: &[usize]| super::ops::internal_shape(s, nchw);
        let shapes: Vec<Vec<usize>> = parts.iter().map(|p| internal(&p.0)).collect();
        let base = &shapes[0];
        for s in &shapes {
            if (0..rank).any(|d| d != axis && s[d] != base[d]) {
                return Err(format!("shapes {s:?} and {base:?} differ off the axis"));
            }
        }
        let outer: usize = base[..axis].iter().product();
        let inner: usize = base[axis + 1..].iter().product();
        let mut offsets = Vec::with_capacity(shapes.len());
        let mut total = 0;
        for s in &shapes {
            offsets.push(total);
            total += s.iter().product::<usize>();
        }
        let mut picks = Vec::with_capacity(total);
        for out in 0..outer {
            for (s, off) in shapes.iter().zip(&offsets) {
                for a in 0..s[axis] {
                    for r in 0..inner {
                        picks.push(Pick::Input(off + (out * s[axis] + a) * inner + r));
                    }
                }
            }
        }
        let mut shape = base.clone();
        shape[axis] = shapes.iter().map(|s| s[axis]).sum();
        let ids = parts.iter().map(|p| p.1).collect();
        let id = self.push(label, "CONCATENATION", Op::Remap(picks), shape, ids);
        Ok((id, nchw, o.fused_activation_function()))
    }

    /// ADD, SUB or MUL of an activation and a constant of one value or one per channel (the last
    /// TFLite axis): a per-channel affine map.
    pub(super) fn with_constant(
        &mut self,
        name: &str,
        (x, c): (usize, i32),
        data_first: bool,
        label: &str,
    ) -> OpResult<(usize, bool)> {
        let (shape, id, nchw) = self.flow(x)?;
        let (cshape, values) = self.constant(c)?;
        let channels = *shape.last().ok_or("a scalar input")?;
        let v: Vec<f64> = match values.len() {
            1 => vec![values[0] as f64; channels],
            n if n == channels && cshape.iter().rev().skip(1).all(|d| *d == 1) => {
                values.iter().map(|v| *v as f64).collect()
            }
            _ => {
                return Err(format!(
                "a constant of shape {cshape:?} with data {shape:?}: one value or one per channel"
            ))
            }
        };
        let (ones, zeros) = (vec![1.0; channels], vec![0.0; channels]);
        let neg = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<f64>>();
        let (a, b) = match (name, data_first) {
            ("ADD", _) => (ones, v),
            ("SUB", true) => (ones, neg(&v)),
            ("SUB", false) => (neg(&ones), v),
            _ => (v, zeros),
        };
        let internal = super::ops::internal_shape(&shape, nchw);
        let shape2d = match internal.len() {
            4 => internal.clone(),
            _ => vec![1, channels],
        };
        if internal.len() != 4 && internal.iter().product::<usize>() != channels {
            return Err(format!("a per-channel constant on data {shape:?}"));
        }
        let op = Op::channel_affine(&crate::ir::Shape(shape2d), &a, &b)?;
        Ok((self.push(label, name, op, internal, vec![id]), nchw))
    }

    /// AVERAGE_POOL_2D whose windows cover padding: TFLite divides each window by the elements it
    /// covers, so the pool is a window sum, then a product with the constant tensor of those
    /// reciprocals.
    pub(super) fn average_over_padding(&mut self, geom: ConvGeom, id: usize, label: &str) -> usize {
        let c = geom.out_c;
        let sum = Conv {
            geom,
            weight: vec![1.0; geom.weight_len()],
            bias: vec![0.0; c],
        };
        let shape = vec![1, c, geom.out_h, geom.out_w];
        let sum = self.push(
            &format!("{label}.sum"),
            "AVERAGE_POOL_2D",
            Op::Conv(sum),
            shape.clone(),
            vec![id],
        );
        let mut counts = Vec::with_capacity(geom.out_len_total());
        for ch in 0..c {
            for oy in 0..geom.out_h {
                for ox in 0..geom.out_w {
                    let n = geom.patch(ch, oy, ox).len().max(1);
                    counts.push(Pick::Const(1.0 / n as f32));
                }
            }
        }
        let name = format!("{label}.divisors");
        let div = self.push(
            &name,
            "AVERAGE_POOL_2D",
            Op::Remap(counts),
            shape.clone(),
            vec![sum],
        );
        self.push(label, "AVERAGE_POOL_2D", Op::Mul, shape, vec![sum, div])
    }
}
