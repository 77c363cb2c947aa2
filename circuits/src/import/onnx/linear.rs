//! ONNX linear ops on the data tensor: Gemm, MatMul, and Add / Sub / Mul / Div with a constant.

use tract_onnx::pb::NodeProto;

use super::shapes::{broadcast, per_channel};
use super::{Importer, NodeResult, Val};
use crate::ir::{Dense, Op, Shape};

impl Importer<'_> {
    pub(super) fn gemm(&mut self, node: &NodeProto) -> NodeResult<()> {
        let a = self.flow_input(node, 0)?;
        let b = self.const_input(node, 1)?.ok_or("needs a constant B")?;
        let c = self.const_input(node, 2)?;
        let attr_f = |n: &str, d: f32| {
            node.get_attr_opt::<f32>(n)
                .map(|v| v.unwrap_or(d))
                .map_err(|e| e.to_string())
        };
        let attr_i = |n: &str| {
            node.get_attr_opt::<i64>(n)
                .map(|v| v.unwrap_or(0))
                .map_err(|e| e.to_string())
        };
        let (alpha, beta) = (attr_f("alpha", 1.0)? as f64, attr_f("beta", 1.0)? as f64);
        let (trans_a, trans_b) = (attr_i("transA")? != 0, attr_i("transB")? != 0);
        let n = match (a.0.as_slice(), trans_a) {
            ([1, n], false) | ([n, 1], true) => *n,
            _ => {
                return Err(format!(
                    "input A has shape {a}; only a single row (batch 1) is supported"
                ))
            }
        };
        let [b0, b1] = b.shape[..] else {
            return Err(format!("B must be 2-D, has shape {:?}", b.shape));
        };
        let (k, m) = if trans_b { (b1, b0) } else { (b0, b1) };
        if k != n {
            return Err(format!("A has {n} columns but B has {k} rows"));
        }
        let weight = (0..m)
            .flat_map(|o| (0..n).map(move |i| (o, i)))
            .map(|(o, i)| {
                alpha
                    * if trans_b {
                        b.data[o * n + i]
                    } else {
                        b.data[i * m + o]
                    }
            })
            .map(|v| v as f32)
            .collect();
        let bias = match c {
            Some(c) => broadcast(&c, m)?
                .into_iter()
                .map(|v| (beta * v) as f32)
                .collect(),
            None => vec![0.0; m],
        };
        let dense = Dense {
            in_features: n,
            out_features: m,
            weight,
            bias,
        };
        self.push(node, Op::Dense(dense), Shape(vec![1, m]))
    }

    pub(super) fn matmul(&mut self, node: &NodeProto) -> NodeResult<()> {
        let a = self
            .flow_input(node, 0)
            .map_err(|e| format!("{e} (the weight must be the right operand)"))?;
        let b = self
            .const_input(node, 1)?
            .ok_or("needs a constant right operand")?;
        let (lead, n) = a.0.split_at(a.0.len().saturating_sub(1));
        let n = *n.first().ok_or("input is a scalar")?;
        if lead.iter().any(|d| *d != 1) {
            return Err(format!(
                "input has shape {a}; only a single row (batch 1) is supported"
            ));
        }
        let [k, m] = b.shape[..] else {
            return Err(format!("the weight must be 2-D, has shape {:?}", b.shape));
        };
        if k != n {
            return Err(format!(
                "input has {n} features but the weight has {k} rows"
            ));
        }
        let weight = (0..m)
            .flat_map(|o| (0..n).map(move |i| (o, i)))
            .map(|(o, i)| b.data[i * m + o] as f32)
            .collect();
        let mut shape = lead.to_vec();
        shape.push(m);
        let dense = Dense::unbiased(n, m, weight);
        self.push(node, Op::Dense(dense), Shape(shape))
    }

    /// Add, Sub, Mul, Div of the data tensor and a scalar or per-channel constant: a per-channel
    /// affine map, folded into the preceding Gemm or Conv where there is one.
    pub(super) fn arith(&mut self, node: &NodeProto) -> NodeResult<()> {
        let flow_first = matches!(self.input(node, 0)?, Some(Val::Flow(..)));
        let (flow_i, const_i) = if flow_first { (0, 1) } else { (1, 0) };
        let s = self.flow_input(node, flow_i)?;
        let c = self
            .const_input(node, const_i)?
            .ok_or("needs a constant operand")?;
        let v = per_channel(&c, &s)
            .map_err(|e| format!("{e} ({} of the data and a constant)", node.op_type))?;
        let ones = vec![1.0; v.len()];
        let zeros = vec![0.0; v.len()];
        let neg = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<f64>>();
        let (a, b) = match (node.op_type.as_str(), flow_first) {
            ("Add", _) => (ones, v),
            ("Sub", true) => (ones, neg(&v)),
            ("Sub", false) => (neg(&ones), v),
            ("Mul", _) => (v, zeros),
            ("Div", true) if v.iter().all(|x| *x != 0.0) => {
                (v.iter().map(|x| 1.0 / x).collect(), zeros)
            }
            ("Div", true) => return Err("division by zero".into()),
            _ => return Err("dividing a constant by the data tensor is not supported".into()),
        };
        self.affine(node, s, &a, &b)
    }
}
