//! Disclosure: what a proof reveals of each tensor (its values, its Poseidon hash, or nothing), how a
//! hashed tensor is packed and hashed, and where each claim sits in the instance column.

pub mod hashing;
pub mod instance;
pub mod poseidon;
