//! The model circuit: the chips laid out for one quantized graph.
//!
//! One region holds every row: for each block of each [`Stage`], its multiply-accumulate rows, then one
//! link row per output (rescale or pass). Row counts follow [`crate::plan`] exactly. Public inputs
//! and outputs are the instance column: rows `[0, n_in)` hold the input, `[n_in, n_in + n_out)` the
//! output.
//!
//! Equality (copy constraints) is enabled on the `P` input columns and the instance column only: the
//! accumulators leave their rows by rotation, which keeps the permutation, and so the verifying key,
//! small.
//!
//! `Circuit::configure` takes no runtime parameters in halo2_proofs 0.4, so the column counts reach it
//! through [`with_shape`], a scoped thread-local set around keygen, proving and MockProver runs.

pub mod chips;
mod config;
pub mod failure;
mod hidden;
mod pack_rows;
mod shape;
mod table_sum_rows;

pub use config::ModelConfig;
pub use shape::{with_shape, CircuitShape, MAX_INSTANCE_COLUMNS, MIN_WIDTH, SPACER_ROWS};

use halo2_proofs::{
    circuit::{Cell, Layouter, Region, SimpleFloorPlanner, Value},
    halo2curves::bn256::Fr,
    plonk::{Circuit, ConstraintSystem, Error},
};

use crate::artifacts::model_file::Visibilities;
use crate::artifacts::visibility::InputVisibility;
use crate::circuit::chips::mac::MacConfig;
use crate::circuit::chips::mac::{BlockCells, BlockWeights};
use crate::circuit::chips::poseidon::HashRows;
use crate::circuit::chips::rescale::RescaleWitness;
use crate::circuit::chips::threshold::{map_domains, table_of, TableBanks};
use crate::circuit::chips::FpCell;
use crate::circuit::failure::{fail, SynthesisFailure};
use crate::circuit::hidden::HiddenParams;
use crate::circuit::pack_rows::assign_pack_rows;
use crate::circuit::table_sum_rows::{assign_table_sum, zero_table_sum_spares, FunctionValues};
pub use crate::disclosure::instance::{
    instance_column, instance_with_weights, public_inputs, InstanceLayout, TensorClaim,
};
use crate::disclosure::{Disclosure, HashedTensor};
use crate::field::fp;
use crate::lower::{lower, Stage, Tail};
use crate::qgraph::{QuantGraph, Trace};

/// Where a tensor element lives: a public input (instance row) or an assigned cell.
#[derive(Clone, Debug)]
enum Source {
    Instance(usize),
    Cell(FpCell),
}

/// The circuit of one inference of `graph`; `trace` is the witness (absent for key generation).
pub struct InferenceCircuit<'a> {
    /// The quantized model the circuit proves an inference of.
    pub graph: &'a QuantGraph,
    /// Which tensors are public, hashed or private, and how they are hashed.
    pub disclosure: Disclosure,
    /// Every tensor's value (the witness): `None` for key generation.
    pub trace: Option<&'a Trace>,
    /// The salt of a salted input's hash (with the trace).
    pub salt: Option<Fr>,
}

/// The cells [`InferenceCircuit::assign_model`] leaves for the instance and the hashes.
struct ModelCells {
    /// Cells equal to instance rows (the public input's uses).
    links: Vec<(Cell, usize)>,
    /// Packed input elements (a hashed input).
    packed_input: Vec<FpCell>,
    outputs: Vec<FpCell>,
    /// Hashed weights: the packed weight elements, then one cell per bias (in parameter order).
    weight_elements: Vec<FpCell>,
}

impl<'a> InferenceCircuit<'a> {
    /// A circuit with every tensor public.
    pub fn new(graph: &'a QuantGraph, trace: Option<&'a Trace>) -> Self {
        Self::with_visibility(graph, Visibilities::default(), trace)
    }

    /// A circuit with the given visibility of input, weights and output.
    pub fn with_visibility(
        graph: &'a QuantGraph,
        visibility: Visibilities,
        trace: Option<&'a Trace>,
    ) -> Self {
        InferenceCircuit {
            graph,
            disclosure: Disclosure::new(graph, visibility),
            trace,
            salt: None,
        }
    }

    /// The circuit with the salt of its salted input's hash.
    pub fn with_salt(mut self, salt: Fr) -> Self {
        self.salt = Some(salt);
        self
    }

    /// The input's pack rows (a hashed or private input); see [`assign_pack_rows`].
    fn assign_input_rows(
        &self,
        config: &ModelConfig,
        region: &mut Region<'_, Fr>,
        start: usize,
    ) -> Result<(Vec<Source>, Vec<FpCell>), Error> {
        let values: Option<&[i64]> = self.trace.map(|t| t.tensors[0].as_slice());
        let hashed = self.disclosure.visibility.input.is_hashed();
        let n = self.graph.input_len();
        let (cells, packed) = assign_pack_rows(config, region, start, n, values, hashed)?;
        Ok((cells.into_iter().map(Source::Cell).collect(), packed))
    }

    /// Assign every row; returns the cells that must equal instance rows or be hashed.
    fn assign_model(
        &self,
        config: &ModelConfig,
        stages: &[Stage],
        region: &mut Region<'_, Fr>,
    ) -> Result<ModelCells, Error> {
        let mut links = Vec::new();
        // Row 0 is a spacer: the first row's `acc[row - 1]` must not wrap into the blinding rows.
        for col in config.mac.acc.iter().chain(&config.mac.x) {
            FpCell::assign(region, *col, 0, Value::known(Fr::zero()));
        }
        let mut row = SPACER_ROWS;
        let (input, packed_input) = match self.disclosure.visibility.input {
            InputVisibility::PublicPacked => {
                // Table pack rows: their packed elements are the input's instance rows.
                let pack = config
                    .input_pack
                    .as_ref()
                    .ok_or_else(|| fail(SynthesisFailure::MissingChip("table pack")))?;
                let n = self.graph.input_len();
                let values = self.trace.map(|t| t.tensors[0].as_slice());
                let (cells, packed) = pack.assign(region, row, n, values)?;
                links.extend(packed.iter().enumerate().map(|(j, c)| (c.cell(), j)));
                row += n;
                (cells.into_iter().map(Source::Cell).collect(), vec![])
            }
            InputVisibility::Public => (
                (0..self.graph.input_len()).map(Source::Instance).collect(),
                vec![],
            ),
            _ => {
                let cells = self.assign_input_rows(config, region, row)?;
                row += self.graph.input_len();
                cells
            }
        };
        // Hashed weights: one pack row per weight (the canonical cell every use copies), and the
        // first use of each bias as its canonical cell.
        let hidden = config.mac.hidden.is_some();
        let mut params = HiddenParams::default();
        if hidden {
            let weights = self.graph.params().weights;
            let values = self.trace.map(|_| weights.as_slice());
            let (cells, packed) =
                assign_pack_rows(config, region, row, weights.len(), values, true)?;
            row += weights.len();
            params = HiddenParams {
                weights: cells,
                packed,
                biases: vec![None; self.graph.param_counts().1],
                zero: None,
            };
        }
        let functions = FunctionValues::new(&self.graph.function_table());
        let threshold_maps = self.graph.threshold_maps();
        let (threshold_domains, threshold_banks) = match &config.threshold {
            Some(t) => map_domains(self.graph, t.limbs)
                .zip(TableBanks::of_graph(self.graph, t.limbs, t.banks()))
                .ok_or_else(|| fail(SynthesisFailure::UnboundedThresholds))?,
            None => (Vec::new(), TableBanks::split(&[], 1)),
        };
        // The cells of every tensor a stage has made (by tensor id; 0 is the input).
        let mut tensors: Vec<Option<Vec<Source>>> = vec![None; self.graph.layers.len() + 1];
        tensors[0] = Some(input);
        for stage in stages {
            // The stage's workspace: its input tensors (values from the trace), then block outputs.
            let mut src: Vec<Option<Source>> = Vec::with_capacity(stage.slots);
            let mut val: Vec<Option<i64>> = Vec::with_capacity(stage.slots);
            for t in &stage.inputs {
                let cells = tensors[*t]
                    .as_ref()
                    .ok_or_else(|| fail(SynthesisFailure::MissingTensor(*t)))?;
                src.extend(cells.iter().cloned().map(Some));
                match self.trace {
                    Some(trace) => val.extend(trace.tensors[*t].iter().copied().map(Some)),
                    None => val.extend(std::iter::repeat_n(None, cells.len())),
                }
            }
            if src.len() != stage.n_in {
                return Err(fail(SynthesisFailure::InputCount {
                    stage: stage.name.clone(),
                    expected: stage.n_in,
                    found: src.len(),
                }));
            }
            src.resize(stage.slots, None);
            val.resize(stage.slots, None);
            // The output index of each output slot: a threshold row takes its value from the
            // trace (the prover's pick among a map's alternatives).
            let thresholds = stage
                .blocks
                .iter()
                .any(|b| matches!(b.tail, Tail::Threshold(_)));
            let out_index: std::collections::HashMap<usize, usize> = match thresholds {
                true => stage.out.iter().enumerate().map(|(o, s)| (*s, o)).collect(),
                false => Default::default(),
            };
            for block in &stage.blocks {
                let xs: Option<Vec<i64>> = block.inputs.iter().map(|i| val[*i]).collect();
                let private = hidden && block.params.is_some();
                let kind = match private {
                    true => BlockWeights::Hidden {
                        known: self.trace.is_some(),
                    },
                    false => BlockWeights::Fixed,
                };
                let (cells, sums) = match (block.table_sum, block.product, &config.product) {
                    (Some(tags), _, _) => {
                        let tags = (tags, block.product);
                        assign_table_sum(config, region, row, tags, xs.as_deref(), &functions)?
                    }
                    (None, false, _) => config.mac.assign_block(
                        region,
                        row,
                        block.inputs.len(),
                        xs.as_deref(),
                        &block.weights,
                        kind,
                    )?,
                    (None, true, Some(product)) => {
                        let factors = match xs.as_deref() {
                            Some(&[a, b]) => Some((a, b)),
                            Some(_) => return Err(fail(SynthesisFailure::ProductArity)),
                            None => None,
                        };
                        let (inputs, p) = product.assign(region, &config.mac, row, factors)?;
                        let cells = BlockCells {
                            inputs,
                            ..Default::default()
                        };
                        (cells, vec![p])
                    }
                    (None, true, None) => {
                        return Err(fail(SynthesisFailure::MissingChip("product")))
                    }
                };
                if let (true, Some(bp)) = (private, &block.params) {
                    params.bind_weights(region, &cells, bp)?;
                }
                let bias_value = |j: usize| {
                    let known = self.trace.map(|_| fp(block.bias[j]));
                    private.then(|| known.map(Value::known).unwrap_or(Value::unknown()))
                };
                // A rescale or function row's link: its fixed cells, and its bias (bound when private).
                let enable_link = |region: &mut Region<'_, Fr>,
                                   params: &mut HiddenParams,
                                   row: usize,
                                   j: usize| {
                    let b =
                        config
                            .link
                            .enable(region, row, j, false, block.bias[j], bias_value(j))?;
                    params.bind_bias(region, b, block.params.as_ref(), j)
                };
                for (cell, i) in cells.inputs.iter().zip(&block.inputs) {
                    match src[*i]
                        .as_ref()
                        .ok_or_else(|| fail(SynthesisFailure::UnsetSlot(stage.name.clone())))?
                    {
                        Source::Instance(r) => links.push((cell.cell(), *r)),
                        Source::Cell(c) => region.constrain_equal(cell.cell(), c.cell()),
                    }
                }
                // A table sum's tail is in its own row.
                if block.table_sum.is_none() {
                    row += MacConfig::rows_for(config.mac.inputs_per_row(), block.inputs.len());
                }
                for (j, slot) in block.outputs.iter().enumerate() {
                    let sum = sums[j].map(|s| s + block.bias[j]);
                    let (cell, value) = match &block.tail {
                        _ if block.table_sum.is_some()
                            && !matches!(block.tail, Tail::Threshold(_)) =>
                        {
                            return Err(fail(SynthesisFailure::MissingChip(
                                "table-sum rows without a threshold",
                            )))
                        }
                        Tail::Pass => {
                            let v = sum.map(|s| Value::known(fp(s))).unwrap_or(Value::unknown());
                            let (cell, b) = config.link.assign_pass_with(
                                region,
                                row,
                                j,
                                block.bias[j],
                                bias_value(j),
                                v,
                            )?;
                            params.bind_bias(region, b, block.params.as_ref(), j)?;
                            (cell, sum)
                        }
                        Tail::Rescale(rescales) => {
                            let p = rescales[j];
                            enable_link(region, &mut params, row, j)?;
                            for col in &config.mac.acc[5..] {
                                FpCell::assign(region, *col, row, Value::known(Fr::zero()));
                            }
                            let rescale = config
                                .rescale
                                .as_ref()
                                .ok_or_else(|| fail(SynthesisFailure::MissingChip("rescale")))?;
                            let y = rescale.assign(region, row, sum, p)?.1;
                            (
                                y,
                                sum.map(|s| RescaleWitness::compute(s, p, rescale.limb_bits).y),
                            )
                        }
                        Tail::Requant(steps) => {
                            let rq = config
                                .requant
                                .as_ref()
                                .ok_or_else(|| fail(SynthesisFailure::MissingChip("requant")))?;
                            let step = &steps[j];
                            enable_link(region, &mut params, row, j)?;
                            let y = rq.assign(region, row, sum, step)?.1;
                            (y, sum.and_then(|s| step.apply(s).ok()))
                        }
                        Tail::Threshold(tags) => {
                            let th = config
                                .threshold
                                .as_ref()
                                .ok_or_else(|| fail(SynthesisFailure::MissingChip("threshold")))?;
                            let tag = tags[j];
                            let (map, domain) = threshold_maps
                                .get((tag - 1) as usize)
                                .zip(threshold_domains.get((tag - 1) as usize))
                                .ok_or_else(|| fail(SynthesisFailure::MissingChip("threshold")))?;
                            let bank = threshold_banks
                                .of_tag(tag)
                                .ok_or_else(|| fail(SynthesisFailure::MissingChip("threshold")))?;
                            let picked = self.trace.and_then(|t| {
                                let o = out_index.get(slot)?;
                                let y = t.tensors.get(stage.output)?.get(*o).copied()?;
                                // A value the map does not allow is left to fail its copy.
                                sum.is_some_and(|s| map.allows(s, y)).then_some(y)
                            });
                            match block.table_sum {
                                None => enable_link(region, &mut params, row, j)?,
                                Some(_) => zero_table_sum_spares(config, region, row),
                            }
                            let y = th
                                .assign(region, row, (sum, picked), (tag, bank), (map, *domain))?
                                .1;
                            let value = match picked {
                                Some(y) => Some(y),
                                None => sum.and_then(|s| map.apply(s)),
                            };
                            (y, value)
                        }
                        Tail::Function(tag) => {
                            let f = config
                                .function
                                .as_ref()
                                .ok_or_else(|| fail(SynthesisFailure::MissingChip("function")))?;
                            enable_link(region, &mut params, row, j)?;
                            let x = sum.map(|s| Value::known(fp(s))).unwrap_or(Value::unknown());
                            FpCell::assign(region, config.mac.acc[0], row, x);
                            for col in &config.mac.acc[1..] {
                                FpCell::assign(region, *col, row, Value::known(Fr::zero()));
                            }
                            let y = sum.map(|x| functions.get(*tag, x)).transpose()?;
                            let yv = y.map(|y| Value::known(fp(y))).unwrap_or(Value::unknown());
                            (f.assign(region, row, *tag, yv)?, y)
                        }
                    };
                    src[*slot] = Some(Source::Cell(cell));
                    val[*slot] = value;
                    row += 1;
                }
            }
            let out = stage
                .out
                .iter()
                .map(|s| {
                    src[*s]
                        .clone()
                        .ok_or_else(|| fail(SynthesisFailure::UnsetSlot(stage.name.clone())))
                })
                .collect::<Result<_, _>>()?;
            tensors[stage.output] = Some(out);
        }
        let last = tensors
            .pop()
            .flatten()
            .ok_or_else(|| fail(SynthesisFailure::MissingTensor(self.graph.layers.len())))?;
        let outputs = last
            .into_iter()
            .map(|s| match s {
                Source::Cell(c) => Ok(c),
                Source::Instance(_) => Err(fail(SynthesisFailure::OutputNotCell)),
            })
            .collect::<Result<_, _>>()?;
        let mut weight_elements = params.packed;
        for b in params.biases {
            weight_elements.push(b.ok_or_else(|| fail(SynthesisFailure::MissingParameter(0)))?);
        }
        Ok(ModelCells {
            links,
            packed_input,
            outputs,
            weight_elements,
        })
    }

    /// The hash chains of hashed tensors (input, weights, output), in one region of the Poseidon
    /// columns; returns each hash's cell and its instance row.
    fn assign_hashes(
        &self,
        config: &ModelConfig,
        layouter: &mut impl Layouter<Fr>,
        cells: &ModelCells,
    ) -> Result<Vec<(FpCell, usize)>, Error> {
        let disclosure = &self.disclosure;
        if !disclosure.hashing() {
            return Ok(vec![]);
        }
        let (_, hash) = config
            .hashing
            .as_ref()
            .ok_or_else(|| fail(SynthesisFailure::MissingChip("hash")))?;
        let salted = disclosure.chains.iter().any(|c| c.salted);
        if salted && self.trace.is_some() && self.salt.is_none() {
            return Err(fail(SynthesisFailure::MissingSalt));
        }
        layouter.assign_region(
            || "hashes",
            |mut region| {
                let mut rows = HashRows::new(hash.chips());
                let mut out = Vec::new();
                for chain in &disclosure.chains {
                    let elements = match chain.tensor {
                        HashedTensor::Input if chain.salted => {
                            let salt = self.salt.map_or(Value::unknown(), Value::known);
                            let salt = hash.assign_private(&mut region, &mut rows, salt);
                            std::iter::once(salt)
                                .chain(cells.packed_input.iter().copied())
                                .collect()
                        }
                        HashedTensor::Input => cells.packed_input.clone(),
                        HashedTensor::Weights => cells.weight_elements.clone(),
                        HashedTensor::Output => cells.outputs.clone(),
                    };
                    let h = hash.chain(&mut region, &mut rows, chain.prefix, &elements)?;
                    out.push((h, chain.instance_row));
                }
                Ok(out)
            },
        )
    }
}

impl Circuit<Fr> for InferenceCircuit<'_> {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = CircuitShape;

    fn params(&self) -> CircuitShape {
        shape::SHAPE
            .with(|s| s.get())
            .expect("InferenceCircuit needs circuits::with_shape around key generation and proving")
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: CircuitShape) -> ModelConfig {
        ModelConfig::configure(meta, shape)
    }

    fn without_witnesses(&self) -> Self {
        InferenceCircuit {
            graph: self.graph,
            disclosure: self.disclosure.clone(),
            trace: None,
            salt: None,
        }
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        let shape = shape::SHAPE
            .with(|s| s.get())
            .expect("InferenceCircuit::configure needs circuits::with_shape around it");
        ModelConfig::configure(meta, shape)
    }

    fn synthesize(
        &self,
        config: ModelConfig,
        mut layouter: impl Layouter<Fr>,
    ) -> Result<(), Error> {
        if self.graph.limb_bits != config.table.limb_bits {
            return Err(fail(SynthesisFailure::LimbBits {
                table: config.table.limb_bits,
                model: self.graph.limb_bits,
            }));
        }
        config.table.load(&mut layouter)?;
        if let Some(f) = &config.function {
            f.load(&mut layouter, &self.graph.function_table())?;
        }
        if let Some(t) = &config.threshold {
            let table = table_of(self.graph, t.limbs)
                .zip(TableBanks::of_graph(self.graph, t.limbs, t.banks()))
                .map(|(table, banks)| banks.split_table(&table))
                .ok_or_else(|| fail(SynthesisFailure::UnboundedThresholds))?;
            t.load(&mut layouter, &table)?;
        }
        let stages = lower(self.graph, config.layout);
        let cells = layouter.assign_region(
            || "model",
            |mut region| self.assign_model(&config, &stages, &mut region),
        )?;
        for (cell, r) in &cells.links {
            let (column, row) = config.instance_cell(*r);
            layouter.constrain_instance(*cell, column, row);
        }
        let layout = self.disclosure.layout;
        let hashes = self.assign_hashes(&config, &mut layouter, &cells)?;
        for (cell, r) in hashes {
            let (column, row) = config.instance_cell(r);
            layouter.constrain_instance(cell.cell(), column, row);
        }
        // A hashed output's hash is bound in `assign_hashes`; a private output is not bound.
        if self.disclosure.visibility.output == crate::Revealed::Public {
            for (j, c) in cells.outputs.iter().enumerate() {
                let (column, row) = config.instance_cell(layout.input_rows + j);
                layouter.constrain_instance(c.cell(), column, row);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod hidden_tests;
