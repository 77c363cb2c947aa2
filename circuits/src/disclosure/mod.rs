//! Disclosure: what a proof reveals of each tensor (its values, its Poseidon hash, or nothing), how a
//! hashed tensor is packed and hashed, and where each claim sits in the instance column: all of it
//! decided once, in [`Disclosure`].

pub use chains::{Disclosure, HashChain, HashedTensor};

pub mod chains;
pub mod hashing;
pub mod instance;
pub mod poseidon;
