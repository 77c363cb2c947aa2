//! ONNX ConvTranspose, lowered as the convolution it equals: the input dilated by the stride, the
//! kernel flipped and its in/out channel axes swapped, padding `d * (k - 1) - pad` on each side (plus
//! `output_padding` at the end).

use tract_onnx::pb::NodeProto;

use super::cnn::{chw, groups, ints, out_shape, pair};
use super::{Importer, NodeResult};
use crate::ir::geom::ConvGeom;
use crate::ir::{Conv, Op};

/// A transposed convolution's attributes, per axis `[h, w]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transposed {
    /// `[C, H, W]` of the input.
    pub input: [usize; 3],
    pub out_c: usize,
    pub groups: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    pub output_padding: [usize; 2],
}

impl Transposed {
    /// The equivalent convolution's geometry and weights, from ConvTranspose weights laid out
    /// `[C_in][C_out / groups][kh][kw]`.
    pub fn as_conv(&self, weight: &[f32]) -> NodeResult<(ConvGeom, Vec<f32>)> {
        let [in_c, in_h, in_w] = self.input;
        let [kh, kw] = self.kernel;
        let g = self.groups;
        if g == 0 || !in_c.is_multiple_of(g) || !self.out_c.is_multiple_of(g) {
            return Err(format!(
                "{g} groups do not divide {in_c} input / {} output channels",
                self.out_c
            ));
        }
        let (ipg, opg) = (in_c / g, self.out_c / g);
        if weight.len() != in_c * opg * kh * kw {
            return Err(format!(
                "weights have {} values, expected {in_c}x{opg}x{kh}x{kw}",
                weight.len()
            ));
        }
        let mut pads = [0; 4];
        for a in 0..2 {
            let span = self.dilation[a] * (self.kernel[a] - 1);
            let (lo, hi) = (self.pads[a], self.pads[a + 2]);
            if lo > span || hi > span + self.output_padding[a] {
                return Err("padding wider than the kernel's span is not supported".into());
            }
            pads[a] = span - lo;
            pads[a + 2] = span + self.output_padding[a] - hi;
        }
        let dilated = |len, a: usize| ConvGeom::dilated_len(len, self.stride[a]);
        let out = |len, a: usize| {
            ConvGeom::out_len(
                dilated(len, a)?,
                self.kernel[a],
                1,
                pads[a],
                pads[a + 2],
                self.dilation[a],
            )
        };
        let (Some(out_h), Some(out_w)) = (out(in_h, 0), out(in_w, 1)) else {
            return Err("the output would be empty".into());
        };
        let geom = ConvGeom {
            in_c,
            in_h,
            in_w,
            out_c: self.out_c,
            out_h,
            out_w,
            kernel: self.kernel,
            stride: [1, 1],
            pads,
            dilation: self.dilation,
            groups: g,
            input_dilation: self.stride,
        };
        geom.validate()?;
        let mut w = vec![0.0; weight.len()];
        for oc in 0..self.out_c {
            let (grp, j) = (oc / opg, oc % opg);
            for c in 0..ipg {
                let ic = grp * ipg + c;
                for ky in 0..kh {
                    for kx in 0..kw {
                        let from = ((ic * opg + j) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx);
                        w[((oc * ipg + c) * kh + ky) * kw + kx] = weight[from];
                    }
                }
            }
        }
        Ok((geom, w))
    }
}

impl Importer<'_> {
    pub(super) fn conv_transpose(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let (in_c, in_h, in_w, one_d) = chw(&s)?;
        let w = self.const_input(node, 1)?.ok_or("needs constant weights")?;
        let groups = groups(node)?;
        let (opg, kernel) = match (w.shape.as_slice(), one_d) {
            ([c, m, kh, kw], false) if *c == in_c => (*m, [*kh, *kw]),
            ([c, m, k], true) if *c == in_c => (*m, [1, *k]),
            _ => {
                return Err(format!(
                    "weights have shape {:?} for {in_c} input channels",
                    w.shape
                ))
            }
        };
        if node
            .get_attr_opt_vec::<i64>("output_shape")
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Err(
                "output_shape is not supported yet (export with pads and output_padding)".into(),
            );
        }
        let auto_pad = node
            .get_attr_opt::<String>("auto_pad")
            .map_err(|e| e.to_string())?
            .unwrap_or_else(|| "NOTSET".into());
        let pads = match (auto_pad.as_str(), ints(node, "pads")?.as_deref(), one_d) {
            ("VALID", _, _) | ("NOTSET", None, _) => [0; 4],
            ("NOTSET", Some([t, l, b, r]), false) => [*t, *l, *b, *r],
            ("NOTSET", Some([l, r]), true) => [0, *l, 0, *r],
            ("NOTSET", Some(p), _) => return Err(format!("attribute pads has {} values", p.len())),
            (other, _, _) => {
                return Err(format!(
                    "auto_pad {other} is not supported yet for ConvTranspose"
                ))
            }
        };
        let t = Transposed {
            input: [in_c, in_h, in_w],
            out_c: opg * groups,
            groups,
            kernel,
            stride: pair(ints(node, "strides")?, one_d, 1, "strides")?,
            dilation: pair(ints(node, "dilations")?, one_d, 1, "dilations")?,
            pads,
            output_padding: match pair(ints(node, "output_padding")?, one_d, 0, "output_padding")? {
                [_, w] if one_d => [0, w],
                p => p,
            },
        };
        let (geom, weight) = t.as_conv(&w.data.iter().map(|v| *v as f32).collect::<Vec<_>>())?;
        let bias = self.conv_bias(node, geom.out_c)?;
        self.push(
            node,
            Op::Conv(Conv { geom, weight, bias }),
            out_shape(&geom, one_d),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Transposed;

    /// ConvTranspose by its definition: every input element scatters `x * w` over the output.
    fn scatter(t: &Transposed, x: &[f32], w: &[f32], out: [usize; 2]) -> Vec<f32> {
        let [in_c, in_h, in_w] = t.input;
        let [kh, kw] = t.kernel;
        let (ipg, opg) = (in_c / t.groups, t.out_c / t.groups);
        let mut y = vec![0.0f32; t.out_c * out[0] * out[1]];
        for ic in 0..in_c {
            let grp = ic / ipg;
            for (iy, ix) in (0..in_h).flat_map(|a| (0..in_w).map(move |b| (a, b))) {
                for j in 0..opg {
                    for (ky, kx) in (0..kh).flat_map(|a| (0..kw).map(move |b| (a, b))) {
                        let oy =
                            (iy * t.stride[0] + ky * t.dilation[0]) as isize - t.pads[0] as isize;
                        let ox =
                            (ix * t.stride[1] + kx * t.dilation[1]) as isize - t.pads[1] as isize;
                        if oy < 0 || ox < 0 || oy as usize >= out[0] || ox as usize >= out[1] {
                            continue;
                        }
                        let oc = grp * opg + j;
                        let wi = ((ic * opg + j) * kh + ky) * kw + kx;
                        y[(oc * out[0] + oy as usize) * out[1] + ox as usize] +=
                            x[(ic * in_h + iy) * in_w + ix] * w[wi];
                    }
                }
            }
        }
        y
    }

    #[test]
    fn the_equivalent_convolution_computes_the_transposed_one() {
        for (stride, dilation, pads, output_padding, groups) in [
            ([2, 2], [1, 1], [0, 0, 0, 0], [0, 0], 1),
            ([2, 3], [1, 1], [1, 0, 2, 1], [1, 0], 1),
            ([1, 2], [2, 1], [1, 1, 0, 0], [0, 1], 2),
            ([3, 1], [1, 1], [0, 0, 0, 0], [2, 0], 2),
        ] {
            let t = Transposed {
                input: [4, 3, 4],
                out_c: 6,
                groups,
                kernel: [3, 2],
                stride,
                dilation,
                pads,
                output_padding,
            };
            let n_w = 4 * (6 / groups) * 3 * 2;
            let w: Vec<f32> = (0..n_w)
                .map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0)
                .collect();
            let x: Vec<f32> = (0..48).map(|i| ((i * 5 % 13) as f32 - 6.0) / 3.0).collect();
            let (geom, cw) = t.as_conv(&w).unwrap();
            let out = [geom.out_h, geom.out_w];
            for a in 0..2 {
                let want = (t.input[a + 1] - 1) * stride[a]
                    + dilation[a] * (t.kernel[a] - 1)
                    + 1
                    + output_padding[a]
                    - pads[a]
                    - pads[a + 2];
                assert_eq!(out[a], want, "{t:?}");
            }
            let bias = vec![0.0; 6];
            let f = |v: &[f32]| v.iter().map(|x| *x as f64).collect::<Vec<_>>();
            let got = geom.apply(&f(&x), &f(&cw), &bias);
            let want = scatter(&t, &x, &w, out);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - *w as f64).abs() < 1e-4, "{t:?}: {g} vs {w}");
            }
            let taps: usize = (0..groups)
                .flat_map(|g| (0..out[0]).flat_map(move |y| (0..out[1]).map(move |x| (g, y, x))))
                .map(|(g, y, x)| geom.patch(g, y, x).len() * geom.out_per_group())
                .sum();
            assert_eq!(geom.macs(), taps, "{t:?}");
            // Padding past the kernel's span would crop more than the convolution can: refused.
            let wide = Transposed {
                pads: [3 * dilation[0], 0, 0, 0],
                ..t
            };
            assert!(wide.as_conv(&w).unwrap_err().contains("padding"));
        }
    }
}
