//! Table-sum rows of the model circuit (see [`crate::circuit::chips::table_sum`]): their witness
//! from the function table, and the cells of the row that neither they nor their threshold row use.

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::Error,
};

use crate::circuit::chips::mac::BlockCells;
use crate::circuit::chips::FpCell;
use crate::circuit::failure::{fail, SynthesisFailure};
use crate::circuit::ModelConfig;

/// A table-sum (or table-product) row's inputs and table values at `row` (`xs`: the inputs'
/// values when known); returns the input cells and the result's value.
pub(crate) fn assign_table_sum(
    config: &ModelConfig,
    region: &mut Region<'_, Fr>,
    row: usize,
    (tags, product): ([i64; 2], bool),
    xs: Option<&[i64]>,
    functions: &FunctionValues,
) -> Result<(BlockCells, Vec<Option<i64>>), Error> {
    let ts = config
        .table_sum
        .as_ref()
        .ok_or_else(|| fail(SynthesisFailure::MissingChip("table-sum")))?;
    let inputs = match xs {
        Some(&[a, b]) => [Some(a), Some(b)],
        Some(_) => return Err(fail(SynthesisFailure::ProductArity)),
        None => [None, None],
    };
    let mut values = [None, None];
    for k in 0..2 {
        values[k] = inputs[k].map(|x| functions.get(tags[k], x)).transpose()?;
    }
    let cells = ts.assign(region, row, (tags, product), inputs, values)?;
    let sum = values[0]
        .zip(values[1])
        .map(|(u, v)| if product { u * v } else { u + v });
    let cells = BlockCells {
        inputs: cells,
        ..Default::default()
    };
    Ok((cells, vec![sum]))
}

/// Zero the input and accumulator cells of a table-sum row that neither it nor its threshold row
/// uses (the next row's gates may read them).
pub(crate) fn zero_table_sum_spares(config: &ModelConfig, region: &mut Region<'_, Fr>, row: usize) {
    let (Some(ts), Some(th)) = (&config.table_sum, &config.threshold) else {
        return;
    };
    let used: Vec<_> = [th.acc, th.y]
        .into_iter()
        .chain(th.ends)
        .chain(th.d.iter().copied())
        .chain(th.e.iter().copied())
        .chain(ts.columns())
        .collect();
    for col in config.mac.x.iter().chain(&config.mac.acc) {
        if !used.contains(col) {
            FpCell::assign(region, *col, row, Value::known(Fr::zero()));
        }
    }
}

/// The function table's values by `(tag, x)`, for the witness of function and table-sum rows.
pub(crate) struct FunctionValues(std::collections::HashMap<(i64, i64), i64>);

impl FunctionValues {
    pub(crate) fn new(table: &[(i64, i64, i64)]) -> Self {
        FunctionValues(table.iter().map(|(t, x, y)| ((*t, *x), *y)).collect())
    }

    /// `f(x)` of table `tag` (`x` already clamped into a function's domain by the clip rows).
    pub(crate) fn get(&self, tag: i64, x: i64) -> Result<i64, Error> {
        self.0
            .get(&(tag, x))
            .copied()
            .ok_or_else(|| fail(SynthesisFailure::FunctionValue { tag, x }))
    }
}
