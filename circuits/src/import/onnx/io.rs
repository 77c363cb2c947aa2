//! The graph's inputs and outputs. Several inputs are one concatenated input tensor (id 0) that a
//! row-free remap per input splits; several outputs are joined by a remap into one output tensor, in
//! the graph's order. A fixed batch N > 1 is noted, and every input imported as one sample.

use tract_onnx::pb;

use super::{value_shape, Importer, OnnxError, Val};
use crate::ir::{Op, Pick, Shape};

/// The graph's input as the importer binds it.
pub(super) struct BoundInputs {
    /// The input's name (the names joined by `+` for several).
    pub name: String,
    /// The (concatenated) input's shape: one input's own, or `[total]` for several.
    pub shape: Shape,
    /// Each input's shape when there are several (empty for one).
    pub parts: Vec<Shape>,
}

impl Importer<'_> {
    /// Bind the graph inputs that are not initializers as data tensors.
    pub(super) fn bind_inputs(
        &mut self,
        inputs: &[&pb::ValueInfoProto],
    ) -> Result<BoundInputs, OnnxError> {
        if inputs.is_empty() {
            return Err(self.structure("the model has no input"));
        }
        let mut shapes = inputs
            .iter()
            .map(|i| value_shape(i).map_err(|r| self.structure(format!("input '{}': {r}", i.name))))
            .collect::<Result<Vec<Shape>, _>>()?;
        // A batch of N > 1 (the leading dimension of rank >= 2 inputs, the same for all) is imported
        // as one sample, then repeated N times ([`crate::ir::Graph::batched`]), unless the caller
        // wants one sample only.
        let leads: Vec<Option<usize>> = shapes
            .iter()
            .map(|s| match s.0.as_slice() {
                [n, _, ..] => Some(*n),
                _ => None,
            })
            .collect();
        let batch = match leads.first().copied().flatten() {
            Some(n) if n > 1 && !self.opts.batch_one && leads.iter().all(|l| *l == Some(n)) => {
                Some(n)
            }
            _ => None,
        };
        for s in &mut shapes {
            if (self.opts.batch_one || batch.is_some()) && !s.0.is_empty() {
                s.0[0] = 1;
            }
        }
        self.batch = batch;
        if let [shape] = shapes.as_slice() {
            self.vals
                .insert(inputs[0].name.clone(), Val::Flow(shape.clone(), 0));
            return Ok(BoundInputs {
                name: inputs[0].name.clone(),
                shape: shape.clone(),
                parts: vec![],
            });
        }
        let mut offset = 0;
        for (input, shape) in inputs.iter().zip(&shapes) {
            let n = shape.numel();
            let picks = (offset..offset + n).map(Pick::Input).collect();
            offset += n;
            let id = self.push_node(
                &input.name,
                "Input",
                Op::Remap(picks),
                shape.clone(),
                vec![0],
            );
            self.vals
                .insert(input.name.clone(), Val::Flow(shape.clone(), id));
        }
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        Ok(BoundInputs {
            name: names.join("+"),
            shape: Shape(vec![offset]),
            parts: shapes,
        })
    }

    /// Make the output the newest tensor: `output_name` (the one output, or the input of its
    /// unproven tail) as it is, through an identity node when it is older, or several outputs
    /// joined into one.
    pub(super) fn bind_outputs(&mut self, names: &[String]) -> Result<(), OnnxError> {
        let mut flows = Vec::with_capacity(names.len());
        for name in names {
            match self.vals.get(name) {
                Some(Val::Flow(s, id)) => flows.push((s.clone(), *id)),
                _ => {
                    return Err(self.structure(format!(
                        "the output '{name}' is not computed from the input"
                    )))
                }
            }
        }
        match flows.as_slice() {
            [] => Err(self.structure("the model has no output")),
            [(_, id)] if *id == self.nodes.len() && *id > 0 => Ok(()),
            [(s, id)] => {
                let name = format!("{}.output", names[0]);
                self.push_node(&name, "Identity", Op::Reshape, s.clone(), vec![*id]);
                Ok(())
            }
            several => {
                let total: usize = several.iter().map(|(s, _)| s.numel()).sum();
                let ids = several.iter().map(|(_, id)| *id).collect();
                let picks = (0..total).map(Pick::Input).collect();
                let name = names.join("+");
                self.push_node(&name, "Outputs", Op::Remap(picks), Shape(vec![total]), ids);
                Ok(())
            }
        }
    }
}
