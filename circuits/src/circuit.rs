//! The model circuit: the chips laid out for one quantized graph.
//!
//! One region holds every row in layer order (dot-product rows, then the layer's rescale rows, …), so
//! row counts follow [`crate::layout`] exactly. Public inputs and outputs are the instance column:
//! rows `[0, n_in)` hold the input, rows `[n_in, n_in + n_out)` the output.
//!
//! `Circuit::configure` takes no runtime parameters in halo2_proofs 0.4, so the column count reaches it
//! through [`with_shape`], a scoped thread-local set around keygen, proving and MockProver runs.

use std::cell::Cell as StdCell;

use halo2_proofs::{
    circuit::{Cell, Layouter, Region, SimpleFloorPlanner, Value},
    pasta::Fp,
    plonk::{Circuit, Column, ConstraintSystem, Error, Instance},
};
use serde::{Deserialize, Serialize};

use crate::chips::{
    dot::DotConfig,
    rescale::{RescaleConfig, RescaleParams},
    table::RangeTable,
};
use crate::field::fp;
use crate::quant::{QOp, QuantGraph, Trace};

/// The shape of the circuit's columns: what `configure` needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitShape {
    /// Multiply-accumulates per dot-product row (advice input columns).
    pub width: usize,
    /// Bits per limb of the range table.
    pub limb_bits: u32,
}

impl CircuitShape {
    /// Lookup arguments of the circuit (rescale: low limb, remainder, high limb with sign).
    pub const LOOKUPS: usize = 3;

    /// Advice columns: `width` inputs and the accumulator.
    pub fn advice_columns(&self) -> usize {
        self.width + 1
    }

    /// Fixed columns: weights, bias, chain, two table columns and two selectors.
    pub fn fixed_columns(&self) -> usize {
        self.width + 6
    }
}

/// Rows before the first layer (see `assign_model`).
pub const SPACER_ROWS: usize = 1;

/// The fewest input columns a row must have (the rescale row uses the accumulator and five more).
pub const MIN_WIDTH: usize = 5;

thread_local! {
    static SHAPE: StdCell<Option<CircuitShape>> = const { StdCell::new(None) };
}

/// Run `f` with `shape` as the shape every `InferenceCircuit::configure` on this thread uses.
pub fn with_shape<R>(shape: CircuitShape, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<CircuitShape>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SHAPE.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SHAPE.with(|s| s.replace(Some(shape))));
    f()
}

#[derive(Clone, Debug)]
pub struct ModelConfig {
    pub dot: DotConfig,
    pub rescale: RescaleConfig,
    pub table: RangeTable,
    pub instance: Column<Instance>,
}

impl ModelConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fp>, shape: CircuitShape) -> Self {
        assert!(shape.width >= MIN_WIDTH, "width below {MIN_WIDTH}");
        let x: Vec<_> = (0..shape.width).map(|_| meta.advice_column()).collect();
        let acc = meta.advice_column();
        let w: Vec<_> = (0..shape.width).map(|_| meta.fixed_column()).collect();
        let bias = meta.fixed_column();
        let chain = meta.fixed_column();
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        for col in x.iter().chain([&acc]) {
            meta.enable_equality(*col);
        }
        let table = RangeTable::configure(meta, shape.limb_bits);
        let dot = DotConfig::configure(meta, x.clone(), acc, w.clone(), bias, chain);
        // The rescale row reuses the dot row's columns: the accumulator column holds its input (so a
        // dot row that follows always finds `acc[row - 1]` assigned), then five input columns and three
        // weight columns.
        let rescale = RescaleConfig::configure(
            meta,
            [acc, x[0], x[1], x[2], x[3], x[4]],
            [w[0], w[1], w[2]],
            &table,
        );
        ModelConfig {
            dot,
            rescale,
            table,
            instance,
        }
    }
}

/// Where a tensor element lives: a public input (instance row) or an assigned cell.
#[derive(Clone, Copy, Debug)]
enum Source {
    Instance(usize),
    Cell(Cell),
}

/// The circuit of one inference of `graph`; `trace` is the witness (absent for key generation).
pub struct InferenceCircuit<'a> {
    pub graph: &'a QuantGraph,
    pub trace: Option<&'a Trace>,
}

impl<'a> InferenceCircuit<'a> {
    pub fn new(graph: &'a QuantGraph, trace: Option<&'a Trace>) -> Self {
        InferenceCircuit { graph, trace }
    }

    /// Assign every row; returns the cells that must equal instance rows.
    fn assign_model(
        &self,
        config: &ModelConfig,
        region: &mut Region<'_, Fp>,
    ) -> Result<Vec<(Cell, usize)>, Error> {
        let mut links = Vec::new();
        let mut bind = |region: &mut Region<'_, Fp>, cell: Cell, src: Source| match src {
            Source::Instance(row) => {
                links.push((cell, row));
                Ok::<_, Error>(())
            }
            Source::Cell(c) => region.constrain_equal(cell, c),
        };
        let mut current: Vec<Source> = (0..self.graph.input_len()).map(Source::Instance).collect();
        // Row 0 is a spacer: the first dot row's `acc[row - 1]` query must not wrap into blinding rows.
        region.assign_advice(|| "spacer", config.dot.acc, 0, || Value::known(Fp::zero()))?;
        let mut row = SPACER_ROWS;
        for (li, layer) in self.graph.layers.iter().enumerate() {
            let x = self.trace.map(|t| t.tensors[li].as_slice());
            let mut next = Vec::with_capacity(layer.out_shape.numel());
            match &layer.op {
                QOp::Linear {
                    in_features,
                    out_features,
                    weight,
                    bias,
                    ..
                } => {
                    for o in 0..*out_features {
                        let ws = &weight[o * in_features..(o + 1) * in_features];
                        let (inputs, acc) =
                            config.dot.assign_neuron(region, row, x, ws, bias[o])?;
                        for (cell, src) in inputs.iter().zip(&current) {
                            bind(region, cell.cell(), *src)?;
                        }
                        row += DotConfig::rows_for(config.dot.width(), *in_features);
                        next.push(Source::Cell(acc.cell()));
                    }
                }
                QOp::Rescale { shift, relu } => {
                    let p = RescaleParams {
                        shift: *shift,
                        relu: *relu,
                    };
                    for (j, src) in current.iter().enumerate() {
                        let acc = x.map(|x| x[j]);
                        let (acc_cell, y) = config.rescale.assign(region, row, acc, p)?;
                        bind(region, acc_cell.cell(), *src)?;
                        row += 1;
                        next.push(Source::Cell(y.cell()));
                    }
                }
            }
            current = next;
        }
        let n_in = self.graph.input_len();
        for (j, src) in current.iter().enumerate() {
            match src {
                Source::Cell(c) => links.push((*c, n_in + j)),
                Source::Instance(_) => return Err(Error::Synthesis),
            }
        }
        Ok(links)
    }
}

impl Circuit<Fp> for InferenceCircuit<'_> {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        InferenceCircuit {
            graph: self.graph,
            trace: None,
        }
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> ModelConfig {
        let shape = SHAPE
            .with(|s| s.get())
            .expect("InferenceCircuit::configure needs circuits::with_shape around it");
        ModelConfig::configure(meta, shape)
    }

    fn synthesize(
        &self,
        config: ModelConfig,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), Error> {
        if self.graph.limb_bits != config.table.limb_bits {
            return Err(Error::Synthesis);
        }
        config.table.load(&mut layouter)?;
        let links = layouter.assign_region(
            || "model",
            |mut region| self.assign_model(&config, &mut region),
        )?;
        for (cell, row) in links {
            layouter.constrain_instance(cell, config.instance, row)?;
        }
        Ok(())
    }
}

/// The instance column of one inference: the quantized input, then the quantized output.
pub fn public_inputs(input: &[i64], output: &[i64]) -> Vec<Fp> {
    input.iter().chain(output).map(|v| fp(*v)).collect()
}
