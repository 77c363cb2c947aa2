//! Row-free data movement: Pad, Transpose, Concat, Slice, Gather, Reshape-like picks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::lower::{LowerCx, Tail};
use crate::qgraph::{EvalError, QPick};

/// Each output element is an input element or a constant (at the tensor's scale): Pad, Transpose,
/// Concat (the picks index the concatenation of the layer's inputs), Slice, Gather.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QRemap {
    /// One pick per output element, in row-major order.
    pub map: Vec<QPick>,
}

impl OpRules for QRemap {
    fn name(&self) -> &'static str {
        "remap"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let bad = self.map.iter().any(|p| match p {
            QPick::Input(i) => *i >= cx.len,
            QPick::Const(c) => c.unsigned_abs() >= 1 << 40,
        });
        if self.map.len() != cx.out || bad {
            return Err(cx.invalid("an invalid remap"));
        }
        Ok(())
    }

    fn eval(&self, _cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        Ok(self
            .map
            .iter()
            .map(|p| match p {
                QPick::Input(i) => x[*i],
                QPick::Const(c) => *c,
            })
            .collect())
    }

    /// No rows but one per distinct constant.
    fn min_rows(&self, _out: usize, _fused: bool) -> usize {
        0
    }

    /// The output slots: input slots, or one shared constant block per distinct value.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let mut consts: BTreeMap<i64, usize> = BTreeMap::new();
        self.map
            .iter()
            .map(|p| match p {
                QPick::Input(i) => *i,
                QPick::Const(c) => *consts
                    .entry(*c)
                    .or_insert_with(|| cx.b.block(vec![], vec![vec![]], vec![*c], Tail::Pass)[0]),
            })
            .collect()
    }
}
