//! TFLite operators (float32) as IR nodes: convolutions, fully connected layers, pools, elementwise
//! ops of two activations, reshapes and activations, with TFLite's fused activations.

use tract_tflite::tflite;

use super::{OpResult, TfliteImporter};
use crate::ir::geom::ConvGeom;
use crate::ir::{Conv, Dense, Func, Op};

/// TFLite's padding of one axis: `(out, pad_before, pad_after)` (SAME pads `total / 2` before).
fn padding(
    same: bool,
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> OpResult<(usize, usize, usize)> {
    let eff = (kernel - 1) * dilation + 1;
    if same {
        let out = input.div_ceil(stride);
        let total = ((out - 1) * stride + eff).saturating_sub(input);
        Ok((out, total / 2, total - total / 2))
    } else {
        if eff > input {
            return Err(format!("a {eff}-wide window over {input} elements"));
        }
        Ok(((input - eff) / stride + 1, 0, 0))
    }
}

/// The window geometry shared by convolutions and pools.
#[allow(clippy::too_many_arguments)]
pub(super) fn window(
    (c, h, w): (usize, usize, usize),
    out_c: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    same: bool,
    groups: usize,
) -> OpResult<ConvGeom> {
    let (oh, top, bottom) = padding(same, h, kernel[0], stride[0], dilation[0])?;
    let (ow, left, right) = padding(same, w, kernel[1], stride[1], dilation[1])?;
    let geom = ConvGeom {
        in_c: c,
        in_h: h,
        in_w: w,
        out_c,
        out_h: oh,
        out_w: ow,
        kernel,
        stride,
        pads: [top, left, bottom, right],
        dilation,
        groups,
        input_dilation: [1, 1],
    };
    geom.validate()?;
    Ok(geom)
}

/// A strictly positive option value.
pub(super) fn pos(v: i32, what: &str) -> OpResult<usize> {
    usize::try_from(v)
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{what} {v}"))
}

/// The windows of a pool over a `(c, h, w)` input (per channel).
pub(super) fn pool_geom(
    o: &tflite::Pool2DOptions,
    (c, h, w): (usize, usize, usize),
) -> OpResult<ConvGeom> {
    let kernel = [
        pos(o.filter_height(), "filter")?,
        pos(o.filter_width(), "filter")?,
    ];
    window(
        (c, h, w),
        c,
        kernel,
        [pos(o.stride_h(), "stride")?, pos(o.stride_w(), "stride")?],
        [1, 1],
        o.padding() == tflite::Padding::SAME,
        c,
    )
}

/// A CONV_2D or DEPTHWISE_CONV_2D as the IR sees it (shared by the float and int8 importers).
pub(super) struct ConvLayout {
    /// Channels, sizes, kernel, stride, padding, dilation and groups.
    pub(super) geom: ConvGeom,
    /// The fused activation.
    pub(super) act: tflite::ActivationFunctionType,
    /// For each weight in the IR's `[out_c][in_c / groups][kh][kw]` order, its index in the filter.
    pub(super) src: Vec<usize>,
}

/// The layout of a convolution of a `(c, h, w)` input by a filter of dims `fshape`: `[O, KH, KW, I]`,
/// or `[1, KH, KW, C * M]` when `depthwise`.
pub(super) fn conv_layout(
    op: &tflite::Operator,
    depthwise: bool,
    (c, h, w): (usize, usize, usize),
    fshape: &[usize],
) -> OpResult<ConvLayout> {
    let [fo, kh, kw, fi] = fshape[..] else {
        return Err(format!("filter {fshape:?} is not 4-D"));
    };
    // The options both tables share: padding, strides, dilations, fused activation.
    macro_rules! window_options {
        ($o:expr) => {{
            let o = $o.ok_or("no options")?;
            let strides = (o.stride_h(), o.stride_w());
            let dilations = (o.dilation_h_factor(), o.dilation_w_factor());
            (
                o.padding(),
                strides,
                dilations,
                o.fused_activation_function(),
            )
        }};
    }
    let (opts, out_c, groups) = if depthwise {
        if fo != 1 || fi % c != 0 {
            return Err(format!("depthwise filter {fshape:?} for {c} channels"));
        }
        let o = window_options!(op.builtin_options_as_depthwise_conv_2_doptions());
        (o, fi, c)
    } else {
        if fi != c {
            return Err(format!("filter {fshape:?} for {c} input channels"));
        }
        (
            window_options!(op.builtin_options_as_conv_2_doptions()),
            fo,
            1,
        )
    };
    let (pad, (sh, sw), (dh, dw), act) = opts;
    let geom = window(
        (c, h, w),
        out_c,
        [kh, kw],
        [pos(sh, "stride")?, pos(sw, "stride")?],
        [pos(dh, "dilation")?, pos(dw, "dilation")?],
        pad == tflite::Padding::SAME,
        groups,
    )?;
    let per = c / groups;
    let mut src = vec![0; out_c * per * kh * kw];
    for o in 0..out_c {
        for i in 0..per {
            for y in 0..kh {
                for xx in 0..kw {
                    src[((o * per + i) * kh + y) * kw + xx] = match depthwise {
                        true => (y * kw + xx) * fi + o,
                        false => ((o * kh + y) * kw + xx) * fi + i,
                    };
                }
            }
        }
    }
    Ok(ConvLayout { geom, act, src })
}

impl TfliteImporter<'_> {
    /// Interpret operator `op` (its builtin name `name`).
    pub(super) fn operator(&mut self, op: &tflite::Operator, name: &str) -> OpResult<()> {
        let ins: Vec<i32> = op.inputs().map(|v| v.iter().collect()).unwrap_or_default();
        let outs: Vec<i32> = op.outputs().map(|v| v.iter().collect()).unwrap_or_default();
        let [out] = outs[..] else {
            return Err(format!("{} outputs; one is supported", outs.len()));
        };
        let out = usize::try_from(out).map_err(|_| "a negative output index".to_string())?;
        let input = |k: usize| -> OpResult<usize> {
            ins.get(k)
                .and_then(|t| usize::try_from(*t).ok())
                .ok_or_else(|| format!("input {k} is missing"))
        };
        let label = match self.names.get(out).filter(|n| !n.is_empty()) {
            Some(n) => n.clone(),
            None => format!("{name}#{out}"),
        };
        let (id, nchw, act) = match name {
            "CONV_2D" | "DEPTHWISE_CONV_2D" => self.conv(op, name, &ins, &label)?,
            "FULLY_CONNECTED" => self.fully_connected(op, &ins, &label)?,
            "AVERAGE_POOL_2D" | "MAX_POOL_2D" => self.pool(op, name, input(0)?, &label)?,
            "ADD" | "SUB" | "MUL" => {
                let consts = [0, 1].map(|k| ins.get(k).is_some_and(|t| self.constant(*t).is_ok()));
                let act = binary_activation(op, name);
                match consts {
                    [false, false] => self.binary(op, name, input(0)?, input(1)?, &label)?,
                    [false, true] => {
                        let (id, nchw) =
                            self.with_constant(name, (input(0)?, ins[1]), true, &label)?;
                        (id, nchw, act)
                    }
                    [true, false] => {
                        let (id, nchw) =
                            self.with_constant(name, (input(1)?, ins[0]), false, &label)?;
                        (id, nchw, act)
                    }
                    [true, true] => return Err("two constant operands".into()),
                }
            }
            "MEAN" => {
                let (id, keep) = self.mean(op, &ins, &label)?;
                (id, keep, tflite::ActivationFunctionType::NONE)
            }
            "PAD" => {
                let (id, nchw) = self.pad(&ins, &label)?;
                (id, nchw, tflite::ActivationFunctionType::NONE)
            }
            "CONCATENATION" => self.concatenation(op, &ins, &label)?,
            "RESHAPE" => {
                let (_, id) = self.plain(input(0)?)?;
                let (shape, _, _) = self.flow_shape(out);
                let id = self.push(&label, name, Op::Reshape, shape.clone(), vec![id]);
                self.reshaped(out, shape, id)?;
                return Ok(());
            }
            "LOGISTIC" | "TANH" | "RELU" | "RELU6" => {
                let (shape, id, nchw) = self.flow(input(0)?)?;
                let op = match name {
                    "LOGISTIC" => Op::Func(Func::Sigmoid),
                    "TANH" => Op::Func(Func::Tanh),
                    "RELU" => Op::Relu,
                    _ => Op::Clip {
                        lo: Some(0.0),
                        hi: Some(6.0),
                    },
                };
                let shape = internal_shape(&shape, nchw);
                (
                    self.push(&label, name, op, shape, vec![id]),
                    nchw,
                    tflite::ActivationFunctionType::NONE,
                )
            }
            other => return Err(format!("{other} is not supported here")),
        };
        let (shape, _, _) = self.flow_shape(out);
        let id = self.activation(act, id, &internal_shape(&shape, nchw), &label)?;
        self.set(out, shape, id, nchw);
        Ok(())
    }

    /// Tensor `t`'s TFLite shape as the file declares it.
    fn flow_shape(&self, t: usize) -> (Vec<usize>, usize, bool) {
        match self.vals.get(&t) {
            Some(super::Val::Flow {
                tfl_shape,
                id,
                nchw,
            }) => (tfl_shape.clone(), *id, *nchw),
            Some(super::Val::Const(s, _)) => (s.clone(), usize::MAX, false),
            None => (vec![], usize::MAX, false),
        }
    }

    /// A RESHAPE's output: channel-first again when it is 4-D.
    fn reshaped(&mut self, t: usize, shape: Vec<usize>, id: usize) -> OpResult<()> {
        match shape[..] {
            [1, h, w, c] => {
                let picks = super::nhwc_to_nchw(h, w, c);
                let name = format!("tensor{t}.nchw");
                let id = self.push(
                    &name,
                    "Transpose",
                    Op::Remap(picks),
                    vec![1, c, h, w],
                    vec![id],
                );
                self.set(t, shape, id, true);
            }
            _ => self.set(t, shape, id, false),
        }
        Ok(())
    }

    /// A fused activation after node `id` (of internal shape `shape`).
    fn activation(
        &mut self,
        act: tflite::ActivationFunctionType,
        id: usize,
        shape: &[usize],
        label: &str,
    ) -> OpResult<usize> {
        use tflite::ActivationFunctionType as A;
        let op = match act {
            A::NONE => return Ok(id),
            A::RELU => Op::Relu,
            A::RELU6 => Op::Clip {
                lo: Some(0.0),
                hi: Some(6.0),
            },
            A::RELU_N1_TO_1 => Op::Clip {
                lo: Some(-1.0),
                hi: Some(1.0),
            },
            A::TANH => Op::Func(Func::Tanh),
            other => {
                return Err(format!(
                    "fused activation {} is not supported",
                    other.variant_name().unwrap_or("?")
                ))
            }
        };
        let name = format!(
            "{label}.{}",
            act.variant_name().unwrap_or("act").to_lowercase()
        );
        Ok(self.push(&name, "FusedActivation", op, shape.to_vec(), vec![id]))
    }

    /// CONV_2D (filter `[O, KH, KW, I]`) and DEPTHWISE_CONV_2D (filter `[1, KH, KW, C * M]`).
    fn conv(
        &mut self,
        op: &tflite::Operator,
        name: &str,
        ins: &[i32],
        label: &str,
    ) -> OpResult<(usize, bool, tflite::ActivationFunctionType)> {
        let x = usize::try_from(ins[0]).map_err(|_| "no input".to_string())?;
        let (shape, id, nchw) = self.flow(x)?;
        let [1, h, w, c] = shape[..] else {
            return Err(format!("input {shape:?}: expected [1, H, W, C]"));
        };
        debug_assert!(nchw);
        let (fshape, f) = self.constant(*ins.get(1).ok_or("no filter")?)?;
        let layout = conv_layout(op, name == "DEPTHWISE_CONV_2D", (c, h, w), &fshape)?;
        let (geom, act) = (layout.geom, layout.act);
        let out_c = geom.out_c;
        let weight = layout.src.iter().map(|i| f[*i]).collect();
        let bias = self.bias(ins.get(2).copied(), out_c)?;
        let conv = Conv { geom, weight, bias };
        let shape = vec![1, out_c, geom.out_h, geom.out_w];
        Ok((
            self.push(label, name, Op::Conv(conv), shape, vec![id]),
            true,
            act,
        ))
    }

    /// An optional bias input: its `n` values, or zeros.
    fn bias(&self, t: Option<i32>, n: usize) -> OpResult<Vec<f32>> {
        match t {
            Some(t) if t >= 0 => {
                let (_, b) = self.constant(t)?;
                if b.len() != n {
                    return Err(format!("{} biases for {n} outputs", b.len()));
                }
                Ok(b)
            }
            _ => Ok(vec![0.0; n]),
        }
    }

    /// FULLY_CONNECTED: weights `[out, in]` over the input read in TFLite's order.
    fn fully_connected(
        &mut self,
        op: &tflite::Operator,
        ins: &[i32],
        label: &str,
    ) -> OpResult<(usize, bool, tflite::ActivationFunctionType)> {
        let x = usize::try_from(ins[0]).map_err(|_| "no input".to_string())?;
        let (shape, id) = self.plain(x)?;
        let (wshape, weight) = self.constant(*ins.get(1).ok_or("no weights")?)?;
        let [n_out, n_in] = wshape[..] else {
            return Err(format!("weights {wshape:?} are not 2-D"));
        };
        let numel: usize = shape.iter().product();
        if numel != n_in {
            return Err(format!(
                "input {shape:?} for {n_in} weights per output (batch 1 only)"
            ));
        }
        let act = op
            .builtin_options_as_fully_connected_options()
            .map(|o| o.fused_activation_function())
            .unwrap_or(tflite::ActivationFunctionType::NONE);
        let dense = Dense {
            in_features: n_in,
            out_features: n_out,
            weight,
            bias: self.bias(ins.get(2).copied(), n_out)?,
        };
        Ok((
            self.push(
                label,
                "FULLY_CONNECTED",
                Op::Dense(dense),
                vec![1, n_out],
                vec![id],
            ),
            false,
            act,
        ))
    }

    /// AVERAGE_POOL_2D and MAX_POOL_2D.
    fn pool(
        &mut self,
        op: &tflite::Operator,
        name: &str,
        x: usize,
        label: &str,
    ) -> OpResult<(usize, bool, tflite::ActivationFunctionType)> {
        let (shape, id, _) = self.flow(x)?;
        let [1, h, w, c] = shape[..] else {
            return Err(format!("input {shape:?}: expected [1, H, W, C]"));
        };
        let o = op
            .builtin_options_as_pool_2_doptions()
            .ok_or("no options")?;
        let geom = pool_geom(&o, (c, h, w))?;
        let kernel = geom.kernel;
        let out_shape = vec![1, c, geom.out_h, geom.out_w];
        let node = if name == "MAX_POOL_2D" {
            Op::MaxPool(geom)
        } else {
            // TFLite divides each window by the elements it covers: padding would change the
            // divisor at the borders.
            if geom.pads.iter().any(|p| *p > 0) {
                let id = self.average_over_padding(geom, id, label);
                return Ok((id, true, o.fused_activation_function()));
            }
            let n = (kernel[0] * kernel[1]) as f32;
            Op::Conv(Conv {
                geom,
                weight: vec![1.0 / n; geom.weight_len()],
                bias: vec![0.0; c],
            })
        };
        Ok((
            self.push(label, name, node, out_shape, vec![id]),
            true,
            o.fused_activation_function(),
        ))
    }

    /// ADD, SUB, MUL of two activations of one shape (or an activation and a per-channel constant).
    fn binary(
        &mut self,
        op: &tflite::Operator,
        name: &str,
        a: usize,
        b: usize,
        label: &str,
    ) -> OpResult<(usize, bool, tflite::ActivationFunctionType)> {
        let act = binary_activation(op, name);
        let (sa, ia, na) = self.flow(a)?;
        let (sb, ib, nb) = self.flow(b).map_err(|e| {
            format!("{e} (an activation and a constant are not supported yet: two activations)")
        })?;
        if sa != sb || na != nb {
            return Err(format!(
                "shapes {sa:?} and {sb:?} differ (no broadcasting yet)"
            ));
        }
        let node = match name {
            "ADD" => Op::Add {
                coeffs: vec![1.0, 1.0],
            },
            "SUB" => Op::Add {
                coeffs: vec![1.0, -1.0],
            },
            _ => Op::Mul,
        };
        let shape = internal_shape(&sa, na);
        Ok((self.push(label, name, node, shape, vec![ia, ib]), na, act))
    }
}

/// The fused activation of an ADD, SUB or MUL.
fn binary_activation(op: &tflite::Operator, name: &str) -> tflite::ActivationFunctionType {
    match name {
        "ADD" => op
            .builtin_options_as_add_options()
            .map(|o| o.fused_activation_function()),
        "SUB" => op
            .builtin_options_as_sub_options()
            .map(|o| o.fused_activation_function()),
        _ => op
            .builtin_options_as_mul_options()
            .map(|o| o.fused_activation_function()),
    }
    .unwrap_or(tflite::ActivationFunctionType::NONE)
}

/// The graph's shape of a TFLite tensor: channel-first when `nchw`.
pub(super) fn internal_shape(shape: &[usize], nchw: bool) -> Vec<usize> {
    match (nchw, shape) {
        (true, [n, h, w, c]) => vec![*n, *c, *h, *w],
        _ => shape.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::padding;

    #[test]
    fn same_padding_puts_the_extra_element_after() {
        // 25 rows, kernel 10, stride 2: out 13, total pad (12 * 2 + 10) - 25 = 9 → 4 before, 5 after.
        assert_eq!(padding(true, 25, 10, 2, 1).unwrap(), (13, 4, 5));
        assert_eq!(padding(true, 32, 3, 1, 1).unwrap(), (32, 1, 1));
        assert_eq!(padding(true, 32, 1, 2, 1).unwrap(), (16, 0, 0));
        assert_eq!(padding(false, 25, 25, 25, 1).unwrap(), (1, 0, 0));
        assert!(padding(false, 3, 5, 1, 1).is_err());
    }
}
