//! The reference evaluator: what the quantized graph computes, in plain integer Rust (see the
//! module above: the circuit proves exactly this).

use thiserror::Error;

use super::ops::EvalCx;
use super::threshold::OrtFloat;
use super::{QConv, QLayer, QOp, QThreshold, QuantGraph};
use crate::artifacts::input::ModelInput;
use crate::ir::Shape;

/// The integer value of every tensor: `tensors[0]` is the input, `tensors[i + 1]` the output of layer i.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// One flat (row-major) tensor per step, at the scale of the layer that produced it.
    pub tensors: Vec<Vec<i64>>,
}

impl Trace {
    /// The model's output: the last tensor (the input when there are no layers).
    pub fn output(&self) -> &[i64] {
        self.tensors
            .last()
            .expect("a trace holds at least the input")
    }
}

/// Why the reference evaluator rejects an input (and so no proof of it could exist).
#[derive(Debug, Error, PartialEq)]
pub enum EvalError {
    /// The input does not have as many values as the model's input shape holds.
    #[error("input has {got} values, the model expects {expected} (shape {shape})")]
    InputLength {
        /// Values given.
        got: usize,
        /// Values the input shape holds.
        expected: usize,
        /// The model's input shape.
        shape: Shape,
    },
    /// A value the circuit range-checks falls outside the activation range: the calibration set did
    /// not cover this input.
    #[error(
        "layer '{layer}': activation {index} is {value}, outside the range [{min}, {max}) the circuit \
         can range-check; recompile with a calibration set that covers this input"
    )]
    OutOfRange {
        /// Name of the layer.
        layer: String,
        /// Flat index, in the layer's output, of the element whose check failed.
        index: usize,
        /// The value out of range.
        value: i64,
        /// Inclusive lower bound of the activation range.
        min: i64,
        /// Exclusive upper bound of the activation range.
        max: i64,
    },
    /// A float input is not finite, or reaches 2^40 once scaled by 2^input_scale.
    #[error(
        "input value {value} at index {index} is too large for the model's input scale 2^{scale}"
    )]
    InputValue {
        /// Flat index of the input value.
        index: usize,
        /// The float input value.
        value: f64,
        /// The model's input scale (fractional bits).
        scale: u32,
    },
    /// An int8 requantization's result lies too far outside its output range for the circuit's
    /// limbs (the model's own arithmetic would be out of int32 range long before).
    #[error(
        "layer '{layer}': element {index} requantizes to {value}, too far outside the int8 range \
         for the circuit"
    )]
    Requant {
        /// Name of the layer.
        layer: String,
        /// Flat index of the element.
        index: usize,
        /// The value before saturation.
        value: i64,
    },
    /// An `input_int8` file for a model quantized from float (which takes float inputs).
    #[error(
        "the input is given as input_int8, but the model was quantized from float: give float \
         values (\"input_data\")"
    )]
    Int8ForFloatModel,
    /// An int8 model's input value outside its type's range (`[-128, 127]`, or `[0, 255]` for a
    /// uint8 model).
    #[error(
        "input value {value} at index {index} is outside [{}, {}] (the model takes {} inputs)",
        range.0,
        range.1,
        if range.0 == 0 { "uint8" } else { "int8" }
    )]
    Int8Input {
        /// Flat index of the input value.
        index: usize,
        /// The value.
        value: i64,
        /// The model's input range.
        range: (i64, i64),
    },
    /// A Linear or Conv accumulator reaches [`ACC_LIMIT`] (2^62) in magnitude.
    #[error("layer '{layer}': accumulator {index} overflows 62 bits")]
    Overflow {
        /// Name of the layer.
        layer: String,
        /// Flat index of the output whose accumulator overflows.
        index: usize,
    },
}

/// Largest magnitude an accumulator may reach (keeps every circuit value far from wrapping the field).
pub const ACC_LIMIT: i128 = 1 << 62;

impl QuantGraph {
    /// Quantize a float input at the graph's input scale (an int8 model: with its input's own scale
    /// and zero point, as TFLite's QUANTIZE does), checking its length and magnitude.
    pub fn quantize_input(&self, input: &[f64]) -> Result<Vec<i64>, EvalError> {
        if input.len() != self.input_len() {
            return Err(EvalError::InputLength {
                got: input.len(),
                expected: self.input_len(),
                shape: self.input_shape.clone(),
            });
        }
        if let Some(io) = &self.int8 {
            return input
                .iter()
                .enumerate()
                .map(|(index, &value)| match value.is_finite() {
                    true => Ok(io.quantize(value)),
                    false => Err(EvalError::InputValue {
                        index,
                        value,
                        scale: 0,
                    }),
                })
                .collect();
        }
        input
            .iter()
            .enumerate()
            .map(|(index, &value)| {
                let scaled = value * (1u64 << self.input_scale) as f64;
                if !scaled.is_finite() || scaled.abs() >= (1u64 << 40) as f64 {
                    return Err(EvalError::InputValue {
                        index,
                        value,
                        scale: self.input_scale,
                    });
                }
                Ok(scaled.round() as i64)
            })
            .collect()
    }

    /// The integers an input file stands for: floats quantized ([`Self::quantize_input`]), or an
    /// int8 model's own values (refused by a model quantized from float).
    pub fn input_values(&self, input: &ModelInput) -> Result<Vec<i64>, EvalError> {
        match input {
            ModelInput::Floats(x) => self.quantize_input(x),
            ModelInput::Int8(_) if self.int8.is_none() => Err(EvalError::Int8ForFloatModel),
            ModelInput::Int8(x) if x.len() != self.input_len() => Err(EvalError::InputLength {
                got: x.len(),
                expected: self.input_len(),
                shape: self.input_shape.clone(),
            }),
            // A uint8 model's bytes are held as int8.
            ModelInput::Int8(x) => {
                let offset = self.int8.map_or(0, |io| io.byte_offset());
                let range = (-128 + offset, 127 + offset);
                x.iter()
                    .enumerate()
                    .map(|(index, &v)| match (range.0..=range.1).contains(&v) {
                        true => Ok(v - offset),
                        false => Err(EvalError::Int8Input {
                            index,
                            value: v,
                            range,
                        }),
                    })
                    .collect()
            }
        }
    }

    /// Evaluate the graph on a quantized input.
    pub fn eval(&self, input: &[i64]) -> Result<Trace, EvalError> {
        if input.len() != self.input_len() {
            return Err(EvalError::InputLength {
                got: input.len(),
                expected: self.input_len(),
                shape: self.input_shape.clone(),
            });
        }
        if self.int8.is_some() {
            if let Some((index, &value)) = input
                .iter()
                .enumerate()
                .find(|(_, v)| !(-128..=127).contains(*v))
            {
                return Err(EvalError::Int8Input {
                    index,
                    value,
                    range: (-128, 127),
                });
            }
        }
        let mut trace = Trace {
            tensors: vec![Vec::new(); self.layers.len() + 1],
        };
        trace.tensors[0] = input.to_vec();
        self.eval_from(&mut trace, 0)?;
        Ok(trace)
    }

    /// Re-evaluate layers `first..` of `trace` from its tensors (those before `first + 1` kept as
    /// they are): what the graph makes of a changed intermediate tensor.
    pub fn eval_from(&self, trace: &mut Trace, first: usize) -> Result<(), EvalError> {
        for (i, layer) in self.layers.iter().enumerate().skip(first) {
            let x: Vec<i64> = self
                .layer_inputs(i)
                .iter()
                .flat_map(|t| &trace.tensors[*t])
                .copied()
                .collect();
            let mut y = self.eval_layer(layer, &x)?;
            if let QOp::Threshold(QThreshold { ort: Some(f), .. }) = &layer.op {
                y = self.float_choices(i, f, &x, &trace.tensors)?;
            }
            trace.tensors[i + 1] = y;
        }
        Ok(())
    }

    /// onnxruntime's outputs where layer `i` maps the sums (`acc`) of the layer before: its float32
    /// kernel over that layer's inputs (an average pool's windows, an Add's two operands), each
    /// output the map's own or an alternative the map allows.
    fn float_choices(
        &self,
        i: usize,
        kernel: &OrtFloat,
        acc: &[i64],
        tensors: &[Vec<i64>],
    ) -> Result<Vec<i64>, EvalError> {
        let layer = &self.layers[i];
        let bad = |index: usize, value: i64| EvalError::OutOfRange {
            layer: layer.name.clone(),
            index,
            value,
            min: i64::MIN,
            max: i64::MAX,
        };
        let before = i.checked_sub(1).ok_or_else(|| bad(0, 0))?;
        let inputs = self.layer_inputs(before);
        let pick = |o: usize| -> Result<i64, EvalError> {
            match (kernel, &self.layers[before].op) {
                (OrtFloat::AveragePool(pool), QOp::Conv(QConv { geom, .. })) => {
                    let src = &tensors[inputs[0]];
                    let plane = geom.out_h * geom.out_w;
                    let window: Vec<i64> = geom
                        .patch(o / plane, (o % plane) / geom.out_w, o % geom.out_w)
                        .iter()
                        .map(|(k, _)| src[*k])
                        .collect();
                    Ok(pool.output(&window))
                }
                (OrtFloat::Add(add), QOp::Add(_)) if inputs.len() == 2 => {
                    Ok(add.output(tensors[inputs[0]][o], tensors[inputs[1]][o]))
                }
                _ => Err(bad(o, 0)),
            }
        };
        acc.iter()
            .enumerate()
            .map(|(o, &a)| {
                let y = pick(o)?;
                let map = layer.op.threshold_map(o).expect("a threshold");
                match map.allows(a, y) {
                    true => Ok(y),
                    false => Err(bad(o, y)),
                }
            })
            .collect()
    }

    fn eval_layer(&self, layer: &QLayer, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        let cx = EvalCx { graph: self, layer };
        layer.op.rules().eval(&cx, x)
    }
}
