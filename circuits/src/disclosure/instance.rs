//! The instance column: what a proof states publicly about each tensor (its values, its hash, or
//! nothing), and where each claim sits in the column.

use halo2_proofs::halo2curves::bn256::Fr;

use crate::artifacts::model_file::{Visibilities, Visibility};
use crate::disclosure::hashing::{HashError, Packing};
use crate::field::fp;
use crate::qgraph::QuantGraph;

/// The instance column of one inference with every tensor public: the quantized input, then the
/// quantized output.
pub fn public_inputs(input: &[i64], output: &[i64]) -> Vec<Fr> {
    input.iter().chain(output).map(|v| fp(*v)).collect()
}

/// What the instance column holds of one tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TensorClaim {
    /// Its quantized values (public).
    Values(Vec<i64>),
    /// Its quantized values (public), packed into the instance cells `elements` (a table-packed
    /// input; see [`Packing::Table`]).
    Packed {
        /// The values.
        values: Vec<i64>,
        /// The instance cells they pack into.
        elements: Vec<Fr>,
    },
    /// Its hash (hashed).
    Hash(Fr),
    /// Nothing (private).
    Hidden,
}

impl TensorClaim {
    /// The claim a prover makes about `values` under `visibility`, packed as `packing` says: public
    /// values are packed into instance cells when the packing is [`Packing::Table`] (an error when
    /// a value lies outside its range), hashed values are packed before hashing.
    pub fn of(visibility: Visibility, packing: Packing, values: &[i64]) -> Result<Self, HashError> {
        Ok(match visibility {
            Visibility::Public if matches!(packing, Packing::Table { .. }) => TensorClaim::Packed {
                values: values.to_vec(),
                elements: packing.elements_of(values)?,
            },
            Visibility::Public => TensorClaim::Values(values.to_vec()),
            Visibility::Hashed => TensorClaim::Hash(packing.hash(values)?),
            Visibility::Private => TensorClaim::Hidden,
        })
    }

    /// The claim about a hashed input salted with `salt`.
    pub fn salted(packing: Packing, salt: Fr, values: &[i64]) -> Result<Self, HashError> {
        Ok(TensorClaim::Hash(packing.salted_hash(salt, values)?))
    }

    fn fields(&self) -> Vec<Fr> {
        match self {
            TensorClaim::Values(v) => v.iter().map(|v| fp(*v)).collect(),
            TensorClaim::Packed { elements, .. } => elements.clone(),
            TensorClaim::Hash(h) => vec![*h],
            TensorClaim::Hidden => vec![],
        }
    }
}

/// The instance column: the input's claim, then the output's.
pub fn instance_column(input: &TensorClaim, output: &TensorClaim) -> Vec<Fr> {
    instance_with_weights(input, output, None)
}

/// The instance column of a model whose weights are hashed (`weights`: their hash) or public.
pub fn instance_with_weights(
    input: &TensorClaim,
    output: &TensorClaim,
    weights: Option<Fr>,
) -> Vec<Fr> {
    let mut col = input.fields();
    col.extend(output.fields());
    col.extend(weights);
    col
}

/// Rows of the instance column each tensor takes (the weights hash, when the weights are hashed,
/// comes last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceLayout {
    /// Rows of the input's claim: its length when public (its elements when packed), 1 when
    /// hashed, 0 when private.
    pub input_rows: usize,
    /// Rows of the output's claim: its length when public, 1 when hashed, 0 when private.
    pub output_rows: usize,
    /// 1 when the weights are hashed (their hash), else 0.
    pub weights_rows: usize,
}

impl InstanceLayout {
    /// The layout for `graph` under `vis`, a packed public input packed as `input_packing`.
    pub fn new(graph: &QuantGraph, vis: Visibilities, input_packing: Packing) -> Self {
        let rows = |v: Visibility, n: usize| match v {
            Visibility::Public => n,
            Visibility::Hashed => 1,
            Visibility::Private => 0,
        };
        let input_rows = match vis.input.is_packed() {
            true => input_packing.elements(graph.input_len()),
            false => rows(vis.input.kind(), graph.input_len()),
        };
        InstanceLayout {
            input_rows,
            output_rows: rows(vis.output.kind(), graph.output_len()),
            weights_rows: (vis.weights.is_hashed()) as usize,
        }
    }

    /// The row of the weights hash.
    pub fn weights_row(&self) -> usize {
        self.input_rows + self.output_rows
    }

    /// Rows of the whole instance column.
    pub fn total(&self) -> usize {
        self.input_rows + self.output_rows + self.weights_rows
    }
}

/// Where public value `r` sits when the values are spread over `columns` instance columns: column
/// `r % columns`, row `r / columns` (neighbouring values in neighbouring columns, so every column
/// holds at most `ceil(n / columns)` of `n` values).
pub fn instance_position(r: usize, columns: usize) -> (usize, usize) {
    (r % columns, r / columns)
}

/// The instance columns of the public values `values` (in [`instance_column`]'s order) spread over
/// `columns` columns as [`instance_position`] places them: what halo2's prover and verifier take.
pub fn spread(values: &[Fr], columns: usize) -> Vec<Vec<Fr>> {
    let columns = columns.max(1);
    let mut out = vec![Vec::with_capacity(values.len().div_ceil(columns)); columns];
    for (r, v) in values.iter().enumerate() {
        out[r % columns].push(*v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_places_each_value_where_instance_position_says() {
        let values: Vec<Fr> = (0..11u64).map(Fr::from).collect();
        for columns in 1..=5 {
            let cols = spread(&values, columns);
            assert_eq!(cols.len(), columns);
            for (r, v) in values.iter().enumerate() {
                let (c, row) = instance_position(r, columns);
                assert_eq!(cols[c][row], *v, "value {r} over {columns} columns");
            }
            let longest = cols.iter().map(Vec::len).max().unwrap();
            assert_eq!(longest, values.len().div_ceil(columns));
        }
    }
}
