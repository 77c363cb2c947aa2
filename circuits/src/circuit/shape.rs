//! The shape of the model circuit's columns (what `configure` needs), and the thread-local through
//! which `configure`, which takes no arguments, receives it.

use std::cell::Cell as StdCell;

use serde::{Deserialize, Serialize};

/// The shape of the circuit's columns: what `configure` needs to know (halo2's `Circuit::Params`; the
/// default is the smallest valid shape, used by nothing but halo2's trait bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitShape {
    /// Inputs per multiply-accumulate row (equality-enabled advice columns), `P`.
    pub inputs_per_row: usize,
    /// Accumulators per row (outputs computed together), `W`.
    pub width: usize,
    /// Bits per limb of the range table, `L`.
    pub limb_bits: u32,
    /// Weights are stored as `w + 2^weight_offset_bits` (so fixed values are non-negative).
    pub weight_offset_bits: u32,
    /// Biases are stored as `b + 2^bias_offset_bits`.
    pub bias_offset_bits: u32,
    /// Whether the circuit has function rows and their table (Sigmoid, Tanh). Added after format 1
    /// was first written: absent means false, and false is not written, so older files keep their
    /// digest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub functions: bool,
    /// Whether the circuit has pack rows and Poseidon columns (a hashed tensor). Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hashing: bool,
    /// Whether the weights are private (hashed weights): advice weight columns beside the fixed
    /// ones, and a parameter flag. Needs `hashing`. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden_weights: bool,
    /// A second Poseidon chip (own columns) that the hash chains alternate with, when it lowers k.
    /// Needs `hashing`. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub second_hash_chip: bool,
    /// Whether the circuit has product rows (a product of two activations). Needs `P >= 2`. Absent
    /// means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub products: bool,
    /// Whether the circuit has int8 requant rows (see [`crate::circuit::chips::requant`]). Needs
    /// `L = 12`, `W + P >= 15` (the row's cells) and `W * P >= 8` (its fixed cells). Absent means
    /// false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requant: bool,
    /// Whether the circuit has threshold rows (see [`crate::circuit::chips::threshold`]). Needs
    /// `L = 12` and `W + P >= 10` (the row's cells). Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub threshold: bool,
    /// Whether the circuit leaves out rescale rows, their gate and their three lookups: a graph
    /// whose every requantization is a threshold row, with no max pool, clip, requant row,
    /// range-checked input or hashing. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_rescale: bool,
    /// Whether a convolution whose groups have fewer output channels than `W` (depthwise, average
    /// pools) lays a tile of neighbouring output positions into one block (see
    /// [`crate::lower::BlockLayout`]). Changes rows and fixed values, not columns or gates. Absent
    /// means false: files written before it keep one position per block.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub window_tiles: bool,
    /// Whether the circuit has table pack rows (see [`crate::circuit::chips::pack::TablePackConfig`]):
    /// a public input packed into instance cells ([`crate::InputVisibility::PublicPacked`]). Needs
    /// `P >= 2`. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub packed_input: bool,
    /// Whether threshold rows check their differences with two 18-bit limbs against a limb table
    /// of their own (`2^18` rows, so `k >= 19`) instead of three 12-bit limbs against the range
    /// table: two lookup arguments and two cells fewer (see
    /// [`crate::circuit::chips::threshold::ThresholdLimbs`]). Needs `threshold`. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wide_thresholds: bool,
    /// Whether threshold rows check each difference with one 12-bit limb, against a table whose
    /// intervals are cut to the accumulators each map can meet and split into pieces of at most
    /// `2^12` (see [`crate::circuit::chips::threshold::ThresholdLimbs::Chunked`]): four lookup
    /// arguments and four cells fewer than narrow limbs, for a larger table. With
    /// `wide_thresholds`: one 16-bit limb against a limb table of `2^16` rows, pieces of at most
    /// `2^16` ([`crate::circuit::chips::threshold::ThresholdLimbs::ChunkedWide`]). Needs
    /// `threshold`. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chunked_thresholds: bool,
    /// With `chunked_thresholds`: the pieces' lengths are powers of two `2^b` and threshold rows
    /// check `acc - lo` alone, as the pair `(b, acc - lo)` against a table of the chip's own (see
    /// [`crate::circuit::chips::threshold::ThresholdLimbs::Fitted`]): one lookup argument and one
    /// cell fewer than chunked limbs, for up to twice the pieces. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fitted_thresholds: bool,
    /// Whether the circuit has table-sum rows (see [`crate::circuit::chips::table_sum`]): a
    /// TableSum and its threshold in one row per element. Needs `functions`, `threshold`,
    /// `P >= 3` and the row's cells. Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub table_sums: bool,
    /// Instance columns the public values are spread over, `C`: value `r` is in column `r % C`, row
    /// `r / C` ([`crate::disclosure::instance::instance_position`]). halo2's verifier does two
    /// exponentiations per row of the longest instance column, so a large public input verifies
    /// faster over several columns (each an equality column more). Absent means 1: files written
    /// before it keep their layout.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub instance_columns: usize,
    /// The banks the threshold table is split into, each a lookup argument of its own (see
    /// [`crate::circuit::chips::threshold_table`]): a table longer than the circuit's other rows
    /// then no longer sets k alone. Needs `threshold` when more than 1. Absent means 1: files
    /// written before it keep their circuit.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub threshold_banks: usize,
}

fn one() -> usize {
    1
}

fn is_one(c: &usize) -> bool {
    *c == 1
}

/// The most instance columns a circuit may have.
pub const MAX_INSTANCE_COLUMNS: usize = 16;

impl Default for CircuitShape {
    fn default() -> Self {
        CircuitShape {
            inputs_per_row: 2,
            width: MIN_WIDTH,
            limb_bits: 8,
            weight_offset_bits: 8,
            bias_offset_bits: 16,
            functions: false,
            hashing: false,
            hidden_weights: false,
            second_hash_chip: false,
            products: false,
            requant: false,
            threshold: false,
            no_rescale: false,
            window_tiles: false,
            packed_input: false,
            wide_thresholds: false,
            chunked_thresholds: false,
            fitted_thresholds: false,
            table_sums: false,
            instance_columns: 1,
            threshold_banks: 1,
        }
    }
}

/// The fewest accumulators a row must have (a rescale row uses five of them).
pub const MIN_WIDTH: usize = 5;
/// Rows before the first block (see `assign_model`).
pub const SPACER_ROWS: usize = 1;

impl CircuitShape {
    /// Lookup arguments of the circuit (rescale: low limb, remainder, high limb with sign).
    pub const LOOKUPS: usize = 3;

    /// The instance columns of `values` (the public values in order) in this circuit: value `r`
    /// in column `r % C`, row `r / C` (see [`crate::disclosure::instance::spread`]).
    pub fn instance_of(
        &self,
        values: &[halo2_proofs::halo2curves::bn256::Fr],
    ) -> Vec<Vec<halo2_proofs::halo2curves::bn256::Fr>> {
        crate::disclosure::instance::spread(values, self.instance_columns)
    }

    /// Lookup arguments, the function table's and requant rows' included.
    pub fn lookups(&self) -> usize {
        Self::LOOKUPS * !self.no_rescale as usize
            + self.functions as usize
            + self.requant as usize * crate::circuit::chips::requant::RequantConfig::LOOKUPS
            + self.threshold as usize * self.threshold_limbs().lookups()
            + self.extra_banks()
            + self.packed_input as usize * crate::circuit::chips::pack::TablePackConfig::LOOKUPS
            + self.table_sums as usize
    }

    /// The limbs of threshold rows.
    pub fn threshold_limbs(&self) -> crate::circuit::chips::threshold::ThresholdLimbs {
        use crate::circuit::chips::threshold::ThresholdLimbs;
        let (w, c, f) = (
            self.wide_thresholds,
            self.chunked_thresholds,
            self.fitted_thresholds,
        );
        // `is_valid` refuses fitted without chunked; such a shape is never configured.
        ThresholdLimbs::from_flags(w, c, f).unwrap_or(ThresholdLimbs::Narrow)
    }

    /// The same shape with threshold rows' limbs `limbs`.
    pub fn with_threshold_limbs(
        self,
        limbs: crate::circuit::chips::threshold::ThresholdLimbs,
    ) -> Self {
        let (wide_thresholds, chunked_thresholds, fitted_thresholds) = limbs.flags();
        CircuitShape {
            wide_thresholds,
            chunked_thresholds,
            fitted_thresholds,
            ..self
        }
    }

    /// Threshold table banks past the first: a lookup argument each, and four table columns and
    /// a selector column each.
    fn extra_banks(&self) -> usize {
        self.threshold as usize * self.threshold_banks.saturating_sub(1)
    }

    /// Advice weight columns (hashed weights), `W * P` or none.
    fn hidden_columns(&self) -> usize {
        self.hidden_weights as usize * self.width * self.inputs_per_row
    }

    /// Poseidon chips: none without hashing, else one or two.
    pub fn hash_chips(&self) -> usize {
        self.hashing as usize * (1 + self.second_hash_chip as usize)
    }

    /// Advice columns: `P` inputs, `W` accumulators, six per Poseidon chip (state and squares), and
    /// `W * P` hidden weight columns.
    pub fn advice_columns(&self) -> usize {
        self.inputs_per_row + self.width + 6 * self.hash_chips() + self.hidden_columns()
    }

    /// Equality-enabled columns (the permutation argument): inputs and the instance columns, and the
    /// Poseidon chips' three state columns.
    pub fn equality_columns(&self) -> usize {
        self.inputs_per_row + self.instance_columns + 3 * self.hash_chips() + self.hidden_columns()
    }

    /// Fixed columns: weights, chain, two table columns, and (after halo2's selector compression) about
    /// two selector columns; per Poseidon chip three round-constant columns and (compressed) about
    /// two selector columns, and one constants column.
    pub fn fixed_columns(&self) -> usize {
        self.width * self.inputs_per_row
            + 5
            + 5 * self.hash_chips()
            + self.hashing as usize
            + self.hidden_weights as usize
            + self.threshold as usize * self.threshold_limbs().table_columns()
            + 5 * self.extra_banks()
    }

    /// Whether `configure` accepts the shape: sizes within bounds and the optional chips'
    /// prerequisites met.
    pub fn is_valid(&self) -> bool {
        (MIN_WIDTH..=64).contains(&self.width)
            && (1..=16).contains(&self.inputs_per_row)
            && self.width * self.inputs_per_row >= 6
            && (2..=14).contains(&self.limb_bits)
            && (1..=60).contains(&self.weight_offset_bits)
            && (1..=60).contains(&self.bias_offset_bits)
            && (!self.hashing || self.inputs_per_row >= 2)
            && (!self.hidden_weights || self.hashing)
            && (!self.second_hash_chip || self.hashing)
            && (!self.products || self.inputs_per_row >= 2)
            && (!self.requant
                || (self.limb_bits == crate::qgraph::requant::REQUANT_LIMB_BITS
                    && self.width + self.inputs_per_row >= 15
                    && self.width * self.inputs_per_row >= 8))
            && (!self.threshold
                || (self.limb_bits == crate::qgraph::requant::REQUANT_LIMB_BITS
                    && self.width + self.inputs_per_row >= 2 + self.threshold_limbs().cells()))
            && (!self.wide_thresholds || self.threshold)
            && (!self.chunked_thresholds || self.threshold)
            && (!self.fitted_thresholds || self.chunked_thresholds)
            && (!self.table_sums
                || (self.functions
                    && self.threshold
                    && crate::circuit::chips::table_sum::TableSumConfig::fits(
                        self.inputs_per_row,
                        self.width,
                        self.threshold_limbs(),
                    )))
            && (!self.no_rescale || !(self.requant || self.hashing))
            && (!self.packed_input || self.inputs_per_row >= 2)
            && (1..=MAX_INSTANCE_COLUMNS).contains(&self.instance_columns)
            && (1..=crate::circuit::chips::threshold_table::MAX_THRESHOLD_BANKS)
                .contains(&self.threshold_banks)
            && (self.threshold_banks == 1 || self.threshold)
    }
}

thread_local! {
    pub(super) static SHAPE: StdCell<Option<CircuitShape>> = const { StdCell::new(None) };
}

/// Run `f` with `shape` as the shape every `InferenceCircuit::configure` on this thread uses.
pub fn with_shape<R>(shape: CircuitShape, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<CircuitShape>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SHAPE.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SHAPE.with(|s| s.replace(Some(shape))));
    f()
}

#[cfg(test)]
mod tests {
    use super::{CircuitShape, MAX_INSTANCE_COLUMNS};

    #[test]
    fn a_shape_written_before_window_tiles_reads_as_without_them_and_keeps_its_bytes() {
        let old = CircuitShape::default();
        let json = serde_json::to_string(&old).unwrap();
        assert!(!json.contains("window_tiles"), "{json}");
        let read: CircuitShape = serde_json::from_str(&json).unwrap();
        assert!(!read.window_tiles);
        let new = CircuitShape {
            window_tiles: true,
            ..old
        };
        let json = serde_json::to_string(&new).unwrap();
        assert!(json.contains("\"window_tiles\":true"), "{json}");
        assert_eq!(serde_json::from_str::<CircuitShape>(&json).unwrap(), new);
    }

    #[test]
    fn a_shape_written_before_threshold_banks_has_one_and_keeps_its_bytes() {
        let old = CircuitShape {
            threshold: true,
            limb_bits: 12,
            width: 12,
            ..CircuitShape::default()
        };
        assert!(old.is_valid());
        let json = serde_json::to_string(&old).unwrap();
        assert!(!json.contains("threshold_banks"), "{json}");
        let read: CircuitShape = serde_json::from_str(&json).unwrap();
        assert_eq!(read.threshold_banks, 1);
        let new = CircuitShape {
            threshold_banks: 3,
            ..old
        };
        assert!(new.is_valid());
        let json = serde_json::to_string(&new).unwrap();
        assert!(json.contains("\"threshold_banks\":3"), "{json}");
        assert_eq!(serde_json::from_str::<CircuitShape>(&json).unwrap(), new);
        assert_eq!(new.lookups(), old.lookups() + 2);
        assert_eq!(new.fixed_columns(), old.fixed_columns() + 10);
        let unbanked = CircuitShape {
            threshold: false,
            ..new
        };
        assert!(!unbanked.is_valid(), "banks without threshold rows");
        for banks in [0, 9] {
            assert!(!CircuitShape {
                threshold_banks: banks,
                ..old
            }
            .is_valid());
        }
    }

    #[test]
    fn a_shape_written_before_instance_columns_has_one_and_keeps_its_bytes() {
        let old = CircuitShape::default();
        let json = serde_json::to_string(&old).unwrap();
        assert!(!json.contains("instance_columns"), "{json}");
        assert_eq!(
            serde_json::from_str::<CircuitShape>(&json)
                .unwrap()
                .instance_columns,
            1
        );
        let new = CircuitShape {
            instance_columns: 4,
            ..old
        };
        let json = serde_json::to_string(&new).unwrap();
        assert!(json.contains("\"instance_columns\":4"), "{json}");
        assert_eq!(serde_json::from_str::<CircuitShape>(&json).unwrap(), new);
        assert_eq!(new.equality_columns(), old.equality_columns() + 3);
        for c in [0, MAX_INSTANCE_COLUMNS + 1] {
            assert!(
                !CircuitShape {
                    instance_columns: c,
                    ..old
                }
                .is_valid(),
                "{c}"
            );
        }
    }
}
