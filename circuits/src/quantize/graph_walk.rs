//! Walking the float graph as a DAG while quantizing: which node reads a tensor, the state of each
//! quantized tensor (an accumulator may still wait for its rescale), and the nodes that join several
//! tensors (Add, Mul, Concat), whose inputs are rescaled once and aligned.

use crate::ir::{Graph, Op, Pick, Shape};
use crate::qgraph::{quantize, QAdd, QOp, QPick, QRemap};
use crate::quantize::calibrate::{
    function_in_scale, range_scale, CalibrationError, MIN_WEIGHT_SCALE,
};
use crate::quantize::layers::Layers;

/// The scale the rescale after Linear or Conv node `i` (whose sums reach `max_abs`) brings them to: the
/// input scale of a table function that follows, or the largest that fits the calibrated range.
pub(super) fn rescale_target(graph: &Graph, i: usize, node_max: &[f64], l: u32) -> u32 {
    let max_abs = node_max[i];
    match only_reader(graph, i + 1).map(|n| (n, &graph.nodes[n].op)) {
        Some((_, Op::Func(f))) => function_in_scale(*f, max_abs, l),
        // A Linear or Conv that reads it directly must leave its weights MIN_WEIGHT_SCALE bits of
        // its own rescale's budget (a global pool, then a dense layer a table function reads).
        Some((n, Op::Dense(_) | Op::Conv(_))) if !feeds_output(graph, n + 1) => {
            let next = rescale_target(graph, n, node_max, l);
            range_scale(max_abs, l).min((l + next).saturating_sub(MIN_WEIGHT_SCALE))
        }
        _ => range_scale(max_abs, l),
    }
}

/// The node that alone reads tensor `t` (through reshapes), if one does.
pub(super) fn only_reader(graph: &Graph, t: usize) -> Option<usize> {
    let readers = graph.readers(t);
    let [n] = readers.as_slice() else {
        return None;
    };
    match graph.nodes[*n].op {
        Op::Reshape => only_reader(graph, n + 1),
        _ => Some(*n),
    }
}

/// Whether exactly one node reads tensor `t`, once, and reads nothing else.
pub(super) fn read_by_one_single_input_node(graph: &Graph, t: usize) -> bool {
    match graph.readers(t).as_slice() {
        [n] => {
            graph.nodes[*n].inputs.len() == 1
                && !matches!(graph.nodes[*n].op, Op::Add { .. } | Op::Mul)
        }
        _ => t == graph.nodes.len(),
    }
}

/// Whether tensor `t` is the graph's output, or reaches it through reshapes only.
pub(super) fn feeds_output(graph: &Graph, t: usize) -> bool {
    let readers = graph.readers(t);
    match readers.as_slice() {
        [] => t == graph.nodes.len(),
        [n] => matches!(graph.nodes[*n].op, Op::Reshape) && feeds_output(graph, n + 1),
        _ => false,
    }
}

/// A float tensor's quantized form while the graph is quantized.
#[derive(Clone, Debug)]
pub(super) struct TensorState {
    /// The quantized tensor (0: the input, `k + 1`: layer k's output).
    pub(super) q: usize,
    /// Its scale (an accumulator's while `pending`).
    pub(super) scale: u32,
    /// An accumulator still waiting for its rescale: (float node whose range it takes, its scale).
    pub(super) pending: Option<(usize, u32)>,
    /// Its shape.
    pub(super) shape: Shape,
}

/// Rescale float tensor `t` now if it is an accumulator, so that all its readers share the result.
pub(super) fn materialize(
    graph: &Graph,
    t: usize,
    b: &mut Layers,
    states: &mut [Option<TensorState>],
    node_max: &[f64],
) -> Result<TensorState, CalibrationError> {
    let st = states[t]
        .clone()
        .expect("tensors are made before they are read");
    let Some((p, acc)) = st.pending else {
        return Ok(st);
    };
    b.current = st.q;
    let name = format!("{}.rescale", graph.nodes[p].name);
    let target = range_scale(node_max[p], b.limb_bits);
    let scale = b.rescale(&name, p, acc, target, false, &st.shape)?;
    let done = TensorState {
        q: b.current,
        scale,
        pending: None,
        shape: st.shape,
    };
    states[t] = Some(done.clone());
    Ok(done)
}

/// A rescale of quantized tensor `st` by `shift` bits, as a new tensor read by node `i` only.
pub(super) fn rescaled(
    graph: &Graph,
    i: usize,
    st: &TensorState,
    shift: u32,
    b: &mut Layers,
) -> Result<TensorState, CalibrationError> {
    if shift == 0 {
        return Ok(st.clone());
    }
    b.current = st.q;
    let name = format!("{}.align", graph.nodes[i].name);
    let scale = b.rescale(&name, None, st.scale, st.scale - shift, false, &st.shape)?;
    Ok(TensorState {
        q: b.current,
        scale,
        pending: None,
        shape: st.shape.clone(),
    })
}

/// Node `i`, which joins several tensors (Add, Mul, Concat) or reads one tensor through a
/// multi-input op: its inputs are rescaled first, then aligned.
pub(super) fn join(
    graph: &Graph,
    i: usize,
    b: &mut Layers,
    states: &mut [Option<TensorState>],
    node_max: &[f64],
) -> Result<TensorState, CalibrationError> {
    let node = &graph.nodes[i];
    let l = b.limb_bits;
    let mut ins = Vec::with_capacity(node.inputs.len());
    for t in &node.inputs {
        ins.push(materialize(graph, *t, b, states, node_max)?);
    }
    let shape = node.out_shape.clone();
    let (op, scale, pending, ins) = match &node.op {
        Op::Add { coeffs } => {
            // Exact alignment: the coarser operands are multiplied up to the finest scale.
            let s = ins.iter().map(|st| st.scale).max().unwrap_or(0);
            let coeffs = coeffs
                .iter()
                .zip(&ins)
                .map(|(c, st)| quantize(*c as f64, s - st.scale))
                .collect();
            (QOp::Add(QAdd { coeffs }), s, Some((i, s)), ins)
        }
        Op::Mul => {
            // The product's scale is the sum of the factors'; its rescale may drop at most `l`
            // bits, so finer factors are rescaled first.
            let target = rescale_target(graph, i, node_max, l);
            let [a, c] = ins.as_slice() else {
                return Err(CalibrationError::Structure {
                    node: node.name.clone(),
                    reason: format!("a product of {} tensors", ins.len()),
                });
            };
            let excess = (a.scale + c.scale).saturating_sub(target + l);
            let (da, dc) = if node.inputs[0] == node.inputs[1] {
                (excess.div_ceil(2), excess.div_ceil(2))
            } else {
                let da = excess.div_ceil(2).min(a.scale);
                (da, (excess - da).min(c.scale))
            };
            let a2 = rescaled(graph, i, a, da, b)?;
            let c2 = match node.inputs[0] == node.inputs[1] {
                true => a2.clone(),
                false => rescaled(graph, i, c, dc, b)?,
            };
            let s = a2.scale + c2.scale;
            (QOp::Mul, s, Some((i, s)), vec![a2, c2])
        }
        Op::Remap(map) => {
            // Concat: every input at the coarsest scale (the finer ones rescaled down).
            let s = ins.iter().map(|st| st.scale).min().unwrap_or(0);
            let mut aligned = Vec::with_capacity(ins.len());
            for st in &ins {
                aligned.push(rescaled(graph, i, st, st.scale - s, b)?);
            }
            let map = map
                .iter()
                .map(|p| match p {
                    Pick::Input(i) => QPick::Input(*i),
                    Pick::Const(c) => QPick::Const(quantize(*c as f64, s)),
                })
                .collect();
            (QOp::Remap(QRemap::new(map)), s, None, aligned)
        }
        _ => {
            return Err(CalibrationError::Structure {
                node: node.name.clone(),
                reason: format!("{} reads {} tensors", node.op_type, node.inputs.len()),
            })
        }
    };
    let inputs = ins.iter().map(|st| st.q).collect();
    b.push_reading(&node.name, op, scale, &shape, Some(i), inputs);
    Ok(TensorState {
        q: b.current,
        scale,
        pending,
        shape,
    })
}
