//! Tensor hashes in the circuit: halo2_gadgets' Poseidon (`Pow5Chip`, `P128Pow5T3`) chained two to
//! one from a constant prefix, exactly as [`crate::disclosure::hashing`] computes them off the circuit.
//!
//! The chip has columns of its own (three state columns, one partial S-box column, six round-constant
//! columns), so its regions sit beside the model's rows rather than after them. With several chips
//! (own columns each), successive hashes of a chain alternate between them: the floor planner places
//! each region in its chip's columns, so a chain of `n` hashes takes about `n / chips` hashes' rows.
//! The chain itself, and so the hash, is the same.

use halo2_gadgets::poseidon::{
    primitives::{ConstantLength, P128Pow5T3},
    Hash, Pow5Chip, Pow5Config,
};
use halo2_proofs::{
    circuit::{Layouter, Value},
    pasta::Fp,
    plonk::{Advice, Column, ConstraintSystem, Error},
};

use super::FpCell;

/// Rows one two-to-one hash takes in the chip's columns (initial state, input, 8 full rounds and 56
/// partial rounds two per row, output), as halo2_gadgets' floor plan lays them out: measured, and
/// pinned by a test (`chips::tests_hash`).
pub const ROWS_PER_HASH: usize = 38;
/// Constants one hash places in the constants column (the sponge's initial state).
pub const CONSTANTS_PER_HASH: usize = 3;

/// The Poseidon chips' columns.
#[derive(Clone, Debug)]
pub struct HashConfig {
    /// One configuration per chip.
    pub pow5: Vec<Pow5Config<Fp, 3, 2>>,
    /// The first chip's first state column (equality-enabled), where the prefix is assigned.
    pub state0: Column<Advice>,
}

impl HashConfig {
    /// `chips` Poseidon chips, at least one.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, chips: usize) -> Self {
        let mut pow5 = Vec::with_capacity(chips);
        let mut state0 = None;
        for c in 0..chips.max(1) {
            let state = [(); 3].map(|_| meta.advice_column());
            let partial_sbox = meta.advice_column();
            let rc_a = [(); 3].map(|_| meta.fixed_column());
            let rc_b = [(); 3].map(|_| meta.fixed_column());
            if c == 0 {
                // Constants (the chain's prefix, the sponge's initial state) live in rc_b[0].
                meta.enable_constant(rc_b[0]);
                state0 = Some(state[0]);
            }
            pow5.push(Pow5Chip::configure::<P128Pow5T3>(
                meta,
                state,
                partial_sbox,
                rc_a,
                rc_b,
            ));
        }
        HashConfig {
            pow5,
            state0: state0.expect("at least one chip"),
        }
    }

    /// A private field element (a salt) in a region of its own, ready to be hashed.
    pub fn assign_private(
        &self,
        mut layouter: impl Layouter<Fp>,
        value: Value<Fp>,
    ) -> Result<FpCell, Error> {
        let state0 = self.state0;
        layouter.assign_region(
            || "private element",
            |mut region| region.assign_advice(|| "private", state0, 0, || value),
        )
    }

    /// `h_0 = prefix` (a constant), `h_{i+1} = Poseidon(h_i, e_i)`; returns the last `h`.
    pub fn chain(
        &self,
        mut layouter: impl Layouter<Fp>,
        prefix: Fp,
        elements: &[FpCell],
    ) -> Result<FpCell, Error> {
        let state0 = self.state0;
        let mut h = layouter.assign_region(
            || "hash prefix",
            |mut region| region.assign_advice_from_constant(|| "prefix", state0, 0, prefix),
        )?;
        for (i, e) in elements.iter().enumerate() {
            let chip = Pow5Chip::construct(self.pow5[i % self.pow5.len()].clone());
            let hasher = Hash::<Fp, _, P128Pow5T3, ConstantLength<2>, 3, 2>::init(
                chip,
                layouter.namespace(|| format!("hash {i} init")),
            )?;
            h = hasher.hash(layouter.namespace(|| format!("hash {i}")), [h, e.clone()])?;
        }
        Ok(h)
    }
}
