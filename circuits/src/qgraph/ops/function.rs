//! A function by table on a float graph's activations (Sigmoid, Tanh, Exp, GELU, ...), its input
//! clamped to the table's domain.

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::lower::{clip_blocks, LowerCx, Tail};
use crate::qgraph::EvalError;

/// An elementwise function by table: `y = table[clamp(x, -domain, domain - 1) + domain]`, from
/// `in_scale` to `out_scale`. The clamp is proven with ReLUs (as Clip), so `x + domain` and
/// `x - domain + 1` must lie in the activation range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QFunction {
    /// Which function the table holds (`sigmoid`, `tanh`, ...; [`crate::ir::Func::name`]).
    pub func: String,
    /// Half the table's length: inputs are clamped to `[-domain, domain)`.
    pub domain: i64,
    /// Fractional bits of the input `x`.
    pub in_scale: u32,
    /// Fractional bits of the table's outputs.
    pub out_scale: u32,
    /// The `2 * domain` outputs: entry `i` is `f(i - domain)` quantized.
    pub table: Vec<i64>,
}

impl OpRules for QFunction {
    fn name(&self) -> &'static str {
        "function"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let big = self.table.iter().any(|v| v.unsigned_abs() >= 1 << 40);
        let ok_domain =
            (1..=1 << 16).contains(&self.domain) && self.table.len() as i64 == 2 * self.domain;
        if cx.out != cx.len || !ok_domain || big || self.in_scale > 32 || self.out_scale > 32 {
            return Err(cx.invalid("an invalid function table"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let d = self.domain;
        x.iter()
            .enumerate()
            .map(|(index, &v)| {
                for bound in [v + d, v - d + 1] {
                    cx.range(index, bound)?;
                }
                Ok(self.table[(v.clamp(-d, d - 1) + d) as usize])
            })
            .collect()
    }

    /// The clamp (as Clip), then an identity block per `width` elements whose link rows look the
    /// values up under the layer's tag.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let tag = cx.graph.function_tag(cx.index);
        let slots: Vec<usize> = (0..cx.n_out).collect();
        let d = self.domain;
        let clipped = clip_blocks(cx.b, &slots, Some(-d), Some(d - 1), cx.width);
        let mut out = Vec::with_capacity(cx.n_out);
        for xs in clipped.chunks(cx.width) {
            let eye = (0..xs.len()).map(|j| (0..xs.len()).map(|i| (i == j) as i64).collect());
            let zero = vec![0; xs.len()];
            out.extend(cx.b.block(xs.to_vec(), eye.collect(), zero, Tail::Function(tag)));
        }
        out
    }
}
