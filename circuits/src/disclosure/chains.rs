//! What a proof of one graph discloses, decided once: each tensor's visibility and packing, the
//! hash chains the circuit computes (their prefixes, lengths and instance rows), and the instance
//! column's layout. The planner (hash rows), the circuit (`synthesize`), the prover (its claims)
//! and the verifier read it from here.

use halo2_proofs::halo2curves::bn256::Fr;

use super::hashing::{weights_prefix, Packing};
use super::instance::InstanceLayout;
use crate::artifacts::model_file::Visibilities;
use crate::artifacts::visibility::InputVisibility;
use crate::circuit::chips::poseidon::HashConfig;
use crate::qgraph::QuantGraph;

/// A tensor whose hash a proof may state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashedTensor {
    /// The model's input (packed; salted or not).
    Input,
    /// The weights and biases (hashed weights).
    Weights,
    /// The model's output (one element per value).
    Output,
}

/// One hash chain of the circuit: `h = Poseidon(... Poseidon(prefix, e_0) ..., e_{n-1})`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashChain {
    /// Which tensor it hashes.
    pub tensor: HashedTensor,
    /// The chain's first value: the packing, the length and (for a salted input) the salt's
    /// presence, so that no two tensors or lengths share a chain.
    pub prefix: Fr,
    /// Elements hashed after the prefix: the salt (when salted), then the packed values.
    pub elements: usize,
    /// Whether the first element is the salt.
    pub salted: bool,
    /// The instance row that holds the hash.
    pub instance_row: usize,
}

/// What a proof of `graph` under `visibility` discloses, and how (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disclosure {
    /// Which tensors are public, hashed or private.
    pub visibility: Visibilities,
    /// How the input's values are packed (hashed or range-checked input, or a public input packed
    /// into instance cells).
    pub input_packing: Packing,
    /// How the output's values are hashed.
    pub output_packing: Packing,
    /// Rows of the instance column each claim takes.
    pub layout: InstanceLayout,
    /// The hash chains, in the order the circuit computes them: input, weights, output.
    pub chains: Vec<HashChain>,
}

impl Disclosure {
    /// The disclosure of a proof of `graph` under `visibility`.
    pub fn new(graph: &QuantGraph, visibility: Visibilities) -> Self {
        Self::with_limb_bits(graph, visibility, graph.limb_bits)
    }

    /// The disclosure of `graph` once quantized with `limb_bits`-bit limbs (the planner weighs limb
    /// sizes before the graph is re-quantized; packed values are `2L + 1` bits wide).
    pub fn with_limb_bits(graph: &QuantGraph, visibility: Visibilities, limb_bits: u32) -> Self {
        let input_packing = match visibility.input.is_packed() {
            true => Packing::Table { limb_bits },
            false => Packing::Packed { limb_bits },
        };
        let output_packing = Packing::Plain;
        let layout = InstanceLayout::new(graph, visibility, input_packing);
        let mut chains = Vec::new();
        if let InputVisibility::Hashed { salted } = visibility.input {
            let n = graph.input_len();
            chains.push(HashChain {
                tensor: HashedTensor::Input,
                prefix: match salted {
                    true => input_packing.salted_prefix(n),
                    false => input_packing.prefix(n),
                },
                elements: input_packing.elements(n) + salted as usize,
                salted,
                instance_row: 0,
            });
        }
        if visibility.weights.is_hashed() {
            let (weights, biases) = graph.param_counts();
            chains.push(HashChain {
                tensor: HashedTensor::Weights,
                prefix: weights_prefix(limb_bits, weights, biases),
                elements: input_packing.elements(weights) + biases,
                salted: false,
                instance_row: layout.weights_row(),
            });
        }
        if visibility.output.is_hashed() {
            let n = graph.output_len();
            chains.push(HashChain {
                tensor: HashedTensor::Output,
                prefix: output_packing.prefix(n),
                elements: output_packing.elements(n),
                salted: false,
                instance_row: layout.input_rows,
            });
        }
        Disclosure {
            visibility,
            input_packing,
            output_packing,
            layout,
            chains,
        }
    }

    /// Whether the circuit hashes anything (and so has Poseidon columns and pack rows).
    pub fn hashing(&self) -> bool {
        !self.chains.is_empty()
    }

    /// Rows the Poseidon chips' columns need for the chains on `chips` chips: one hash per element,
    /// and a row of its own for a salt and for an empty chain's prefix.
    pub fn hash_rows(&self, chips: usize) -> usize {
        let hashes = self.chains.iter().map(|c| c.elements).sum();
        let singles = self
            .chains
            .iter()
            .map(|c| c.salted as usize + (c.elements == 0) as usize)
            .sum();
        HashConfig::rows_with_singles(hashes, singles, chips.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::model_file::Visibility;

    fn vis(
        input: Visibility,
        output: Visibility,
        weights: Visibility,
        salted: bool,
    ) -> Visibilities {
        Visibilities::new(input, output, weights, salted).unwrap()
    }

    #[test]
    fn chains_follow_the_visibilities_in_circuit_order() {
        let g = crate::qgraph::tests::tiny();
        let public = Disclosure::new(&g, Visibilities::PUBLIC);
        assert!(!public.hashing() && public.hash_rows(1) == 0);
        use Visibility::{Hashed, Private, Public};
        let all = Disclosure::new(&g, vis(Hashed, Hashed, Hashed, true));
        let kinds: Vec<_> = all.chains.iter().map(|c| c.tensor).collect();
        assert_eq!(
            kinds,
            [
                HashedTensor::Input,
                HashedTensor::Weights,
                HashedTensor::Output
            ]
        );
        // The input's hash is row 0, the output's row 1, the weights' row 2.
        let rows: Vec<_> = all.chains.iter().map(|c| c.instance_row).collect();
        assert_eq!(rows, [0, 2, 1]);
        let n = g.input_len();
        assert_eq!(all.chains[0].elements, all.input_packing.elements(n) + 1);
        assert_ne!(all.chains[0].prefix, all.input_packing.prefix(n));
        // A salt takes a row of its own.
        let unsalted = Disclosure::new(&g, vis(Hashed, Hashed, Hashed, false));
        assert!(all.hash_rows(1) > unsalted.hash_rows(1));
        let private = Disclosure::new(&g, vis(Private, Public, Public, false));
        assert!(!private.hashing() && private.layout.input_rows == 0);
    }
}
