//! halo2 chips: the building blocks the model circuit is laid out with.
//!
//! - [`table::RangeTable`]: one small lookup table `(value, is_negative)` over `[-2^(L-1), 2^L)`.
//! - [`mac::MacConfig`]: multiply-accumulate rows, `P` inputs broadcast over `W` accumulators, weights in
//!   fixed columns.
//! - [`link::LinkConfig`]: one row per block output that moves an accumulator out by rotation.
//! - [`product::ProductConfig`]: the product of two activations in one row.
//! - [`rescale::RescaleConfig`]: fixed-point rescale with range-checked limbs and remainder, fused ReLU.
//! - [`requant::RequantConfig`]: an int8 runtime's requantization (multiplier, rounding, zero point,
//!   saturation), exactly.
//! - [`threshold::ThresholdConfig`]: a non-decreasing map of an accumulator by its thresholds (a
//!   runtime's float32 requantization), exactly; [`threshold_table`] its table's rows and banks.
//! - [`pack::PackConfig`] and [`poseidon::HashConfig`]: packing and Poseidon hashing of hashed tensors.
//! - [`pack::TablePackConfig`]: a long public int8 input packed into instance cells.
//! - [`table_sum::TableSumConfig`]: two int8 activations mapped by tables and summed, in the row of
//!   the sum's threshold.

pub mod cell;
pub use cell::FpCell;

pub mod function;
pub mod link;
pub mod mac;
pub mod pack;
pub mod poseidon;
pub mod product;
pub mod requant;
pub mod rescale;
pub mod table;
pub mod table_sum;
pub mod threshold;
pub mod threshold_table;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hash;
#[cfg(test)]
mod tests_pack;
#[cfg(test)]
mod tests_product;
#[cfg(test)]
mod tests_requant;
#[cfg(test)]
mod tests_table_sum;
#[cfg(test)]
mod tests_threshold;
#[cfg(test)]
mod tests_threshold_banks;
#[cfg(test)]
mod tests_threshold_chunked;
