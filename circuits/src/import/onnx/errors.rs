//! What the importer supports, and why it refuses a file: the supported-op list, and the errors
//! (every unsupported node reported at once, grouped by op).

use thiserror::Error;

/// ONNX ops this importer understands.
pub const SUPPORTED_OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Neg",
    "Div",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Elu",
    "Selu",
    "Softplus",
    "Clip",
    "HardSigmoid",
    "Pad",
    "Transpose",
    "LeakyRelu",
    "PRelu",
    "Conv",
    "ConvTranspose",
    "AveragePool",
    "GlobalAveragePool",
    "MaxPool",
    "BatchNormalization",
    "Flatten",
    "Reshape",
    "Identity",
    "Dropout",
    "Constant",
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Slice",
    "Split",
    "ReduceMean",
    "ReduceSum",
    "HardSwish",
    "Cast",
    "Softmax",
    "LogSoftmax",
    "ArgMax",
];

/// Ops that may end a classifier: they do not change its top class, so the circuit proves the scores
/// before them, and the model's report says so.
pub const UNPROVEN_TAIL_OPS: &[&str] = &["Softmax", "LogSoftmax", "ArgMax"];

/// A node the importer cannot handle (an op or domain it does not support).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedNode {
    /// The node's name.
    pub name: String,
    /// Its op type.
    pub op_type: String,
}

/// Why an ONNX file could not be imported.
#[derive(Debug, Error)]
pub enum OnnxError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Path of the file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not decode as an ONNX protobuf, or holds no graph.
    #[error("{path} is not an ONNX model: {reason}")]
    NotOnnx {
        /// Path of the file.
        path: String,
        /// What the decoder reported.
        reason: String,
    },
    /// Nodes use ops outside [`SUPPORTED_OPS`] or the default domain (all of them are listed).
    #[error("{path}: {} unsupported node(s): {}. Supported ops: {}", .nodes.len(), list_nodes(.nodes), supported_list())]
    Unsupported {
        /// Path of the file.
        path: String,
        /// Every unsupported node.
        nodes: Vec<UnsupportedNode>,
    },
    /// A supported node could not be interpreted (its attributes, inputs or shapes).
    #[error("{path}: node '{node}' ({op}): {reason}")]
    Node {
        /// Path of the file.
        path: String,
        /// The node's name.
        node: String,
        /// The node's op type.
        op: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The graph as a whole is not a model zkinfer proves: not exactly one input and one output,
    /// the output not at the end of the chain from the input, nothing to prove, or an unreadable
    /// initializer or input shape.
    #[error("{path}: {reason}")]
    Structure {
        /// Path of the file.
        path: String,
        /// What is wrong with the graph.
        reason: String,
    },
}

/// Unsupported nodes grouped by op type, in order of first appearance: each op with its count and
/// its first node (an int8 model can have dozens of nodes of a few types).
pub(super) fn list_nodes(nodes: &[UnsupportedNode]) -> String {
    let mut groups: Vec<(&str, usize, &str)> = Vec::new();
    for n in nodes {
        match groups.iter_mut().find(|(op, _, _)| *op == n.op_type) {
            Some((_, count, _)) => *count += 1,
            None => groups.push((&n.op_type, 1, &n.name)),
        }
    }
    let items: Vec<String> = groups
        .iter()
        .map(|(op, count, first)| match count {
            1 => format!("{op} (node '{first}')"),
            _ => format!("{op} x{count} (first node '{first}')"),
        })
        .collect();
    items.join(", ")
}

/// Ops supported only with a constant operand (a scalar or per-channel constant, folded into the
/// layer before), and ops supported on constants only (folded at import). Add, Sub and Mul take two
/// data tensors too; Gather, Slice and Concat take data tensors with constant indices.
const CONSTANT_OPERAND_OPS: &[&str] = &["Div"];
const CONSTANT_ONLY_OPS: &[&str] = &["Constant", "Shape", "Cast"];

/// The supported-op list as the unsupported-node message gives it: what runs on data, then what
/// needs a constant.
fn supported_list() -> String {
    let on_data: Vec<&str> = SUPPORTED_OPS
        .iter()
        .copied()
        .filter(|op| !CONSTANT_OPERAND_OPS.contains(op) && !CONSTANT_ONLY_OPS.contains(op))
        .collect();
    format!(
        "{}; with a constant operand only: {}; on constants only: {}",
        on_data.join(", "),
        CONSTANT_OPERAND_OPS.join(", "),
        CONSTANT_ONLY_OPS.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_nodes_are_grouped_by_op_with_counts_and_first_node() {
        let node = |name: &str, op: &str| UnsupportedNode {
            name: name.into(),
            op_type: op.into(),
        };
        let nodes = [
            node("q0", "QuantizeLinear"),
            node("d0", "DequantizeLinear"),
            node("q1", "QuantizeLinear"),
            node("s", "Softsign"),
            node("d1", "DequantizeLinear"),
            node("q2", "QuantizeLinear"),
        ];
        assert_eq!(
            list_nodes(&nodes),
            "QuantizeLinear x3 (first node 'q0'), DequantizeLinear x2 (first node 'd0'), \
             Softsign (node 's')"
        );
        let e = OnnxError::Unsupported {
            path: "m.onnx".into(),
            nodes: nodes.to_vec(),
        }
        .to_string();
        assert!(
            e.starts_with("m.onnx: 6 unsupported node(s): QuantizeLinear x3"),
            "{e}"
        );
        assert!(e.contains("with a constant operand only: Div;"), "{e}");
        let data_ops = e.split("; with a constant").next().unwrap();
        assert!(
            !data_ops.contains("Div,") && data_ops.contains("Add,") && data_ops.contains("Concat,"),
            "{e}"
        );
        for op in CONSTANT_OPERAND_OPS.iter().chain(CONSTANT_ONLY_OPS) {
            assert!(SUPPORTED_OPS.contains(op), "{op}");
        }
    }
}
