//! halo2 chips: the building blocks the model circuit is laid out with.
//!
//! - [`table::RangeTable`]: one small lookup table `(value, is_negative)` over `[-2^(L-1), 2^L)`.
//! - [`dot::DotConfig`]: packed dot-product rows, `W` multiply-accumulates per row, weights in fixed columns.
//! - [`rescale::RescaleConfig`]: fixed-point rescale with range-checked limbs and remainder, fused ReLU.

pub mod dot;
pub mod rescale;
pub mod table;

#[cfg(test)]
mod tests;
