//! Disclosure: what a proof reveals of each tensor (its values, its Poseidon hash, or nothing), how a
//! hashed tensor is packed and hashed, and where each claim sits in the instance column: all of it
//! decided once, in [`Disclosure`].

pub use chains::{Disclosure, HashChain, HashedTensor};

pub mod chains;
pub mod hashing;
pub mod instance;
pub mod poseidon;

/// Least public input values for which the compiler packs a public int8 input into instance cells:
/// halo2's verifier spends about 2 us per instance row (two exponentiations), and the packing
/// costs the prover one lookup argument and a row per value.
pub const PACKED_INPUT_MIN_VALUES: usize = 1024;

/// Whether the compiler packs `graph`'s public input into instance cells
/// ([`crate::InputVisibility::PublicPacked`]): an int8 graph (inputs in `[-128, 128)`, inside the
/// range table's `[-2^(L-1), 2^(L-1))`) whose input has at least [`PACKED_INPUT_MIN_VALUES`] values.
pub fn packs_public_input(graph: &crate::qgraph::QuantGraph) -> bool {
    graph.int8.is_some() && graph.limb_bits >= 8 && graph.input_len() >= PACKED_INPUT_MIN_VALUES
}
