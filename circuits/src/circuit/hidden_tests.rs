//! MockProver tests of how hashed weights are bound ([`HiddenParams`]): every private weight is a
//! copy of its parameter's pack-row cell, every use of a bias a copy of its first use, and padding
//! inputs and the weights of inputs a sum does not read are pinned to zero. A tampered copy must be rejected.

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::MockProver,
    halo2curves::bn256::Fr,
    plonk::{Circuit, ConstraintSystem, Error},
};

use super::{CircuitShape, ModelConfig};
use crate::circuit::chips::mac::BlockCells;
use crate::circuit::chips::FpCell;
use crate::circuit::hidden::HiddenParams;
use crate::circuit::pack_rows::assign_pack_rows;
use crate::field::fp;
use crate::lower::BlockParams;

const P: usize = 2;
const SHAPE: CircuitShape = CircuitShape {
    inputs_per_row: P,
    width: 5,
    limb_bits: 6,
    weight_offset_bits: 4,
    bias_offset_bits: 8,
    functions: false,
    hashing: true,
    hidden_weights: true,
    second_hash_chip: false,
    products: false,
    requant: false,
    threshold: false,
    no_rescale: false,
    window_tiles: false,
    packed_input: false,
    wide_thresholds: false,
    chunked_thresholds: false,
    fitted_thresholds: false,
    threshold_banks: 1,
    table_sums: false,
    instance_columns: 1,
};

/// One block of two sums over three inputs (two rows, the second with one padding input), then a
/// pass row per sum; both sums use bias parameter 0.
#[derive(Clone)]
struct BindCircuit {
    /// The weight parameters (one pack row each).
    params: Vec<i64>,
    /// `ids[j][i]`: the parameter of input `i` for sum `j`, `None` where the sum does not read it
    /// (as in a window tile's block).
    ids: Vec<Vec<Option<usize>>>,
    /// The weights the multiply-accumulate rows use (honest: `params[ids[j][i]]`, or 0).
    used: Vec<Vec<i64>>,
    xs: [i64; 3],
    /// The padding input (honest: 0).
    padding: i64,
    /// The bias each pass row uses (honest: equal).
    biases: [i64; 2],
}

impl BindCircuit {
    fn honest() -> Self {
        let params = vec![3, -5, 7, 11, -2, 4];
        let ids = vec![vec![Some(0), Some(1), None], vec![None, Some(4), Some(5)]];
        let used = ids
            .iter()
            .map(|r| r.iter().map(|i| i.map_or(0, |i| params[i])).collect())
            .collect();
        BindCircuit {
            params,
            ids,
            used,
            xs: [2, -1, 6],
            padding: 0,
            biases: [9, 9],
        }
    }
}

impl Circuit<Fr> for BindCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        ModelConfig::configure(meta, SHAPE)
    }
    fn synthesize(
        &self,
        config: ModelConfig,
        mut layouter: impl Layouter<Fr>,
    ) -> Result<(), Error> {
        config.table.load(&mut layouter)?;
        let known = |v: i64| Value::known(fp(v));
        layouter.assign_region(
            || "model",
            |mut region| {
                for col in config.mac.acc.iter().chain(&config.mac.x) {
                    FpCell::assign(&mut region, *col, 0, known(0));
                }
                let n = self.params.len();
                let (cells, _) =
                    assign_pack_rows(&config, &mut region, 1, n, Some(&self.params), false)?;
                let mut params = HiddenParams {
                    weights: cells,
                    packed: vec![],
                    biases: vec![None],
                    zero: None,
                };
                let start = 1 + n;
                let mut sums = [0i64; 2];
                let mut block = BlockCells {
                    weights: vec![vec![]; 2],
                    ..Default::default()
                };
                for r in 0..2 {
                    let (lo, hi) = (r * P, (r * P + P).min(3));
                    let mut xs: Vec<i64> = self.xs[lo..hi].to_vec();
                    xs.resize(P, self.padding);
                    let ws: Vec<Vec<Value<Fr>>> = self
                        .used
                        .iter()
                        .map(|w| w[lo..hi].iter().map(|v| known(*v)).collect())
                        .collect();
                    for (s, w) in sums.iter_mut().zip(&self.used) {
                        *s += (lo..hi).map(|i| w[i] * self.xs[i]).sum::<i64>();
                    }
                    let accs: Vec<Value<Fr>> = sums.iter().map(|s| known(*s)).collect();
                    let xv: Vec<Value<Fr>> = xs.iter().map(|v| known(*v)).collect();
                    let (x_cells, a_cells) = config.mac.assign_row_with(
                        &mut region,
                        start + r,
                        &xv,
                        &[],
                        Some(&ws),
                        r > 0,
                        &accs,
                    )?;
                    let mut x_cells = x_cells.into_iter();
                    block.inputs.extend(x_cells.by_ref().take(hi - lo));
                    block.padding.extend(x_cells);
                    for (j, row) in a_cells.into_iter().take(2).enumerate() {
                        block.weights[j].extend(row.into_iter().take(hi - lo));
                    }
                }
                let bp = BlockParams {
                    weights: self.ids.clone(),
                    bias: vec![0, 0],
                };
                params.bind_weights(&mut region, &block, &bp)?;
                for (j, (sum, bias)) in sums.iter().zip(self.biases).enumerate() {
                    let out = known(sum + bias);
                    let (_, b) = config.link.assign_pass_with(
                        &mut region,
                        start + 2 + j,
                        j,
                        0,
                        Some(known(bias)),
                        out,
                    )?;
                    params.bind_bias(&mut region, b, Some(&bp), j)?;
                }
                Ok(())
            },
        )
    }
}

fn accepted(c: &BindCircuit) -> bool {
    MockProver::run(8, c, vec![vec![]])
        .expect("synthesis")
        .verify()
        .is_ok()
}

#[test]
fn honest_private_weights_are_accepted() {
    assert!(accepted(&BindCircuit::honest()));
}

#[test]
fn a_private_weight_other_than_its_parameter_is_rejected() {
    for (j, i) in [(0, 0), (0, 1), (1, 1), (1, 2)] {
        let mut c = BindCircuit::honest();
        c.used[j][i] += 1;
        assert!(!accepted(&c), "weight ({j}, {i}) changed");
    }
}

#[test]
fn a_nonzero_weight_where_a_sum_reads_no_parameter_is_rejected() {
    for (j, i) in [(0, 2), (1, 0)] {
        let mut c = BindCircuit::honest();
        c.used[j][i] = 3;
        assert!(!accepted(&c), "weight ({j}, {i}) made nonzero");
    }
}

#[test]
fn a_nonzero_padding_input_is_rejected() {
    let mut c = BindCircuit::honest();
    c.padding = 7;
    assert!(!accepted(&c));
}

#[test]
fn a_bias_other_than_its_first_use_is_rejected() {
    let mut c = BindCircuit::honest();
    c.biases[1] += 1;
    assert!(!accepted(&c));
}
