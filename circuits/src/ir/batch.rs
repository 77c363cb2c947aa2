//! A batch of inferences as one graph: the per-sample graph once per batch element, each copy reading
//! its sample of the batched input, and their outputs joined along the batch axis. One proof then
//! covers the whole batch, as the model was exported.

use super::{Graph, Node, Op, Pick, Shape};

impl Graph {
    /// The graph of `n` inferences of this per-sample graph (whose input and output have a leading
    /// dimension of 1) on a `[n, ...]` input. Weights are repeated per copy.
    pub fn batched(&self, n: usize) -> Graph {
        let lead = |s: &Shape| {
            let mut d = s.0.clone();
            match d.first_mut() {
                Some(first) if *first == 1 => *first = n,
                _ => d.insert(0, n),
            }
            Shape(d)
        };
        // The batched input is each input's batch in turn: sample `s` takes its slice of each.
        let parts: Vec<usize> = match self.input_parts.as_slice() {
            [] => vec![self.input_shape.numel()],
            parts => parts.iter().map(Shape::numel).collect(),
        };
        let sample_picks = |s: usize| -> Vec<Pick> {
            let mut offset = 0;
            let mut picks = Vec::new();
            for per in &parts {
                picks.extend((offset + s * per..offset + (s + 1) * per).map(Pick::Input));
                offset += n * per;
            }
            picks
        };
        let per_out = self.output_shape().numel();
        let mut nodes: Vec<Node> = Vec::with_capacity(n * (self.nodes.len() + 1) + 1);
        let mut outputs = Vec::with_capacity(n);
        for s in 0..n {
            nodes.push(Node {
                name: format!("{}[{s}]", self.input_name),
                op_type: "Batch".into(),
                op: Op::Remap(sample_picks(s)),
                out_shape: self.input_shape.clone(),
                inputs: vec![0],
            });
            // This copy's tensor ids: the sample's is `base`, node k's output `base + k + 1`.
            let base = nodes.len();
            for node in &self.nodes {
                nodes.push(Node {
                    name: format!("{}[{s}]", node.name),
                    inputs: node.inputs.iter().map(|t| base + t).collect(),
                    ..node.clone()
                });
            }
            outputs.push(nodes.len());
        }
        nodes.push(Node {
            name: format!("{}[0..{n}]", self.output_name),
            op_type: "Batch".into(),
            op: Op::Remap((0..n * per_out).map(Pick::Input).collect()),
            out_shape: lead(self.output_shape()),
            inputs: outputs,
        });
        let input_parts: Vec<Shape> = self.input_parts.iter().map(lead).collect();
        let input_shape = match input_parts.is_empty() {
            true => lead(&self.input_shape),
            false => Shape(vec![n * self.input_shape.numel()]),
        };
        Graph {
            input_name: self.input_name.clone(),
            input_shape,
            input_parts,
            output_name: self.output_name.clone(),
            nodes,
            unproven_tail: self.unproven_tail.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Dense;

    #[test]
    fn a_batch_evaluates_each_sample_through_its_own_copy() {
        let one = Graph {
            input_name: "x".into(),
            input_shape: Shape(vec![1, 2]),
            input_parts: vec![],
            output_name: "y".into(),
            nodes: vec![
                Node {
                    name: "fc".into(),
                    op_type: "Gemm".into(),
                    op: Op::Dense(Dense {
                        in_features: 2,
                        out_features: 2,
                        weight: vec![1.0, 2.0, -1.0, 0.5],
                        bias: vec![0.5, 0.0],
                    }),
                    out_shape: Shape(vec![1, 2]),
                    inputs: vec![0],
                },
                Node {
                    name: "square".into(),
                    op_type: "Mul".into(),
                    op: Op::Mul,
                    out_shape: Shape(vec![1, 2]),
                    inputs: vec![1, 1],
                },
            ],
            unproven_tail: vec![],
        };
        let three = one.batched(3);
        assert_eq!(three.input_shape, Shape(vec![3, 2]));
        assert_eq!(three.output_shape(), &Shape(vec![3, 2]));
        let x = [1.0, 2.0, -3.0, 0.0, 0.25, 4.0];
        let got = three.eval(&x).last().unwrap().clone();
        let want: Vec<f32> = x
            .chunks(2)
            .flat_map(|s| one.eval(s).last().unwrap().clone())
            .collect();
        assert_eq!(got, want);
    }
}
