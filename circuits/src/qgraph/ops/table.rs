//! An elementwise map of int8 values by table (int8 activations: TFLite's LOGISTIC, TANH,
//! HARD_SWISH; onnxruntime's QLinearSigmoid, QLinearLeakyRelu; centring a product's factors).

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::lower::{identity_blocks, LowerCx, Tail};
use crate::qgraph::EvalError;

/// An elementwise map by table: `y = table[x - lo]`, for `x` in `[lo, lo + table.len())` (an int8
/// tensor's values; the lookup proves the range). Unlike [`super::QFunction`] there is no clamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QTable {
    /// The first input the table covers.
    pub lo: i64,
    /// One output per input value.
    pub table: Vec<i64>,
}

impl OpRules for QTable {
    fn name(&self) -> &'static str {
        "table"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let big = self.table.iter().any(|v| v.unsigned_abs() >= 1 << 40);
        if cx.out != cx.len
            || self.table.is_empty()
            || self.table.len() > 1 << 16
            || big
            || self.lo.unsigned_abs() >= 1 << 40
        {
            return Err(cx.invalid("an invalid table"));
        }
        Ok(())
    }

    fn eval(&self, cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let max = self.lo + self.table.len() as i64;
        x.iter()
            .enumerate()
            .map(|(index, &v)| match v < self.lo || v >= max {
                true => Err(cx.out_of_range(index, v, self.lo, max)),
                false => Ok(self.table[(v - self.lo) as usize]),
            })
            .collect()
    }

    /// Identity blocks whose link rows look the values up under the layer's tag.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let tag = cx.graph.function_tag(cx.index);
        identity_blocks(cx.b, cx.n_out, cx.width, &|_| Tail::Function(tag))
    }
}
