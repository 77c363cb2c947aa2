//! Setup: the structured reference string (which one, what a verifier needs of it, the prover's
//! checked files), snarkjs `.ptau` files, and threads.

#[cfg(not(target_arch = "wasm32"))]
pub mod import;
pub mod ipa;
pub mod ptau;
pub mod srs;
#[cfg(not(target_arch = "wasm32"))]
pub mod store;
pub mod threads;
