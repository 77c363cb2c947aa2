//! Why synthesis stopped. halo2's `Error::Synthesis` carries no reason, so the circuit records a
//! typed one here before returning it, and [`crate::proof::prove`] reports it.

use std::sync::Mutex;

use halo2_proofs::plonk::Error;

/// A reason the witness does not fit the circuit (a bug or a file the checks let through, never a
/// user's input: the reference evaluator refuses those first, naming the layer).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SynthesisFailure {
    /// The circuit's range table and the model disagree on the limb bits.
    #[error("the circuit's table has {table}-bit limbs, the model {model}-bit ones")]
    LimbBits {
        /// The configured table's limb bits.
        table: u32,
        /// The model's limb bits.
        model: u32,
    },
    /// A stage reads a tensor no earlier stage made.
    #[error("a stage reads tensor {0} before it is made")]
    MissingTensor(usize),
    /// A stage's inputs do not have the elements its blocks expect.
    #[error("stage '{stage}' expects {expected} input elements, found {found}")]
    InputCount {
        /// The stage's name.
        stage: String,
        /// Elements its blocks read.
        expected: usize,
        /// Elements its input tensors hold.
        found: usize,
    },
    /// A block reads a workspace slot no block wrote.
    #[error("stage '{0}' reads a value no row made")]
    UnsetSlot(String),
    /// A product or table-sum block without exactly two inputs.
    #[error("a product or table sum of other than two inputs")]
    ProductArity,
    /// The model needs rows the circuit's shape did not configure.
    #[error("the circuit has no {0} rows")]
    MissingChip(&'static str),
    /// Threshold rows with one limb per difference, in a graph whose threshold maps' accumulators
    /// cannot be bounded, or whose pieces no circuit holds (their table is not built).
    #[error(
        "chunked threshold rows need the accumulators of every threshold map bounded, in at most \
         2^20 pieces"
    )]
    UnboundedThresholds,
    /// The threshold table comes in another number of banks than the circuit has.
    #[error("threshold table: the circuit has {circuit} bank(s), the table {table}")]
    ThresholdBanks {
        /// Banks of the circuit.
        circuit: usize,
        /// Banks of the table.
        table: usize,
    },
    /// A threshold row names a bank past the circuit's last.
    #[error("a threshold row looks up bank {bank}, the circuit has {circuit} bank(s)")]
    ThresholdBank {
        /// The bank the row names (from 0).
        bank: usize,
        /// Banks of the circuit.
        circuit: usize,
    },
    /// A function row's input is not in the function table.
    #[error("function table {tag} has no entry for {x}")]
    FunctionValue {
        /// The table's tag.
        tag: i64,
        /// The input.
        x: i64,
    },
    /// A requantized accumulator leaves the range the requant row's limbs hold.
    #[error("accumulator {0} is out of the requantization's range")]
    Requant(i64),
    /// The output is the graph input itself, not a cell of the circuit.
    #[error("the output is not a cell of the circuit")]
    OutputNotCell,
    /// A model parameter (hashed weights) is missing its canonical cell.
    #[error("hashed parameter {0} has no cell")]
    MissingParameter(usize),
    /// A salted input's hash without its salt.
    #[error("the input's hash is salted, but no salt was given")]
    MissingSalt,
    /// A packed value without its witness.
    #[error("a packed value has no witness")]
    MissingValue,
}

static LAST: Mutex<Option<SynthesisFailure>> = Mutex::new(None);

/// Record why synthesis stops; returns halo2's error to return.
pub fn fail(why: SynthesisFailure) -> Error {
    if let Ok(mut last) = LAST.lock() {
        *last = Some(why);
    }
    Error::Synthesis
}

/// The reason recorded by the last [`fail`], taken.
pub fn take() -> Option<SynthesisFailure> {
    LAST.lock().ok().and_then(|mut last| last.take())
}
