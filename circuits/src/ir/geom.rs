//! Convolution geometry, shared by the float IR, the quantized graph and the circuit lowering.
//!
//! Tensors are row-major `[C, H, W]` (batch 1 dropped); a 1-D convolution has `H = 1`.

use serde::{Deserialize, Serialize};

/// The geometry of a (possibly grouped, dilated, padded) convolution or pooling window on a
/// `[C, H, W]` tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeom {
    /// Input channels.
    pub in_c: usize,
    /// Input height (1 for a 1-D convolution), before input dilation.
    pub in_h: usize,
    /// Input width, before input dilation.
    pub in_w: usize,
    /// Output channels.
    pub out_c: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// `[vertical, horizontal]` step between output positions.
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// `[vertical, horizontal]` spacing between kernel taps (1 for adjacent taps).
    pub dilation: [usize; 2],
    /// Channel groups: each output channel reads `in_c / groups` input channels.
    pub groups: usize,
    /// Input dilation: `d - 1` zeros between neighbouring input elements, as a transposed
    /// convolution of stride `d` is lowered. `[1, 1]` (left out of the file) for a plain convolution.
    #[serde(default = "unit", skip_serializing_if = "is_unit")]
    pub input_dilation: [usize; 2],
}

fn unit() -> [usize; 2] {
    [1, 1]
}

fn is_unit(v: &[usize; 2]) -> bool {
    *v == [1, 1]
}

/// Largest dimension we accept (keeps index arithmetic far from overflow on hostile files).
const MAX_DIM: usize = 1 << 16;
/// Largest input dilation (transposed-convolution stride), and largest kernel side with one above 1
/// (taps are then counted one by one).
pub const MAX_INPUT_DILATION: usize = 64;

impl ConvGeom {
    /// A per-channel (depthwise) window of `kernel` over `[c, h, w]`, stride 1, no padding: a 1x1
    /// kernel is a per-channel scale, an `[h, w]` kernel a global pool.
    pub fn depthwise(c: usize, h: usize, w: usize, kernel: [usize; 2]) -> Self {
        ConvGeom {
            in_c: c,
            in_h: h,
            in_w: w,
            out_c: c,
            out_h: h + 1 - kernel[0],
            out_w: w + 1 - kernel[1],
            kernel,
            stride: [1, 1],
            pads: [0; 4],
            dilation: [1, 1],
            groups: c,
            input_dilation: [1, 1],
        }
    }

    /// A convolution of `kernel` over `[c, h, w]` into `out_c` channels in `groups` groups, with one
    /// stride and one dilation for both axes; `None` when the kernel does not fit or the geometry is
    /// invalid.
    #[allow(clippy::too_many_arguments)]
    pub fn square(
        c: usize,
        [h, w]: [usize; 2],
        out_c: usize,
        kernel: [usize; 2],
        stride: usize,
        pads: [usize; 4],
        dilation: usize,
        groups: usize,
    ) -> Option<Self> {
        let g = ConvGeom {
            in_c: c,
            in_h: h,
            in_w: w,
            out_c,
            out_h: Self::out_len(h, kernel[0], stride, pads[0], pads[2], dilation)?,
            out_w: Self::out_len(w, kernel[1], stride, pads[1], pads[3], dilation)?,
            kernel,
            stride: [stride; 2],
            pads,
            dilation: [dilation; 2],
            groups,
            input_dilation: [1, 1],
        };
        g.validate().ok().map(|_| g)
    }

    /// Output size of one axis, or `None` when the kernel does not fit.
    pub fn out_len(
        input: usize,
        kernel: usize,
        stride: usize,
        pad_lo: usize,
        pad_hi: usize,
        dilation: usize,
    ) -> Option<usize> {
        let span = dilation
            .checked_mul(kernel.checked_sub(1)?)?
            .checked_add(1)?;
        let padded = input.checked_add(pad_lo)?.checked_add(pad_hi)?;
        (padded >= span && stride > 0).then(|| (padded - span) / stride + 1)
    }

    /// Length of an axis of `len` elements with `d - 1` zeros between neighbours.
    pub fn dilated_len(len: usize, d: usize) -> Option<usize> {
        len.checked_sub(1)?.checked_mul(d)?.checked_add(1)
    }

    /// Input channels each output channel reads.
    pub fn in_per_group(&self) -> usize {
        self.in_c / self.groups
    }

    /// Output channels per group.
    pub fn out_per_group(&self) -> usize {
        self.out_c / self.groups
    }

    /// Weights per output channel: `in_c / groups * kh * kw`.
    pub fn kernel_len(&self) -> usize {
        self.in_per_group() * self.kernel[0] * self.kernel[1]
    }

    /// Total weights: `out_c * kernel_len`.
    pub fn weight_len(&self) -> usize {
        self.out_c * self.kernel_len()
    }

    /// Elements of the input tensor.
    pub fn in_len(&self) -> usize {
        self.in_c * self.in_h * self.in_w
    }

    /// Elements of the output tensor.
    pub fn out_len_total(&self) -> usize {
        self.out_c * self.out_h * self.out_w
    }

    /// Flat (row-major) index of output channel `oc` at position `(oy, ox)`.
    pub fn out_index(&self, oc: usize, oy: usize, ox: usize) -> usize {
        (oc * self.out_h + oy) * self.out_w + ox
    }

    /// The in-bounds taps of output position `(oy, ox)` in group `g`: `(input index, kernel offset)`,
    /// where the kernel offset indexes one output channel's `[C/g, kh, kw]` weights. Padding taps are
    /// left out (they multiply zero).
    pub fn patch(&self, g: usize, oy: usize, ox: usize) -> Vec<(usize, usize)> {
        let [kh, kw] = self.kernel;
        let mut taps = Vec::with_capacity(self.kernel_len());
        for c in 0..self.in_per_group() {
            let ic = g * self.in_per_group() + c;
            for ky in 0..kh {
                let Some(y) = self.tap(0, oy, ky) else {
                    continue;
                };
                for kx in 0..kw {
                    let Some(x) = self.tap(1, ox, kx) else {
                        continue;
                    };
                    let input = (ic * self.in_h + y) * self.in_w + x;
                    taps.push((input, (c * kh + ky) * kw + kx));
                }
            }
        }
        taps
    }

    /// The input rows (`a = 0`) or columns (`a = 1`) the window of output row or column `o` reads,
    /// ascending: a patch is every input channel of its group at these rows and columns.
    pub fn window_taps(&self, a: usize, o: usize) -> Vec<usize> {
        (0..self.kernel[a])
            .filter_map(|j| self.tap(a, o, j))
            .collect()
    }

    /// The input element that tap `j` of output `o` reads on axis `a`, if it reads one (not padding,
    /// not a zero inserted by input dilation).
    fn tap(&self, a: usize, o: usize, j: usize) -> Option<usize> {
        let pos = (o * self.stride[a] + j * self.dilation[a]).checked_sub(self.pads[a])?;
        let d = self.input_dilation[a];
        let i = pos / d;
        (pos % d == 0 && i < [self.in_h, self.in_w][a]).then_some(i)
    }

    /// Multiply-accumulates of the whole convolution (padding taps excluded): a window's in-bounds
    /// taps are its rows' times its columns', so this takes one pass over each axis.
    pub fn macs(&self) -> usize {
        let [rows, cols] = self.axis_taps();
        let sum = |taps: Vec<usize>| taps.iter().sum::<usize>();
        self.out_c * self.in_per_group() * sum(rows) * sum(cols)
    }

    /// In-bounds taps of each output row and of each output column.
    fn axis_taps(&self) -> [Vec<usize>; 2] {
        let (ins, outs) = ([self.in_h, self.in_w], [self.out_h, self.out_w]);
        std::array::from_fn(|a| {
            let (k, s, pad, d) = (
                self.kernel[a],
                self.stride[a],
                self.pads[a],
                self.dilation[a],
            );
            let d = d.max(1);
            if self.input_dilation[a] > 1 {
                // Few taps (the kernel is small, see `validate`): count them one by one.
                return (0..outs[a])
                    .map(|o| (0..k).filter(|j| self.tap(a, o, *j).is_some()).count())
                    .collect();
            }
            // Tap `j` of output `o` sits at `o * s + j * d` in padded coordinates; the input spans
            // `[pad, pad + len)`.
            (0..outs[a])
                .map(|o| {
                    let first = pad.saturating_sub(o * s).div_ceil(d);
                    let end = (pad + ins[a]).saturating_sub(o * s).div_ceil(d).min(k);
                    end.saturating_sub(first)
                })
                .collect()
        })
    }

    /// `y[oc] = bias[oc] + Σ w * x` over each output position, in the given arithmetic.
    pub fn apply<T: Copy + std::ops::Add<Output = T> + std::ops::Mul<Output = T>>(
        &self,
        x: &[T],
        weight: &[T],
        bias: &[T],
    ) -> Vec<T> {
        let mut out = Vec::with_capacity(self.out_len_total());
        for oc in 0..self.out_c {
            let g = oc / self.out_per_group();
            let w = &weight[oc * self.kernel_len()..(oc + 1) * self.kernel_len()];
            for oy in 0..self.out_h {
                for ox in 0..self.out_w {
                    let acc = self
                        .patch(g, oy, ox)
                        .iter()
                        .fold(bias[oc], |a, (i, k)| a + x[*i] * w[*k]);
                    out.push(acc);
                }
            }
        }
        out
    }

    /// Whether every output position's window has at least one tap inside the input (a max pool
    /// over padding alone has no value). Assumes [`ConvGeom::validate`] passed.
    pub fn windows_overlap_input(&self) -> bool {
        self.axis_taps().iter().flatten().all(|t| *t > 0)
    }

    /// Structural checks (sizes, divisibility, output size consistent with the rest).
    pub fn validate(&self) -> Result<(), String> {
        let dims = [
            self.in_c,
            self.in_h,
            self.in_w,
            self.out_c,
            self.out_h,
            self.out_w,
            self.kernel[0],
            self.kernel[1],
        ];
        if dims.iter().any(|d| *d == 0 || *d > MAX_DIM) || self.groups == 0 {
            return Err("a convolution dimension is zero or too large".into());
        }
        let steps = self.stride.iter().chain(&self.dilation);
        if steps.clone().any(|s| *s == 0 || *s > MAX_DIM) || self.pads.iter().any(|p| *p > MAX_DIM)
        {
            return Err("a convolution stride, dilation or padding is zero or too large".into());
        }
        if !self.in_c.is_multiple_of(self.groups) || !self.out_c.is_multiple_of(self.groups) {
            return Err(format!(
                "{} groups do not divide {} input / {} output channels",
                self.groups, self.in_c, self.out_c
            ));
        }
        for a in 0..2 {
            let d = self.input_dilation[a];
            if d == 0 || d > MAX_INPUT_DILATION || (d > 1 && self.kernel[a] > MAX_INPUT_DILATION) {
                return Err(format!(
                    "input dilation {d} with a kernel of {} (at most {MAX_INPUT_DILATION} each)",
                    self.kernel[a]
                ));
            }
        }
        let (in_h, in_w) = (
            Self::dilated_len(self.in_h, self.input_dilation[0]),
            Self::dilated_len(self.in_w, self.input_dilation[1]),
        );
        let (Some(in_h), Some(in_w)) = (in_h, in_w) else {
            return Err("a convolution dimension is zero or too large".into());
        };
        let oh = Self::out_len(
            in_h,
            self.kernel[0],
            self.stride[0],
            self.pads[0],
            self.pads[2],
            self.dilation[0],
        );
        let ow = Self::out_len(
            in_w,
            self.kernel[1],
            self.stride[1],
            self.pads[1],
            self.pads[3],
            self.dilation[1],
        );
        if oh != Some(self.out_h) || ow != Some(self.out_w) {
            return Err(
                "the output size does not follow from the input, kernel, stride and padding".into(),
            );
        }
        if self
            .in_len()
            .checked_mul(self.out_c)
            .is_none_or(|n| n as u64 > 1 << 40)
        {
            return Err("the convolution is too large".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(pads: [usize; 4], stride: usize, groups: usize) -> ConvGeom {
        let oh = ConvGeom::out_len(4, 3, stride, pads[0], pads[2], 1).unwrap();
        let ow = ConvGeom::out_len(4, 3, stride, pads[1], pads[3], 1).unwrap();
        ConvGeom {
            in_c: 2,
            in_h: 4,
            in_w: 4,
            out_c: 2,
            out_h: oh,
            out_w: ow,
            kernel: [3, 3],
            stride: [stride; 2],
            pads,
            dilation: [1, 1],
            groups,
            input_dilation: [1, 1],
        }
    }

    #[test]
    fn output_sizes_and_patches_follow_onnx() {
        let g = geom([1, 1, 1, 1], 1, 1);
        assert_eq!((g.out_h, g.out_w), (4, 4));
        g.validate().unwrap();
        // The corner output sees a 2x2 window of each input channel.
        assert_eq!(g.patch(0, 0, 0).len(), 8);
        assert_eq!(g.patch(0, 1, 1).len(), 18);
        let s = geom([0, 0, 0, 0], 2, 2);
        assert_eq!((s.out_h, s.out_w), (1, 1));
        assert_eq!(s.patch(1, 0, 0).len(), 9);
        assert_eq!(s.patch(1, 0, 0)[0].0, 16); // group 1 reads input channel 1
    }

    #[test]
    fn windows_over_padding_only_are_detected() {
        assert!(geom([1, 1, 1, 1], 1, 1).windows_overlap_input());
        assert!(geom([2, 2, 2, 2], 1, 1).windows_overlap_input());
        // 3x3 windows, stride 1, padding 3: the first and last rows and columns see padding only.
        let far = geom([3, 0, 0, 0], 1, 1);
        far.validate().unwrap();
        assert!(!far.windows_overlap_input());
        // Dilated windows over rows 0..4: taps at rows -2, 1, 4 see row 1; taps at -1, 4, 9 none.
        let dilated = |d: usize, top: usize, bottom: usize| {
            let mut g = geom([0, 0, 0, 0], 1, 1);
            (g.dilation[0], g.pads[0], g.pads[2]) = (d, top, bottom);
            g.out_h = ConvGeom::out_len(4, 3, 1, top, bottom, d).unwrap();
            g.validate().unwrap();
            g.windows_overlap_input()
        };
        assert!(dilated(3, 2, 1));
        assert!(!dilated(5, 1, 6));
    }

    #[test]
    fn macs_count_the_in_bounds_taps_of_every_patch() {
        for (pads, stride, groups) in [([1, 1, 1, 1], 1, 1), ([2, 0, 1, 3], 1, 2), ([0; 4], 2, 2)] {
            for dilation in [[1, 1], [2, 1]] {
                let mut g = geom(pads, stride, groups);
                g.dilation = dilation;
                let Some(oh) = ConvGeom::out_len(4, 3, stride, pads[0], pads[2], dilation[0])
                else {
                    continue;
                };
                g.out_h = oh;
                let mut n = 0;
                for grp in 0..g.groups {
                    for oy in 0..g.out_h {
                        for ox in 0..g.out_w {
                            n += g.patch(grp, oy, ox).len() * g.out_per_group();
                        }
                    }
                }
                assert_eq!(g.macs(), n, "{g:?}");
            }
        }
    }

    #[test]
    fn apply_matches_a_hand_computed_sum() {
        let g = geom([0, 0, 0, 0], 1, 1);
        let x: Vec<i64> = (0..32).collect();
        let w = vec![1i64; g.weight_len()];
        let y = g.apply(&x, &w, &[0, 100]);
        // Output (oc 0, 0, 0): channel 0 rows 0..3 cols 0..3 plus channel 1 the same (+16 each).
        let ch0: i64 = [0, 1, 2, 4, 5, 6, 8, 9, 10].iter().sum();
        assert_eq!(y[0], ch0 + (ch0 + 9 * 16));
        assert_eq!(y[g.out_index(1, 0, 0)], y[0] + 100);
    }
}
