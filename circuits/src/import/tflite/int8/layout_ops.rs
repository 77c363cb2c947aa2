//! int8 pools, PAD (with the zero point: the int8 zero) and CONCATENATION (of tensors sharing one
//! quantization), with TFLite's reference-kernel semantics.

use tract_tflite::tflite;

use super::super::ops::pool_geom;
use super::ops::activation_range;
use super::{Flow, Int8Importer, OpResult};
use crate::ir::geom::ConvGeom;
use crate::qgraph::requant::{
    quantize_multiplier, tflite_multiply_by_quantized_multiplier, RequantStep,
};
use crate::qgraph::{padding_layer, QClip, QConv, QMaxPool, QOp, QPick, QRemap};

impl Int8Importer<'_> {
    /// Pad `x` (channel-first `[c, h, w]`) by `geom.pads` with `value`; returns the padded tensor's
    /// id and the geometry over it without padding.
    pub(super) fn pad_with(
        &mut self,
        x: usize,
        geom: ConvGeom,
        value: i64,
        label: &str,
    ) -> (usize, ConvGeom) {
        match padding_layer(geom, value) {
            None => (x, geom),
            Some((op, shape, padded)) => {
                let id = self.push(&format!("{label}.pad"), op, shape, vec![x]);
                (id, padded)
            }
        }
    }

    /// AVERAGE_POOL_2D (a sum over the window's taps inside the input, rounded half away from zero
    /// by their count; half up in a legacy uint8 model) and MAX_POOL_2D (padding taps excluded).
    pub(super) fn pool(
        &mut self,
        op: &tflite::Operator,
        name: &str,
        t: usize,
        out: usize,
        label: &str,
    ) -> OpResult<()> {
        let (x, (c, h, w)) = self.image(t)?;
        let o = op
            .builtin_options_as_pool_2_doptions()
            .ok_or("no options")?;
        let geom = pool_geom(&o, (c, h, w))?;
        let q = self.same_quant(&x, out)?;
        let (lo, hi) = activation_range(o.fused_activation_function(), q)?;
        let shape = vec![1, c, geom.out_h, geom.out_w];
        if name == "MAX_POOL_2D" {
            let mut id = self.push(
                label,
                QOp::MaxPool(QMaxPool { geom }),
                shape.clone(),
                vec![x.id],
            );
            if (lo, hi) != (-128, 127) {
                let clip = QOp::Clip(QClip {
                    lo: Some(lo),
                    hi: Some(hi),
                });
                id = self.push(&format!("{label}.act"), clip, shape, vec![id]);
            }
            self.flows.insert(out, Flow { id, nchw: true, q });
            return Ok(());
        }
        let mut steps = Vec::with_capacity(geom.out_len_total());
        for ch in 0..c {
            for oy in 0..geom.out_h {
                for ox in 0..geom.out_w {
                    let count = geom.patch(ch, oy, ox).len();
                    let step = match self.legacy_uint8 {
                        true => RequantStep::average_half_up(count, lo, hi),
                        false => RequantStep::average(count, lo, hi),
                    };
                    steps.push(step.map_err(|e| e.to_string())?);
                }
            }
        }
        let sum = QOp::Conv(QConv {
            geom,
            weight_scale: 0,
            weight: vec![1; geom.weight_len()].into(),
            bias: vec![0; c],
        });
        self.with_requant((sum, vec![x.id]), shape, (steps, 1), (out, true, q), label);
        Ok(())
    }

    /// PAD of a 4-D activation over H and W, with the zero point (the int8 zero).
    pub(super) fn pad(&mut self, t: usize, p: usize, out: usize, label: &str) -> OpResult<()> {
        let (x, (c, h, w)) = self.image(t)?;
        let pads = self.int32_const(p)?;
        let [0, 0, top, bottom, left, right, 0, 0] = pads[..] else {
            return Err(format!("paddings {pads:?}: only H and W may be padded"));
        };
        let q = self.same_quant(&x, out)?;
        let geom = ConvGeom {
            in_c: c,
            in_h: h,
            in_w: w,
            out_c: c,
            out_h: 0,
            out_w: 0,
            kernel: [1, 1],
            stride: [1, 1],
            pads: [top, left, bottom, right].map(|v| v.max(0) as usize),
            dilation: [1, 1],
            groups: c,
            input_dilation: [1, 1],
        };
        let (id, _) = self.pad_with(x.id, geom, q.zero_point, label);
        self.flows.insert(out, Flow { id, nchw: true, q });
        Ok(())
    }

    /// CONCATENATION of activations sharing the output's quantization, along any axis.
    pub(super) fn concatenation(
        &mut self,
        op: &tflite::Operator,
        ins: &[usize],
        out: usize,
        label: &str,
    ) -> OpResult<()> {
        let o = op
            .builtin_options_as_concatenation_options()
            .ok_or("no options")?;
        if o.fused_activation_function() != tflite::ActivationFunctionType::NONE {
            return Err("a fused activation on CONCATENATION".into());
        }
        let q = self.quant(out)?;
        let shape = self.tensors[out].shape.clone();
        let rank = shape.len() as i64;
        let axis = match o.axis() as i64 {
            a if a < 0 => a + rank,
            a => a,
        };
        if !(0..rank).contains(&axis) {
            return Err(format!("axis {} of a rank-{rank} tensor", o.axis()));
        }
        let axis = axis as usize;
        let mut ids = Vec::with_capacity(ins.len());
        let mut widths = Vec::with_capacity(ins.len());
        for t in ins {
            let flow = self.flow(*t)?;
            if flow.q != q {
                return Err(format!(
                    "input '{}' is quantized differently from the output (int8 CONCATENATION \
                     needs one quantization)",
                    self.names[*t]
                ));
            }
            ids.push(self.plain(*t)?);
            widths.push(self.tensors[*t].shape.get(axis).copied().unwrap_or(1));
        }
        // Row-major picks over the inputs' concatenation.
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        let total: usize = widths.iter().sum();
        if total != shape[axis] {
            return Err(format!(
                "inputs of {total} along axis {axis} for an output of {}",
                shape[axis]
            ));
        }
        let mut starts = Vec::with_capacity(widths.len());
        let mut base = 0;
        for wdt in &widths {
            starts.push(base);
            base += outer * wdt * inner;
        }
        let mut map = Vec::with_capacity(outer * total * inner);
        for o_ in 0..outer {
            for (k, wdt) in widths.iter().enumerate() {
                for j in 0..wdt * inner {
                    map.push(QPick::Input(starts[k] + o_ * wdt * inner + j));
                }
            }
        }
        let id = self.push(
            &format!("{label}.concat"),
            QOp::Remap(QRemap::new(map)),
            shape,
            ids,
        );
        self.set_plain(out, id, q, label);
        Ok(())
    }

    /// MEAN over the spatial axes of a 4-D activation (Keras' GlobalAveragePooling2D), as TFLite's
    /// `reference_integer_ops::Mean`: `Σ (x - zp_in)`, `MultiplyByQuantizedMultiplier` by
    /// `s_in / s_out`, a division by the count rounded half away from zero, the output zero point.
    /// The sum is a window sum; its two roundings are one fitted requantization step (checked on
    /// every sum the int8 input can give).
    pub(super) fn mean(
        &mut self,
        op: &tflite::Operator,
        ins: &[usize],
        out: usize,
        label: &str,
    ) -> OpResult<()> {
        let (x, (c, h, w)) = self.image(ins[0])?;
        let mut axes = self.int32_const(*ins.get(1).ok_or("no axes")?)?;
        axes.sort_unstable();
        if axes != [1, 2] {
            return Err(format!("axes {axes:?}: int8 MEAN over H and W only"));
        }
        let keep = op
            .builtin_options_as_reducer_options()
            .is_some_and(|o| o.keep_dims());
        let oq = self.quant(out)?;
        let count = (h * w) as i64;
        let (m, shift) = quantize_multiplier(x.q.scale / oq.scale);
        let g = |acc: i64| {
            let y = tflite_multiply_by_quantized_multiplier(acc as i32, m, shift) as i64;
            match y > 0 {
                true => (y + count / 2) / count,
                false => (y - count / 2) / count,
            }
        };
        let zp = x.q.zero_point;
        let domain = (count * (-128 - zp), count * (127 - zp));
        let ratio = x.q.scale / oq.scale / count as f64;
        let step = RequantStep::fit(domain, &g, ratio, (-128, 127, oq.zero_point))
            .ok_or("no exact requantization fits this MEAN's two roundings")?;
        let geom = ConvGeom::depthwise(c, h, w, [h, w]);
        let sum = QOp::Conv(QConv {
            geom,
            weight_scale: 0,
            weight: vec![1; geom.weight_len()].into(),
            bias: vec![-count * zp; c],
        });
        let shape = match keep {
            true => vec![1, c, 1, 1],
            false => self.tensors[out].shape.clone(),
        };
        if shape.iter().product::<usize>() != c {
            return Err(format!("output {shape:?} for {c} channels"));
        }
        self.with_requant(
            (sum, vec![x.id]),
            shape,
            (vec![step], c),
            (out, keep, oq),
            label,
        );
        Ok(())
    }
}
